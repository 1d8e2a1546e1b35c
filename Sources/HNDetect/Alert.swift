import HNDecode

/// One rule match that produced an alert: the packet's tuple as it travelled (Suricata's
/// alert src/dest are the packet's), the rule, and the packet number in the capture.
public struct Alert: Sendable {
    public var ruleIndex: Int
    public var timestamp: Int64
    public var packetNumber: UInt64
    public var source: IPAddress
    public var destination: IPAddress
    public var sourcePort: UInt16
    public var destinationPort: UInt16
    public var ipProto: UInt8
    public var toServer: Bool
    /// "allowed", or "blocked" for drop/reject rules when IPS is simulated.
    public var blocked: Bool
}

/// Detection counters, declared together.
public struct DetectStats: Sendable {
    public var packetsInspected: UInt64 = 0
    public var prefilterScans: UInt64 = 0
    public var candidates: UInt64 = 0
    public var rulesEvaluated: UInt64 = 0
    public var matches: UInt64 = 0
    public var alerts: UInt64 = 0
    public var suppressed: UInt64 = 0
    public var thresholded: UInt64 = 0
    public var pcreLimitHits: UInt64 = 0
    public var recursionLimitHits: UInt64 = 0
    public var passed: UInt64 = 0
    public var dropped: UInt64 = 0
    public init() {}
}

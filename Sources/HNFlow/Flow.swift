import HNDecode

/// One tracked bidirectional flow. A plain struct stored inline in the flow table's slab:
/// the key, counters and state, with no references (about 160 bytes).
public struct Flow: Sendable {
    /// The client side: the source of the first packet (or the destination of a first SYN-ACK).
    public var client = IPAddress.zero
    public var server = IPAddress.zero
    public var clientPort: UInt16 = 0
    public var serverPort: UInt16 = 0
    public var proto: UInt8 = 0
    public var ipVersion: UInt8 = 0
    public var vlanCount: UInt8 = 0
    public var segment: UInt16 = 0
    public var vlan0: UInt16 = 0
    public var vlan1: UInt16 = 0

    /// Stable identifier written as EVE `flow_id` (deterministic: a hash of key and start).
    public var id: UInt64 = 0
    public var start: Int64 = 0
    public var last: Int64 = 0
    public var packetsToServer: UInt64 = 0
    public var packetsToClient: UInt64 = 0
    public var bytesToServer: UInt64 = 0
    public var bytesToClient: UInt64 = 0

    public var state = FlowState.new
    public var tcpState = TCPState.none
    public var tcpFlagsToServer: UInt8 = 0
    public var tcpFlagsToClient: UInt8 = 0
    /// The connection ended with a RST.
    public var reset = false
    /// True when the flow was picked up without seeing its TCP handshake.
    public var midstream = false
    /// The flow began with a DNS response (its first packet went server to client), so its
    /// orientation was reversed from that packet's, as Suricata's protocol detection does.
    public var startedWithResponse = false
    public var icmpType: UInt8 = 0
    public var icmpCode: UInt8 = 0
    public var responseICMPType: UInt8 = 0
    public var responseICMPCode: UInt8 = 0
    public var hasResponseICMP = false
    /// Set by detection when an alert fired on this flow.
    public var alerted = false
    /// Set by detection: a pass rule passed the flow, or a drop rule dropped it (EVE
    /// `flow.action`).
    public var action = FlowAction.none
    /// Application protocol, set by protocol detection (0 = unknown).
    public var appProto: UInt8 = 0
    /// The protocol the flow started as when it changed on the way (SMTP, FTP, IMAP or POP3
    /// upgraded to TLS, an HTTP CONNECT tunnel): EVE's `app_proto_orig`. 0 = no change.
    public var appProtoOrig: UInt8 = 0
    /// The protocol the server's side was recognised as, when it differs from `appProto`
    /// (EVE's `app_proto_tc`: an SMTP greeting answered with a TLS ClientHello). 0 = same.
    public var appProtoToClient: UInt8 = 0
    /// Tunnel layers around the flow's packets (0: none): the same tuple inside and outside
    /// a tunnel is two flows, as Suricata keys them by recursion level.
    public var tunnelDepth: UInt8 = 0

    // Timer wheel links (slab index + 1, 0 = none) and the second the flow is filed under.
    // (Ordered so the small fields pack: the record stays 144 bytes.)
    @usableFromInline var inUse = false
    @usableFromInline var wheelNext: UInt32 = 0
    @usableFromInline var wheelPrev: UInt32 = 0
    /// The flow's position in the table's slab, stable while it lives: per-flow state of
    /// later stages (streams, parsers) is kept in arrays at this index, not in dictionaries.
    public internal(set) var slot: UInt32 = 0
    @usableFromInline var wheelSecond: Int64 = 0

    public init() {}

    public var tcpFlags: UInt8 { tcpFlagsToServer | tcpFlagsToClient }

    /// The second of the timer wheel the flow is filed under (set when it times out).
    public var wheelSlot: Int64 { wheelSecond }
}

/// What detection decided for a whole flow.
public enum FlowAction: UInt8, Sendable {
    case none = 0
    /// A pass rule matched: the flow is not inspected further.
    case pass = 1
    /// A drop rule matched (IPS mode, or simulated).
    case drop = 2

    /// The EVE `flow.action` value, nil for none.
    public var name: String? {
        switch self {
        case .none: nil
        case .pass: "pass"
        case .drop: "drop"
        }
    }
}

import HNDecode

/// Where an alert came from: a signature, an indicator of compromise, or an anomaly detector.
public enum AlertOrigin: Sendable, Equatable {
    case signature
    /// An indicator hit: the indicator's source (feed or file name).
    case indicator(source: String)
    /// A behaviour detector, by name ("port-scan", "brute-force", …).
    case detector(name: String)

    public var kind: String {
        switch self {
        case .signature: return "signature"
        case .indicator: return "indicator"
        case .detector: return "detector"
        }
    }
}

/// A flow's traffic tags, as Suricata logs them (EVE `traffic: {id: […], label: […]}`): the
/// names of the flowbits set on it that start with `traffic/id/` and `traffic/label/`.
public struct TrafficTags: Sendable, Equatable {
    public var ids: [String]
    public var labels: [String]
    public init(ids: [String], labels: [String]) {
        self.ids = ids
        self.labels = labels
    }
}

/// An alert as everything after detection sees it (EVE writer, correlator, store), whatever
/// produced it: the tuple as the packet travelled and the resolved signature fields. Built
/// once per alert, never per packet.
public struct SecurityAlert: Sendable {
    public var timestamp: Int64
    public var packetNumber: UInt64?
    public var flowID: UInt64?
    public var segment: UInt16
    public var source: IPAddress
    public var destination: IPAddress
    public var sourcePort: UInt16
    public var destinationPort: UInt16
    public var ipProto: UInt8
    public var appProto: String?
    /// nil when the alert is not about one flow direction (a detector's verdict on a host).
    public var toServer: Bool?
    public var blocked = false
    public var gid: UInt32 = 1
    public var sid: UInt32
    public var rev: UInt32 = 1
    public var signature: String
    public var classtype: String
    /// The classtype's description (EVE `alert.category`).
    public var category: String
    /// 1 (highest) to 4.
    public var severity: Int
    public var metadata: [(String, [String])] = []
    /// "src_ip" or "dest_ip" when the rule names its target (`target:` keyword).
    public var target: String? = nil
    public var origin: AlertOrigin = .signature
    /// The start of the packet payload kept as evidence (credentials redacted), only when the
    /// store keeps excerpts; encrypted before it is written.
    public var excerpt: [UInt8]? = nil
    /// The whole alerting packet and its link type, kept only when EVE logs packets
    /// (`alert: {packet: yes}`).
    public var packet: [UInt8]? = nil
    public var linkType: Int32 = 0
    /// The alerting packet's Ethernet addresses, kept only when EVE logs them (0: none).
    public var sourceMAC: UInt64 = 0
    public var destinationMAC: UInt64 = 0
    /// The encapsulation the alerting packet came in (EVE `tunnel`, `pkt_src`), if any.
    public var tunnel: Tunnel? = nil
    /// A TCP alert matched on reassembled stream bytes or a transaction's state (EVE
    /// `stream: 1` with payload logging), not on the packet alone.
    public var streamMatch = false
    /// The flow's traffic tags (EVE `traffic`), if its flowbits name any.
    public var traffic: TrafficTags? = nil

    /// The outer header of a tunnelled packet.
    public struct Tunnel: Sendable, Equatable {
        public var source: IPAddress
        public var destination: IPAddress
        /// The outer header's protocol (4 IP-in-IP, 41 IPv6, 47 GRE, …) and IP version.
        public var proto: UInt8
        public var version: UInt8
        public var depth: UInt8
        public init(source: IPAddress, destination: IPAddress, proto: UInt8, version: UInt8, depth: UInt8) {
            self.source = source
            self.destination = destination
            self.proto = proto
            self.version = version
            self.depth = depth
        }
    }

    public init(timestamp: Int64, packetNumber: UInt64?, flowID: UInt64?, segment: UInt16, source: IPAddress, destination: IPAddress,
                sourcePort: UInt16, destinationPort: UInt16, ipProto: UInt8, appProto: String?, toServer: Bool?, sid: UInt32,
                signature: String, classtype: String, category: String, severity: Int) {
        self.timestamp = timestamp
        self.packetNumber = packetNumber
        self.flowID = flowID
        self.segment = segment
        self.source = source
        self.destination = destination
        self.sourcePort = sourcePort
        self.destinationPort = destinationPort
        self.ipProto = ipProto
        self.appProto = appProto
        self.toServer = toServer
        self.sid = sid
        self.signature = signature
        self.classtype = classtype
        self.category = category
        self.severity = severity
    }

    /// The metadata values under a key.
    public func metadata(_ key: String) -> [String] { metadata.first { $0.0 == key }?.1 ?? [] }
}

import HNAppLayer
import HNDecode

/// What a matching rule does (Suricata's actions; drop and reject are logged as alerts with
/// their action, since hnsensor is passive).
public enum RuleAction: String, Sendable, CaseIterable {
    case alert, drop, reject, rejectsrc, rejectdst, rejectboth, pass
}

/// A rule's protocol field: an IP-level protocol, or an application protocol (which also
/// requires the flow's detected `app_proto`).
public struct RuleProtocol: Sendable, Equatable {
    /// IP protocol number to require, or nil for `ip` (any).
    public var ipProto: UInt8?
    /// Also accept this transport (`dns` runs on UDP and TCP).
    public var alternateIPProto: UInt8?
    /// Application protocol name the flow must have, or nil.
    public var appProto: String?
    public var name: String

    static func named(_ name: String) -> RuleProtocol? {
        switch name {
        case "ip", "pkthdr": return .init(ipProto: nil, alternateIPProto: nil, appProto: nil, name: name)
        case "tcp", "tcp-pkt", "tcp-stream": return .init(ipProto: IPProto.tcp, alternateIPProto: nil, appProto: nil, name: name)
        case "udp": return .init(ipProto: IPProto.udp, alternateIPProto: nil, appProto: nil, name: name)
        case "icmp": return .init(ipProto: IPProto.icmp, alternateIPProto: IPProto.icmpv6, appProto: nil, name: name)
        case "icmpv4": return .init(ipProto: IPProto.icmp, alternateIPProto: nil, appProto: nil, name: name)
        case "icmpv6": return .init(ipProto: IPProto.icmpv6, alternateIPProto: nil, appProto: nil, name: name)
        case "sctp": return .init(ipProto: IPProto.sctp, alternateIPProto: nil, appProto: nil, name: name)
        case "dns", "dnp3-udp": return .init(ipProto: IPProto.udp, alternateIPProto: IPProto.tcp, appProto: name, name: name)
        case "http", "http1", "tls", "ssl", "ssh", "smtp", "ftp", "ftp-data", "smb", "rdp", "dcerpc", "imap",
             "pop3", "modbus", "dnp3", "enip", "nfs", "krb5", "ntp", "dhcp", "snmp", "sip", "tftp", "ikev2",
             "mqtt", "rfb", "http2", "telnet", "irc", "bittorrent-dht", "quic":
            let app = name == "ssl" ? "tls" : name == "http1" ? "http" : name
            let udpOnly = ["ntp", "dhcp", "snmp", "tftp", "ikev2", "quic", "bittorrent-dht"].contains(name)
            let either = ["krb5", "nfs", "sip", "dcerpc", "enip"].contains(name)
            return .init(ipProto: udpOnly ? IPProto.udp : IPProto.tcp, alternateIPProto: either ? IPProto.udp : nil, appProto: app, name: name)
        default: return nil
        }
    }

    @inlinable
    func matchesTransport(_ proto: UInt8) -> Bool {
        guard let ipProto else { return true }
        return proto == ipProto || proto == alternateIPProto
    }
}

/// `flow:` options.
public struct FlowOptions: Sendable, Equatable {
    public var established = false
    public var notEstablished = false
    public var toServer = false
    public var toClient = false
    public var stateless = false
    public var onlyStream = false
    public var noStream = false
    public var onlyFragment = false
    public var noFragment = false
}

/// One inspected item of a buffer, in rule order (relative items refer to the one before).
public enum MatchItem: Sendable {
    case content(ContentMatch)
    case pcre(PCREMatch)
    case byteTest(ByteTest)
    case byteJump(ByteJump)
    case isDataAt(IsDataAt)
    case size(SizeCheck)

    var isRelative: Bool {
        switch self {
        case .content(let c): c.isRelative
        case .pcre(let p): p.relative
        case .byteTest(let b): b.relative
        case .byteJump(let b): b.relative
        case .isDataAt(let i): i.relative
        case .size: false
        }
    }
}

/// The items a rule inspects in one buffer, in rule order.
public struct BufferMatch: Sendable {
    public var buffer: InspectionBuffer
    public var items: [MatchItem]
    /// The `dotprefix` transform: the buffer is inspected with a "." in front.
    public var dotPrefix = false
}

/// A parsed rule.
public struct Rule: Sendable {
    public var action = RuleAction.alert
    public var proto = RuleProtocol(ipProto: nil, alternateIPProto: nil, appProto: nil, name: "ip")
    public var source = AddressMatcher.any
    public var sourcePorts = PortMatcher.any
    public var destination = AddressMatcher.any
    public var destinationPorts = PortMatcher.any
    public var bidirectional = false

    public var gid: UInt32 = 1
    public var sid: UInt32 = 0
    public var rev: UInt32 = 0
    public var message = ""
    public var classtype: String? = nil
    public var priority: Int? = nil
    public var references: [String] = []
    /// `metadata:` pairs in rule order (key, value).
    public var metadata: [(String, String)] = []
    public var target: String? = nil

    public var flow: FlowOptions? = nil
    public var flowbits: [FlowbitOperation] = []
    public var xbits: [XbitOperation] = []
    public var flowints: [FlowintOperation] = []
    public var noalert = false
    public var packetChecks: [PacketCheck] = []
    public var appChecks: [AppCheck] = []
    /// Buffers and their items, in the order the rule names them.
    public var buffers: [BufferMatch] = []
    public var threshold: ThresholdSpec? = nil
    public var detectionFilter: ThresholdSpec? = nil
    /// Keywords accepted for compatibility that change no alert (`tag`, `rawbytes`, …).
    public var ignoredKeywords: [String] = []

    public var file = ""
    public var line = 0
    public var text = ""

    public init() {}

    /// The content chosen for the prefilter: the one marked `fast_pattern`, else the longest
    /// positive content of the rule (Suricata's choice), with its buffer.
    public var fastPattern: (buffer: InspectionBuffer, content: ContentMatch)? {
        var best: (InspectionBuffer, ContentMatch)? = nil
        for b in buffers where !b.dotPrefix {
            for case .content(let c) in b.items where !c.negated {
                if c.fastPattern { return (b.buffer, c) }
                if best == nil || c.pattern.count > best!.1.pattern.count { best = (b.buffer, c) }
            }
        }
        return best
    }

    /// Flowbit names this rule sets (for ordering setters before checkers).
    var setsFlowbits: Bool { flowbits.contains { $0.kind == .set || $0.kind == .unset || $0.kind == .toggle } }
    var readsFlowbits: Bool { flowbits.contains { $0.kind == .isSet || $0.kind == .isNotSet } }
}

/// An error in a rule: where it is and what is wrong.
public struct RuleError: Error, Sendable, CustomStringConvertible {
    public var file: String
    public var line: Int
    public var column: Int
    /// The keyword at fault, when there is one.
    public var keyword: String?
    public var message: String
    public var unsupported = false

    public var description: String { "\(file):\(line):\(column): \(message)" }
}

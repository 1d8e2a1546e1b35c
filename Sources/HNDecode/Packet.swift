/// Link types hnsensor decodes, by their libpcap DLT values.
public enum LinkType {
    public static let null: Int32 = 0
    public static let ethernet: Int32 = 1
    public static let rawOpenBSD: Int32 = 14
    public static let raw: Int32 = 12
    public static let loop: Int32 = 108
    public static let linuxSLL: Int32 = 113
    public static let linktypeRaw: Int32 = 101
    public static let ipv4: Int32 = 228
    public static let ipv6: Int32 = 229
    public static let linuxSLL2: Int32 = 276
    public static let ciscoHDLC: Int32 = 104

    public static func isSupported(_ type: Int32) -> Bool {
        switch type {
        case null, ethernet, raw, rawOpenBSD, loop, linuxSLL, linktypeRaw, ipv4, ipv6, linuxSLL2, ciscoHDLC: true
        default: false
        }
    }
}

/// IP protocol numbers the decoders know.
public enum IPProto {
    public static let hopByHop: UInt8 = 0
    public static let icmp: UInt8 = 1
    public static let ipip: UInt8 = 4
    public static let tcp: UInt8 = 6
    public static let udp: UInt8 = 17
    public static let ipv6: UInt8 = 41
    public static let routing: UInt8 = 43
    public static let fragment: UInt8 = 44
    public static let gre: UInt8 = 47
    public static let esp: UInt8 = 50
    public static let ah: UInt8 = 51
    public static let icmpv6: UInt8 = 58
    public static let noNext: UInt8 = 59
    public static let destinationOptions: UInt8 = 60
    public static let sctp: UInt8 = 132
    public static let mobility: UInt8 = 135

    /// Whether the protocol has ports (TCP, UDP, SCTP): flows and EVE use them.
    @inline(__always)
    public static func hasPorts(_ proto: UInt8) -> Bool { proto == tcp || proto == udp || proto == sctp }

    /// ICMP for IPv4 or IPv6.
    @inline(__always)
    public static func isICMP(_ proto: UInt8) -> Bool { proto == icmp || proto == icmpv6 }

    /// The protocol name as Suricata's EVE writes it in `proto`.
    public static func name(_ proto: UInt8) -> String {
        switch proto {
        case tcp: "TCP"
        case udp: "UDP"
        case icmp: "ICMP"
        case icmpv6: "IPv6-ICMP"
        case gre: "GRE"
        case esp: "ESP"
        case ah: "AH"
        case sctp: "SCTP"
        case ipip: "IP-in-IP"
        case ipv6: "IPv6"
        case 2: "IGMP"
        case 89: "OSPF"
        case 103: "PIM"
        case 112: "VRRP"
        case 115: "L2TP"
        default: "\(proto)"
        }
    }
}

/// TCP header flag bits.
public enum TCPFlags {
    public static let fin: UInt8 = 0x01
    public static let syn: UInt8 = 0x02
    public static let rst: UInt8 = 0x04
    public static let psh: UInt8 = 0x08
    public static let ack: UInt8 = 0x10
    public static let urg: UInt8 = 0x20
    public static let ece: UInt8 = 0x40
    public static let cwr: UInt8 = 0x80
}

/// The decoded description of one packet: layer fields and a view of the payload, without a
/// copy. One value is reused for every packet; `reset` clears it in place.
public struct Packet {
    /// Capture time in nanoseconds since the Unix epoch (from the capture, never the clock).
    public var timestamp: Int64 = 0
    /// Bytes captured (what the flow byte counters add, as Suricata does).
    public var captureLength: Int = 0
    /// Bytes on the wire.
    public var wireLength: Int = 0
    public var linkType: Int32 = 0
    /// Index of the segment the packet was captured on (0 in replay).
    public var segment: UInt16 = 0
    /// Ethernet addresses (48 bits each; 0 on other link types).
    public var sourceMAC: UInt64 = 0
    public var destinationMAC: UInt64 = 0

    public var vlanCount: UInt8 = 0
    public var vlan0: UInt16 = 0
    public var vlan1: UInt16 = 0

    /// 4, 6, or 0 when the packet carries no IP (ARP and other link-only frames).
    public var ipVersion: UInt8 = 0
    public var source = IPAddress.zero
    public var destination = IPAddress.zero
    /// The transport protocol of the innermost IP layer.
    public var ipProto: UInt8 = 0
    public var ttl: UInt8 = 0
    public var ipID: UInt32 = 0
    /// IPv4 flag bits (0x80 reserved, 0x40 don't fragment, 0x20 more fragments).
    public var ipFlags: UInt8 = 0
    /// Length of the innermost IP datagram (header and payload).
    public var ipLength: Int = 0
    /// True when the transport layer came out of fragment reassembly.
    public var reassembled = false
    /// True when the packet is an IP fragment held for reassembly (no transport layer yet).
    public var isFragment = false
    /// Number of tunnel layers (IP-in-IP, GRE) around the innermost IP layer.
    public var tunnelDepth: UInt8 = 0
    /// The outermost IP layer of a tunnelled packet: its addresses and the tunnel protocol
    /// (4, 41, 47), so the tunnel itself is tracked as a flow, as Suricata does.
    public var outerSource = IPAddress.zero
    public var outerDestination = IPAddress.zero
    public var outerProto: UInt8 = 0
    public var outerVersion: UInt8 = 0

    public var sourcePort: UInt16 = 0
    public var destinationPort: UInt16 = 0
    /// True when the transport header was decoded (ports or ICMP type are valid).
    public var hasTransport = false

    public var tcpFlags: UInt8 = 0
    public var tcpSeq: UInt32 = 0
    public var tcpAck: UInt32 = 0
    public var tcpWindow: UInt16 = 0
    public var tcpHeaderLength: UInt8 = 0
    public var tcpMSS: UInt16 = 0
    /// Window scale shift, or 0xFF when the option is absent.
    public var tcpWindowScale: UInt8 = 0xFF
    public var tcpSACKPermitted = false
    public var tcpSACKBlocks: UInt8 = 0
    public var tcpHasTimestamp = false
    public var tcpTSval: UInt32 = 0
    public var tcpTSecr: UInt32 = 0

    public var icmpType: UInt8 = 0
    public var icmpCode: UInt8 = 0
    /// Identifier and sequence of ICMP echo messages (bytes 4–7 of the ICMP header).
    public var icmpID: UInt16 = 0
    public var icmpSeq: UInt16 = 0
    public var espSPI: UInt32 = 0

    /// The transport payload (TCP/UDP data, ICMP body). Valid while the packet is processed.
    public var payload = ByteView.empty

    public init() {}

    /// Clears the per-packet fields in place before the next decode.
    @inlinable
    public mutating func reset() {
        self = Packet()
    }
}

/// What the decoder made of a packet. Every packet read gets exactly one verdict, so
/// `decoded + rejected == packets` always holds in the counters.
public enum DecodeVerdict: Equatable {
    /// Fully decoded; `Packet` describes it (it may carry no IP, as ARP does).
    case decoded
    /// Dropped by the decoder for the given reason.
    case rejected(DecodeEvent)
}

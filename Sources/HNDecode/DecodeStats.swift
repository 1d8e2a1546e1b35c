/// Decoder counters, declared together (one table, as snort3's peg counts are). Updated on
/// every packet without allocation; read by the stats output.
public struct DecodeStats: Sendable {
    public var packets: UInt64 = 0
    public var bytes: UInt64 = 0
    /// Packets the decoder accepted (possibly link-only, such as ARP).
    public var decoded: UInt64 = 0
    /// Packets the decoder dropped; each also counts one reject reason in `events`.
    public var rejected: UInt64 = 0

    public var ethernet: UInt64 = 0
    public var vlan: UInt64 = 0
    public var sll: UInt64 = 0
    public var sll2: UInt64 = 0
    public var null: UInt64 = 0
    public var raw: UInt64 = 0
    public var nsh: UInt64 = 0
    public var chdlc: UInt64 = 0
    /// Frames with no IP layer (ARP, LLDP, 802.2 and other ethertypes).
    public var nonIP: UInt64 = 0
    public var ipv4: UInt64 = 0
    public var ipv6: UInt64 = 0
    public var tcp: UInt64 = 0
    public var udp: UInt64 = 0
    public var sctp: UInt64 = 0
    public var icmpv4: UInt64 = 0
    public var icmpv6: UInt64 = 0
    public var gre: UInt64 = 0
    public var ipip: UInt64 = 0
    public var ipv6InIP: UInt64 = 0
    public var esp: UInt64 = 0
    public var ah: UInt64 = 0
    /// IP packets whose transport protocol has no decoder here (OSPF, VRRP, …).
    public var otherIPProto: UInt64 = 0
    public var ipv4Fragments: UInt64 = 0
    public var ipv6Fragments: UInt64 = 0
    /// Datagrams completed by fragment reassembly.
    public var reassembled: UInt64 = 0
    /// Datagrams abandoned by fragment reassembly at their timeout.
    public var defragTimeouts: UInt64 = 0

    /// One counter per `DecodeEvent`, indexed by `DecodeEvent.slot`.
    public var events = [UInt64](repeating: 0, count: DecodeEvent.allCases.count)

    public init() {}

    public subscript(event: DecodeEvent) -> UInt64 { events[event.slot] }

    @inlinable
    public mutating func record(_ event: DecodeEvent) {
        events[event.slot] &+= 1
    }

    /// Adds another worker's counters to these.
    public mutating func add(_ other: DecodeStats) {
        packets += other.packets; bytes += other.bytes
        decoded += other.decoded; rejected += other.rejected
        ethernet += other.ethernet; vlan += other.vlan; sll += other.sll; sll2 += other.sll2
        null += other.null; raw += other.raw; nsh += other.nsh; chdlc += other.chdlc; nonIP += other.nonIP
        ipv4 += other.ipv4; ipv6 += other.ipv6; tcp += other.tcp; udp += other.udp
        sctp += other.sctp; icmpv4 += other.icmpv4; icmpv6 += other.icmpv6; gre += other.gre
        ipip += other.ipip; ipv6InIP += other.ipv6InIP; esp += other.esp; ah += other.ah
        otherIPProto += other.otherIPProto
        ipv4Fragments += other.ipv4Fragments; ipv6Fragments += other.ipv6Fragments
        reassembled += other.reassembled; defragTimeouts += other.defragTimeouts
        for i in events.indices { events[i] += other.events[i] }
    }
}

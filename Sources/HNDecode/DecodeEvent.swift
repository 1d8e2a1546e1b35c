/// Everything the decoders can observe about a malformed or unusual packet. The raw value is
/// the name EVE `stats` and rules see, in Suricata's `layer.event` form: the enum is the only
/// list of names, so counters and their names cannot drift apart.
///
/// Some events reject the packet (it goes no further than the decoder); the others are
/// anomalies recorded while the packet continues. `DecodeVerdict.rejected` says which.
public enum DecodeEvent: String, CaseIterable, Sendable {
    // Link layer
    case unsupportedLinkType = "decoder.unsupported_linktype"
    case ethernetPacketTooSmall = "ethernet.pkt_too_small"
    case vlanHeaderTooSmall = "vlan.header_too_small"
    case vlanTooManyLayers = "vlan.too_many_layers"
    case sllPacketTooSmall = "sll.pkt_too_small"
    case sll2PacketTooSmall = "sll2.pkt_too_small"
    case chdlcPacketTooSmall = "chdlc.pkt_too_small"
    case nullPacketTooSmall = "null.pkt_too_small"
    case nullUnsupportedFamily = "null.unsupported_type"
    case rawInvalidIPVersion = "raw.invalid_ip_version"
    case nshPacketTooSmall = "nsh.pkt_too_small"
    case nshUnsupportedVersion = "nsh.unsupported_version"
    // IPv4
    case ipv4PacketTooSmall = "ipv4.pkt_too_small"
    case ipv4HeaderLengthTooSmall = "ipv4.hlen_too_small"
    case ipv4TotalLengthSmallerThanHeader = "ipv4.iplen_smaller_than_hlen"
    case ipv4Truncated = "ipv4.trunc_pkt"
    case ipv4WrongVersion = "ipv4.wrong_ip_version"
    case ipv4OptionInvalidLength = "ipv4.opt_invalid_len"
    case ipv4OptionMalformed = "ipv4.opt_malformed"
    case ipv4FragmentTooLarge = "ipv4.frag_pkt_too_large"
    case ipv4FragmentOverlap = "ipv4.frag_overlap"
    case ipv4FragmentInvalidLength = "ipv4.frag_invalid_length"
    // IPv6
    case ipv6PacketTooSmall = "ipv6.pkt_too_small"
    case ipv6Truncated = "ipv6.trunc_pkt"
    case ipv6TruncatedExtensionHeader = "ipv6.trunc_exthdr"
    case ipv6WrongVersion = "ipv6.wrong_ip_version"
    case ipv6DuplicateFragmentHeader = "ipv6.exthdr_dupl_fh"
    case ipv6TooManyExtensionHeaders = "ipv6.exthdr_too_many"
    case ipv6FragmentTooLarge = "ipv6.frag_pkt_too_large"
    case ipv6FragmentOverlap = "ipv6.frag_overlap"
    case ipv6FragmentInvalidLength = "ipv6.frag_invalid_length"
    // Transport
    case tcpPacketTooSmall = "tcp.pkt_too_small"
    case tcpHeaderLengthTooSmall = "tcp.hlen_too_small"
    case tcpInvalidOptionLength = "tcp.invalid_optlen"
    case tcpOptionInvalidLength = "tcp.opt_invalid_len"
    case tcpOptionDuplicate = "tcp.opt_duplicate"
    case udpPacketTooSmall = "udp.pkt_too_small"
    case udpHeaderLengthInvalid = "udp.hlen_invalid"
    case sctpPacketTooSmall = "sctp.pkt_too_small"
    case icmpv4PacketTooSmall = "icmpv4.pkt_too_small"
    case icmpv6PacketTooSmall = "icmpv6.pkt_too_small"
    // Tunnels and IPsec
    case grePacketTooSmall = "gre.pkt_too_small"
    case greWrongVersion = "gre.wrong_version"
    case greUnsupportedRouting = "gre.version0_recur"
    case greUnknownProtocol = "gre.unknown_protocol"
    case espPacketTooSmall = "esp.pkt_too_small"
    case ahPacketTooSmall = "ah.pkt_too_small"
    case tooManyLayers = "decoder.too_many_layers"
    // Fragment reassembly resources
    case defragMemcapReached = "defrag.memcap_reached"
    case defragTooManyFragments = "defrag.max_frags_reached"

    /// The counter slot of this event: its position in `allCases`. A payload-free enum is
    /// stored as its case index, which is what the bit cast reads; a test checks the two agree.
    @inlinable
    public var slot: Int { Int(unsafeBitCast(self, to: UInt8.self)) }

    /// The layer part of the name ("ipv4" of "ipv4.hlen_too_small").
    public var layer: Substring { rawValue.split(separator: ".", maxSplits: 1)[0] }

    /// The event part of the name ("hlen_too_small" of "ipv4.hlen_too_small").
    public var event: Substring { rawValue.split(separator: ".", maxSplits: 1)[1] }
}

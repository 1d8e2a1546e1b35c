/// Decodes captured frames from the link layer up to the transport layer, in place.
///
/// `decode` fills a reused `Packet` with layer fields and a payload view into the capture
/// buffer (or into the defragmenter's buffer for a reassembled datagram). It never traps and
/// never reads outside the frame: every read goes through `ByteView`, and every length field
/// carves a sub-view before anything behind it is read.
public struct Decoder {
    public var stats = DecodeStats()
    public let defragmenter: Defragmenter
    /// The frame being decoded, and for a datagram just reassembled (outside tunnels) the
    /// whole packet as Suricata logs it: the link headers, the IP header rebuilt for the
    /// whole datagram (no fragment fields or header), then its payload.
    var frameBase: UnsafeRawPointer? = nil
    public var reassembledPacket: [UInt8] = []

    /// Tunnel layers (IP-in-IP, GRE) decoded at most; deeper nesting is rejected.
    public static let maxTunnelDepth: UInt8 = 3
    /// 802.1Q/802.1ad tags accepted at most (QinQ and one more, as seen with provider bridges).
    public static let maxVLANLayers = 3
    /// IPv6 extension headers followed at most; real stacks send very few.
    public static let maxExtensionHeaders = 16

    public init(defragLimits: Defragmenter.Limits = Defragmenter.Limits()) {
        self.defragmenter = Defragmenter(limits: defragLimits)
    }

    /// Decodes one frame of the given link type. `packet.timestamp`, lengths and segment are
    /// set by the caller; everything else is reset here.
    public mutating func decode(_ frame: ByteView, linkType: Int32, into packet: inout Packet) -> DecodeVerdict {
        let timestamp = packet.timestamp, captured = packet.captureLength
        let wire = packet.wireLength, segment = packet.segment
        packet.reset()
        packet.timestamp = timestamp
        packet.captureLength = captured
        packet.wireLength = wire
        packet.segment = segment
        packet.linkType = linkType
        stats.packets &+= 1
        stats.bytes &+= UInt64(captured)
        frameBase = frame.rawBuffer.baseAddress
        if !reassembledPacket.isEmpty { reassembledPacket.removeAll(keepingCapacity: true) }
        let verdict = decodeLink(frame, linkType: linkType, &packet)
        switch verdict {
        case .decoded:
            stats.decoded &+= 1
        case .rejected(let event):
            stats.rejected &+= 1
            stats.record(event)
        }
        return verdict
    }

    // MARK: Link layer

    mutating func decodeLink(_ frame: ByteView, linkType: Int32, _ p: inout Packet) -> DecodeVerdict {
        switch linkType {
        case LinkType.ethernet:
            return decodeEthernet(frame, &p)
        case LinkType.linuxSLL:
            // pkttype(2) hatype(2) halen(2) address(8) protocol(2)
            guard frame.count >= 16, let proto = frame.u16(14), let rest = frame.suffix(from: 16) else {
                return .rejected(.sllPacketTooSmall)
            }
            stats.sll &+= 1
            return decodeEthertype(proto, rest, &p)
        case LinkType.linuxSLL2:
            // protocol(2) reserved(2) ifindex(4) hatype(2) pkttype(1) halen(1) address(8)
            guard frame.count >= 20, let proto = frame.u16(0), let rest = frame.suffix(from: 20) else {
                return .rejected(.sll2PacketTooSmall)
            }
            stats.sll2 &+= 1
            return decodeEthertype(proto, rest, &p)
        case LinkType.ciscoHDLC:
            // address(1) control(1) protocol(2), the protocol an ethertype
            guard let proto = frame.u16(2), let rest = frame.suffix(from: 4) else { return .rejected(.chdlcPacketTooSmall) }
            stats.chdlc &+= 1
            return decodeEthertype(proto, rest, &p)
        case LinkType.null, LinkType.loop:
            // A 4-byte address family: host byte order of the writer for NULL, network for LOOP.
            guard var family = linkType == LinkType.loop ? frame.u32(0) : frame.u32host(0),
                  let rest = frame.suffix(from: 4) else {
                return .rejected(.nullPacketTooSmall)
            }
            if family > 0xFFFF { family = family.byteSwapped }
            stats.null &+= 1
            switch family {
            case 2: return decodeIPv4(rest, &p)
            case 10, 23, 24, 28, 30: return decodeIPv6(rest, &p)  // AF_INET6 on Linux, Windows, BSDs, macOS
            default: return .rejected(.nullUnsupportedFamily)
            }
        case LinkType.raw, LinkType.rawOpenBSD, LinkType.linktypeRaw, LinkType.ipv4, LinkType.ipv6:
            stats.raw &+= 1
            switch (frame.u8(0) ?? 0) >> 4 {
            case 4: return decodeIPv4(frame, &p)
            case 6: return decodeIPv6(frame, &p)
            default: return .rejected(.rawInvalidIPVersion)
            }
        default:
            return .rejected(.unsupportedLinkType)
        }
    }

    mutating func decodeEthernet(_ frame: ByteView, _ p: inout Packet) -> DecodeVerdict {
        guard frame.count >= 14, var type = frame.u16(12) else { return .rejected(.ethernetPacketTooSmall) }
        stats.ethernet &+= 1
        if let d0 = frame.u16(0), let d1 = frame.u32(2), let s0 = frame.u16(6), let s1 = frame.u32(8) {
            p.destinationMAC = UInt64(d0) << 32 | UInt64(d1)
            p.sourceMAC = UInt64(s0) << 32 | UInt64(s1)
        }
        var offset = 14
        var layers = 0
        while type == 0x8100 || type == 0x88A8 || type == 0x9100 {
            guard let tci = frame.u16(offset), let next = frame.u16(offset + 2) else {
                return .rejected(.vlanHeaderTooSmall)
            }
            layers += 1
            guard layers <= Decoder.maxVLANLayers else { return .rejected(.vlanTooManyLayers) }
            if p.vlanCount == 0 { p.vlan0 = tci & 0x0FFF } else if p.vlanCount == 1 { p.vlan1 = tci & 0x0FFF }
            if p.vlanCount < 2 { p.vlanCount += 1 }
            stats.vlan &+= 1
            type = next
            offset += 4
        }
        guard let rest = frame.suffix(from: offset) else { return .rejected(.vlanHeaderTooSmall) }
        return decodeEthertype(type, rest, &p)
    }

    mutating func decodeEthertype(_ type: UInt16, _ data: ByteView, _ p: inout Packet) -> DecodeVerdict {
        switch type {
        case 0x0800: return decodeIPv4(data, &p)
        case 0x86DD: return decodeIPv6(data, &p)
        case 0x894F: return decodeNSH(data, &p)
        case 0x8864:  // PPPoE session (RFC 2516): 6-byte header, then a PPP frame
            guard data.u8(0) == 0x11, let ppp = data.suffix(from: 6) else { stats.nonIP &+= 1; return .decoded }
            return decodePPP(ppp, &p)
        case 0x8847, 0x8848:  // MPLS: labels up to the bottom of the stack, then IPv4 or IPv6
            var offset = 0
            while let entry = data.u32(offset), offset < 64 {
                offset += 4
                if entry & 0x100 != 0 { break }
            }
            guard let inner = data.suffix(from: offset), let first = inner.u8(0) else { stats.nonIP &+= 1; return .decoded }
            switch first >> 4 {
            case 4: return decodeIPv4(inner, &p)
            case 6: return decodeIPv6(inner, &p)
            default:
                stats.nonIP &+= 1
                return .decoded
            }
        default:
            stats.nonIP &+= 1
            return .decoded
        }
    }

    /// A PPP frame (RFC 1661) on an Ethernet link (PPPoE): the protocol in one byte when
    /// compressed (odd), else two; IPv4 and IPv6 are decoded, control traffic is not IP.
    mutating func decodePPP(_ data: ByteView, _ p: inout Packet) -> DecodeVerdict {
        guard let first = data.u8(0) else { return .rejected(.ethernetPacketTooSmall) }
        var proto = UInt16(first), offset = 1
        if first & 1 == 0 {
            guard let second = data.u8(1) else { return .rejected(.ethernetPacketTooSmall) }
            proto = proto << 8 | UInt16(second)
            offset = 2
        }
        guard let ip = data.suffix(from: offset) else { return .rejected(.ethernetPacketTooSmall) }
        switch proto {
        case 0x21: return decodeIPv4(ip, &p)
        case 0x57: return decodeIPv6(ip, &p)
        default:
            stats.nonIP &+= 1
            return .decoded
        }
    }

    /// Network Service Header (RFC 8300): base header, service path header, metadata; the
    /// next protocol is IPv4, IPv6 or Ethernet.
    mutating func decodeNSH(_ data: ByteView, _ p: inout Packet) -> DecodeVerdict {
        guard let word = data.u16(0), let next = data.u8(3) else { return .rejected(.nshPacketTooSmall) }
        guard word >> 14 == 0 else { return .rejected(.nshUnsupportedVersion) }
        let length = Int(word & 0x3F) * 4  // header length in 4-byte words
        guard length >= 8, let inner = data.suffix(from: length) else { return .rejected(.nshPacketTooSmall) }
        stats.nsh &+= 1
        switch next {
        case 1: return decodeIPv4(inner, &p)
        case 2: return decodeIPv6(inner, &p)
        case 3: return decodeEthernet(inner, &p)
        default:
            stats.nonIP &+= 1
            return .decoded
        }
    }

    // MARK: IPv4

    mutating func decodeIPv4(_ data: ByteView, _ p: inout Packet) -> DecodeVerdict {
        guard data.count >= 20, let vhl = data.u8(0) else { return .rejected(.ipv4PacketTooSmall) }
        guard vhl >> 4 == 4 else { return .rejected(.ipv4WrongVersion) }
        let headerLength = Int(vhl & 0x0F) * 4
        guard headerLength >= 20 else { return .rejected(.ipv4HeaderLengthTooSmall) }
        guard let totalLength = data.u16(2).map(Int.init) else { return .rejected(.ipv4PacketTooSmall) }
        guard totalLength >= headerLength else { return .rejected(.ipv4TotalLengthSmallerThanHeader) }
        // Bytes past totalLength are link padding and are ignored.
        guard let datagram = data.slice(0, totalLength) else { return .rejected(.ipv4Truncated) }
        if headerLength > 20 { checkIPv4Options(datagram, headerLength) }

        let fragmentField = datagram.u16(6) ?? 0
        let proto = datagram.u8(9) ?? 0
        p.ipVersion = 4
        p.ipLength = totalLength
        p.ttl = datagram.u8(8) ?? 0
        p.ipID = UInt32(datagram.u16(4) ?? 0)
        p.ipFlags = (datagram.u8(6) ?? 0) & 0xE0
        p.source = IPAddress(ipv4: datagram.u32(12) ?? 0)
        p.destination = IPAddress(ipv4: datagram.u32(16) ?? 0)
        p.ipProto = proto
        stats.ipv4 &+= 1

        let payload = datagram.suffix(from: headerLength) ?? .empty
        let more = fragmentField & 0x2000 != 0
        let offset = Int(fragmentField & 0x1FFF) * 8
        guard more || offset > 0 else { return decodeTransport(proto, payload, &p) }

        stats.ipv4Fragments &+= 1
        let key = Defragmenter.Key(source: p.source, destination: p.destination, id: p.ipID, proto: proto,
                                   version: 4, vlan: UInt32(p.vlan0) << 16 | UInt32(p.vlan1))
        switch defragmenter.insert(key: key, offset: offset, more: more, data: payload, now: p.timestamp,
                                   stats: &stats, overlap: .ipv4FragmentOverlap,
                                   tooLarge: .ipv4FragmentTooLarge, invalidLength: .ipv4FragmentInvalidLength) {
        case .held:
            p.isFragment = true
            return .decoded
        case .rejected(let event):
            return .rejected(event)
        case .complete(let whole):
            p.reassembled = true
            p.ipLength = headerLength + whole.count
            if p.tunnelDepth == 0, var header = datagram.slice(0, headerLength)?.toArray() {
                header[2] = UInt8(p.ipLength >> 8 & 0xFF); header[3] = UInt8(p.ipLength & 0xFF)
                header[6] = 0; header[7] = 0
                keepReassembled(datagram, header: header, whole)
            }
            return decodeTransport(proto, whole, &p)
        }
    }

    /// Walks IPv4 options: records malformed ones, never rejects the packet for them.
    mutating func checkIPv4Options(_ datagram: ByteView, _ headerLength: Int) {
        var i = 20
        while i < headerLength {
            guard let kind = datagram.u8(i) else { return }
            if kind == 0 { return }          // end of option list
            if kind == 1 { i += 1; continue } // no-operation
            guard let length = datagram.u8(i + 1).map(Int.init) else {
                stats.record(.ipv4OptionMalformed)
                return
            }
            guard length >= 2, i + length <= headerLength else {
                stats.record(.ipv4OptionInvalidLength)
                return
            }
            i += length
        }
    }

    // MARK: IPv6

    mutating func decodeIPv6(_ data: ByteView, _ p: inout Packet) -> DecodeVerdict {
        guard data.count >= 40, let first = data.u8(0) else { return .rejected(.ipv6PacketTooSmall) }
        guard first >> 4 == 6 else { return .rejected(.ipv6WrongVersion) }
        let payloadLength = Int(data.u16(4) ?? 0)
        var next = data.u8(6) ?? 0
        let datagram: ByteView
        if payloadLength == 0 && next == IPProto.hopByHop {
            datagram = data  // jumbogram (RFC 2675): the length is in an option; use what was captured
        } else {
            guard let d = data.slice(0, 40 + payloadLength) else { return .rejected(.ipv6Truncated) }
            datagram = d
        }
        p.ipVersion = 6
        p.ipLength = datagram.count
        p.ttl = datagram.u8(7) ?? 0
        p.source = IPAddress(high: datagram.u64(8) ?? 0, low: datagram.u64(16) ?? 0)
        p.destination = IPAddress(high: datagram.u64(24) ?? 0, low: datagram.u64(32) ?? 0)
        stats.ipv6 &+= 1

        var offset = 40
        var headers = 0
        var fragment: (offset: Int, more: Bool, id: UInt32)? = nil
        extensionHeaders: while true {
            switch next {
            case IPProto.hopByHop, IPProto.routing, IPProto.destinationOptions, IPProto.mobility, IPProto.fragment:
                headers += 1
                guard headers <= Decoder.maxExtensionHeaders else { return .rejected(.ipv6TooManyExtensionHeaders) }
                guard let following = datagram.u8(offset), let lengthField = datagram.u8(offset + 1) else {
                    return .rejected(.ipv6TruncatedExtensionHeader)
                }
                let length = next == IPProto.fragment ? 8 : (Int(lengthField) + 1) * 8
                guard datagram.slice(offset, length) != nil else { return .rejected(.ipv6TruncatedExtensionHeader) }
                if next == IPProto.fragment {
                    guard fragment == nil else { return .rejected(.ipv6DuplicateFragmentHeader) }
                    let field = datagram.u16(offset + 2) ?? 0
                    fragment = (Int(field & 0xFFF8), field & 1 != 0, datagram.u32(offset + 4) ?? 0)
                }
                next = following
                offset += length
            default:
                break extensionHeaders
            }
        }
        p.ipProto = next
        let payload = datagram.suffix(from: offset) ?? .empty
        guard let fragment else {
            if next == IPProto.noNext { return .decoded }
            return decodeTransport(next, payload, &p)
        }
        stats.ipv6Fragments &+= 1
        // An atomic fragment (offset 0, no more) is a whole datagram (RFC 6946).
        if fragment.offset == 0 && !fragment.more { return decodeTransport(next, payload, &p) }
        p.ipID = fragment.id
        let key = Defragmenter.Key(source: p.source, destination: p.destination, id: fragment.id, proto: 0,
                                   version: 6, vlan: UInt32(p.vlan0) << 16 | UInt32(p.vlan1))
        switch defragmenter.insert(key: key, offset: fragment.offset, more: fragment.more, data: payload,
                                   now: p.timestamp, stats: &stats, overlap: .ipv6FragmentOverlap,
                                   tooLarge: .ipv6FragmentTooLarge, invalidLength: .ipv6FragmentInvalidLength) {
        case .held:
            p.isFragment = true
            return .decoded
        case .rejected(let event):
            return .rejected(event)
        case .complete(let whole):
            // The next-header value of a non-first fragment may differ; the first one's counts,
            // and only offset-0 fragments carry the upper-layer header we decode.
            p.reassembled = true
            p.ipLength = offset + whole.count
            if p.tunnelDepth == 0, offset == 48, var header = datagram.slice(0, 40)?.toArray(), header[6] == IPProto.fragment {
                // The fragment header (right after the base header) dropped: the base header
                // names the upper layer and counts the whole payload.
                let length = whole.count
                header[4] = UInt8(length >> 8 & 0xFF); header[5] = UInt8(length & 0xFF)
                header[6] = next
                keepReassembled(datagram, header: header, whole)
            }
            return decodeTransport(next, whole, &p)
        }
    }

    /// Keeps the whole packet of a reassembled datagram: the frame's bytes before its IP
    /// header, the rebuilt header, the payload.
    mutating func keepReassembled(_ datagram: ByteView, header: [UInt8], _ whole: ByteView) {
        guard let frameBase, let start = datagram.rawBuffer.baseAddress else { return }
        let link = start - frameBase
        guard link >= 0, link <= 64 else { return }
        reassembledPacket = Array(UnsafeRawBufferPointer(start: frameBase, count: link)) + header + whole.toArray()
    }

    // MARK: Transport and tunnels

    mutating func decodeTransport(_ proto: UInt8, _ data: ByteView, _ p: inout Packet) -> DecodeVerdict {
        p.ipProto = proto
        switch proto {
        case IPProto.tcp: return decodeTCP(data, &p)
        case IPProto.udp: return decodeUDP(data, &p)
        case IPProto.icmp, IPProto.icmpv6:
            // type(1) code(1) checksum(2) and 4 bytes whose meaning depends on the type
            // (identifier and sequence for echo): 8 bytes before any body.
            let v6 = proto == IPProto.icmpv6
            guard data.count >= 8 else { return .rejected(v6 ? .icmpv6PacketTooSmall : .icmpv4PacketTooSmall) }
            p.icmpType = data.u8(0) ?? 0
            p.icmpCode = data.u8(1) ?? 0
            p.icmpID = data.u16(4) ?? 0
            p.icmpSeq = data.u16(6) ?? 0
            p.payload = data.suffix(from: 8) ?? .empty
            p.hasTransport = true
            if v6 { stats.icmpv6 &+= 1 } else { stats.icmpv4 &+= 1 }
            return .decoded
        case IPProto.sctp:
            guard data.count >= 12 else { return .rejected(.sctpPacketTooSmall) }
            p.sourcePort = data.u16(0) ?? 0
            p.destinationPort = data.u16(2) ?? 0
            p.payload = data.suffix(from: 12) ?? .empty
            p.hasTransport = true
            stats.sctp &+= 1
            return .decoded
        case IPProto.gre: return decodeGRE(data, &p)
        case IPProto.ipip:
            stats.ipip &+= 1
            guard enterTunnel(&p) else { return .rejected(.tooManyLayers) }
            return decodeIPv4(data, &p)
        case IPProto.ipv6:
            stats.ipv6InIP &+= 1
            guard enterTunnel(&p) else { return .rejected(.tooManyLayers) }
            return decodeIPv6(data, &p)
        case IPProto.esp:
            // IPsec payload is encrypted: identified, counted and tracked by SPI, not decrypted.
            guard data.count >= 8, let spi = data.u32(0) else { return .rejected(.espPacketTooSmall) }
            p.espSPI = spi
            stats.esp &+= 1
            return .decoded
        case IPProto.ah:
            // next header(1) payload length in 4-byte units minus 2 (1) reserved(2) SPI(4) seq(4) ICV
            guard data.count >= 12, let next = data.u8(0), let units = data.u8(1),
                  let spi = data.u32(4), let inner = data.suffix(from: (Int(units) + 2) * 4) else {
                return .rejected(.ahPacketTooSmall)
            }
            p.espSPI = spi
            stats.ah &+= 1
            return decodeTransport(next, inner, &p)
        default:
            stats.otherIPProto &+= 1
            p.payload = data
            return .decoded
        }
    }

    mutating func decodeTCP(_ data: ByteView, _ p: inout Packet) -> DecodeVerdict {
        guard data.count >= 20, let offsetByte = data.u8(12) else { return .rejected(.tcpPacketTooSmall) }
        let headerLength = Int(offsetByte >> 4) * 4
        guard headerLength >= 20 else { return .rejected(.tcpHeaderLengthTooSmall) }
        guard let payload = data.suffix(from: headerLength) else { return .rejected(.tcpInvalidOptionLength) }
        p.sourcePort = data.u16(0) ?? 0
        p.destinationPort = data.u16(2) ?? 0
        p.tcpSeq = data.u32(4) ?? 0
        p.tcpAck = data.u32(8) ?? 0
        p.tcpFlags = data.u8(13) ?? 0
        p.tcpWindow = data.u16(14) ?? 0
        p.tcpHeaderLength = UInt8(headerLength)
        if headerLength > 20 { decodeTCPOptions(data, headerLength, &p) }
        p.payload = payload
        p.hasTransport = true
        stats.tcp &+= 1
        return .decoded
    }

    /// Reads MSS, window scale, SACK-permitted, SACK and timestamps. A malformed option is
    /// recorded and ends option parsing; the segment itself is still processed.
    mutating func decodeTCPOptions(_ data: ByteView, _ headerLength: Int, _ p: inout Packet) {
        var i = 20
        var seen: UInt16 = 0
        while i < headerLength {
            guard let kind = data.u8(i) else { return }
            if kind == 0 { return }
            if kind == 1 { i += 1; continue }
            guard let length = data.u8(i + 1).map(Int.init), length >= 2, i + length <= headerLength else {
                stats.record(.tcpOptionInvalidLength)
                return
            }
            if kind < 16 {
                if seen & (1 << kind) != 0 { stats.record(.tcpOptionDuplicate) }
                seen |= 1 << kind
            }
            switch (kind, length) {
            case (2, 4): p.tcpMSS = data.u16(i + 2) ?? 0
            case (3, 3): p.tcpWindowScale = min(data.u8(i + 2) ?? 0, 14)  // RFC 7323 caps the shift at 14
            case (4, 2): p.tcpSACKPermitted = true
            case (5, _) where (length - 2) % 8 == 0: p.tcpSACKBlocks = UInt8((length - 2) / 8)
            case (8, 10):
                p.tcpHasTimestamp = true
                p.tcpTSval = data.u32(i + 2) ?? 0
                p.tcpTSecr = data.u32(i + 6) ?? 0
            case (2, _), (3, _), (4, _), (5, _), (8, _):
                // A known option with the wrong length: what follows cannot be trusted.
                stats.record(.tcpOptionInvalidLength)
                return
            default:
                break
            }
            i += length
        }
    }

    mutating func decodeUDP(_ data: ByteView, _ p: inout Packet) -> DecodeVerdict {
        guard data.count >= 8, let length = data.u16(4).map(Int.init) else { return .rejected(.udpPacketTooSmall) }
        guard length >= 8, let datagram = data.slice(0, length) else { return .rejected(.udpHeaderLengthInvalid) }
        p.sourcePort = data.u16(0) ?? 0
        p.destinationPort = data.u16(2) ?? 0
        p.payload = datagram.suffix(from: 8) ?? .empty
        p.hasTransport = true
        stats.udp &+= 1
        return .decoded
    }

    mutating func enterTunnel(_ p: inout Packet) -> Bool {
        guard p.tunnelDepth < Decoder.maxTunnelDepth else { return false }
        if p.tunnelDepth == 0 {
            p.outerSource = p.source
            p.outerDestination = p.destination
            p.outerProto = p.ipProto
            p.outerVersion = p.ipVersion
        }
        p.tunnelDepth += 1
        return true
    }

    /// GRE version 0 (RFC 2784/2890) and version 1 (PPTP, RFC 2637).
    mutating func decodeGRE(_ data: ByteView, _ p: inout Packet) -> DecodeVerdict {
        guard let flags = data.u16(0), let proto = data.u16(2) else { return .rejected(.grePacketTooSmall) }
        stats.gre &+= 1
        var headerLength = 4
        switch flags & 0x7 {
        case 0:
            if flags & 0x4000 != 0 {
                // Source routing (RFC 1701) is deprecated; the packet is kept at the GRE layer.
                stats.record(.greUnsupportedRouting)
                return .decoded
            }
            if flags & 0x8000 != 0 { headerLength += 4 }  // checksum and reserved
            if flags & 0x2000 != 0 { headerLength += 4 }  // key
            if flags & 0x1000 != 0 { headerLength += 4 }  // sequence number
        case 1:
            guard proto == 0x880B else { return .rejected(.greWrongVersion) }
            headerLength += 4                               // payload length and call id
            if flags & 0x1000 != 0 { headerLength += 4 }   // sequence number
            if flags & 0x0080 != 0 { headerLength += 4 }   // acknowledgment number
        default:
            return .rejected(.greWrongVersion)
        }
        guard let inner = data.suffix(from: headerLength) else { return .rejected(.grePacketTooSmall) }
        switch proto {
        case 0x0800:
            guard enterTunnel(&p) else { return .rejected(.tooManyLayers) }
            return decodeIPv4(inner, &p)
        case 0x86DD:
            guard enterTunnel(&p) else { return .rejected(.tooManyLayers) }
            return decodeIPv6(inner, &p)
        case 0x6558:  // transparent Ethernet bridging
            guard enterTunnel(&p) else { return .rejected(.tooManyLayers) }
            return decodeEthernet(inner, &p)
        case 0x88BE:  // ERSPAN type II: an 8-byte header, then the mirrored Ethernet frame
            guard enterTunnel(&p) else { return .rejected(.tooManyLayers) }
            guard let frame = inner.suffix(from: 8) else { return .rejected(.grePacketTooSmall) }
            return decodeEthernet(frame, &p)
        case 0x880B:  // PPP in PPTP
            var offset = 0
            if inner.u16(0) == 0xFF03 { offset = 2 }  // address and control fields
            guard let firstByte = inner.u8(offset) else { return .decoded }
            var pppProtocol = UInt16(firstByte)
            if firstByte & 1 == 0 {  // two-byte protocol field (RFC 1661)
                guard let second = inner.u8(offset + 1) else { return .decoded }
                pppProtocol = pppProtocol << 8 | UInt16(second)
                offset += 2
            } else {
                offset += 1
            }
            guard let ip = inner.suffix(from: offset) else { return .decoded }
            switch pppProtocol {
            case 0x21:
                guard enterTunnel(&p) else { return .rejected(.tooManyLayers) }
                return decodeIPv4(ip, &p)
            case 0x57:
                guard enterTunnel(&p) else { return .rejected(.tooManyLayers) }
                return decodeIPv6(ip, &p)
            default:
                return .decoded  // PPP control traffic (LCP, CHAP, CCP) stays at the GRE layer
            }
        default:
            stats.record(.greUnknownProtocol)
            return .decoded
        }
    }
}

import HNCapGen
import Testing
@testable import HNDecode

@Suite struct LinkLayerTests {
    @Test func ethernetTCPSynDecodesPortsFlagsAndOptions() {
        let (verdict, p) = decode(Sample.tcpSYN)
        #expect(verdict == .decoded)
        #expect(p.ipVersion == 4)
        #expect(p.source.description == "10.20.1.15")
        #expect(p.destination.description == "10.20.2.80")
        #expect(p.ipProto == 6)
        #expect(p.sourcePort == 49_152 && p.destinationPort == 80)
        #expect(p.tcpFlags == TCPFlags.syn)
        #expect(p.tcpSeq == 1000)
        #expect(p.tcpMSS == 1460)
        #expect(p.tcpSACKPermitted)
        #expect(p.tcpHasTimestamp && p.tcpTSval == 1)
        #expect(p.tcpWindowScale == 7)
        #expect(p.payload.count == 0)
    }

    @Test func tcpPayloadIsAViewOfTheSegmentData() {
        let (verdict, p) = decode(Sample.tcpData)
        #expect(verdict == .decoded)
        #expect(p.payload.toArray() == Array("GET / HTTP/1.1\r\n\r\n".utf8))
    }

    @Test func vlanAndQinQTagsAreRecorded() {
        let inner = Sample.ipv4(17, Frames.udp(src: Sample.client4, dst: Sample.server4, sport: 1, dport: 2, payload: [9]))
        // dst(6) src(6) 0x88a8 S-tag 100, 0x8100 C-tag 200, 0x0800
        let frame = Sample.serverMAC + Sample.clientMAC + [0x88, 0xA8, 0x00, 100, 0x81, 0x00, 0x00, 200, 0x08, 0x00] + inner
        let (verdict, p) = decode(frame)
        #expect(verdict == .decoded)
        #expect(p.vlanCount == 2 && p.vlan0 == 100 && p.vlan1 == 200)
        #expect(p.destinationPort == 2)
    }

    @Test func fourVLANTagsAreTooManyLayers() {
        let tag: [UInt8] = [0x81, 0x00, 0x00, 0x01]
        let frame = Sample.serverMAC + Sample.clientMAC + tag + tag + tag + tag + [0x08, 0x00] + Sample.ipv4(17, [])
        #expect(decode(frame).0 == .rejected(.vlanTooManyLayers))
    }

    @Test func linuxCookedSLLAndSLL2() {
        let ip = Sample.ipv4(1, Frames.icmpEcho(type: 8, id: 1, seq: 1, payload: []))
        // SLL: pkttype(2) hatype(2)=1 halen(2)=6 addr(8) protocol(2)=0x0800
        let sll: [UInt8] = [0, 0, 0, 1, 0, 6] + Sample.clientMAC + [0, 0] + [0x08, 0x00]
        #expect(decode(sll + ip, linkType: LinkType.linuxSLL).0 == .decoded)
        // SLL2: protocol(2) reserved(2) ifindex(4) hatype(2) pkttype(1) halen(1) addr(8)
        let sll2: [UInt8] = [0x08, 0x00, 0, 0, 0, 0, 0, 2, 0, 1, 0, 6] + Sample.clientMAC + [0, 0]
        let (v, p) = decode(sll2 + ip, linkType: LinkType.linuxSLL2)
        #expect(v == .decoded && p.icmpType == 8)
        #expect(decode(Array(sll2.prefix(19)), linkType: LinkType.linuxSLL2).0 == .rejected(.sll2PacketTooSmall))
    }

    @Test func bsdNullLoopbackInEitherByteOrder() {
        let ip = Sample.ipv4(17, Frames.udp(src: Sample.client4, dst: Sample.server4, sport: 1, dport: 2, payload: []))
        #expect(decode([2, 0, 0, 0] + ip, linkType: LinkType.null).0 == .decoded)   // little-endian writer
        #expect(decode([0, 0, 0, 2] + ip, linkType: LinkType.null).0 == .decoded)   // big-endian writer
        #expect(decode([0, 0, 0, 2] + ip, linkType: LinkType.loop).0 == .decoded)
        #expect(decode([7, 0, 0, 0] + ip, linkType: LinkType.null).0 == .rejected(.nullUnsupportedFamily))
    }

    @Test func rawIPPicksTheVersionFromTheFirstNibble() {
        let v4 = Sample.ipv4(17, Frames.udp(src: Sample.client4, dst: Sample.server4, sport: 1, dport: 2, payload: []))
        #expect(decode(v4, linkType: LinkType.raw).1.ipVersion == 4)
        let v6 = Array(Sample.tcp6.dropFirst(14))
        #expect(decode(v6, linkType: LinkType.linktypeRaw).1.ipVersion == 6)
        #expect(decode([0x50] + v4.dropFirst(), linkType: LinkType.raw).0 == .rejected(.rawInvalidIPVersion))
    }

    @Test func unknownLinkTypeIsCountedAndRejected() {
        var decoder = Decoder()
        let (v, _) = decode([1, 2, 3], linkType: 147, decoder: &decoder)
        #expect(v == .rejected(.unsupportedLinkType))
        #expect(decoder.stats[.unsupportedLinkType] == 1)
        #expect(decoder.stats.rejected == 1)
    }

    @Test func arpIsDecodedWithoutAnIPLayer() {
        let (v, p) = decode(Sample.ether(0x0806, [UInt8](repeating: 0, count: 28)))
        #expect(v == .decoded)
        #expect(p.ipVersion == 0)
    }
}

@Suite struct IPv4DecoderTests {
    @Test func headerLengthBelowTwentyIsRejected() {
        var frame = Sample.tcpSYN
        frame[14] = 0x44  // version 4, IHL 4 (16 bytes)
        #expect(decode(frame).0 == .rejected(.ipv4HeaderLengthTooSmall))
    }

    @Test func wrongVersionIsRejected() {
        var frame = Sample.tcpSYN
        frame[14] = 0x65
        #expect(decode(frame).0 == .rejected(.ipv4WrongVersion))
    }

    @Test func totalLengthBeyondTheCaptureIsTruncated() {
        var frame = Sample.tcpSYN
        frame[16] = 0x05  // total length 0x05xx, far past the frame
        #expect(decode(frame).0 == .rejected(.ipv4Truncated))
    }

    @Test func totalLengthBelowHeaderLengthIsRejected() {
        var frame = Sample.tcpSYN
        frame[16] = 0; frame[17] = 19
        #expect(decode(frame).0 == .rejected(.ipv4TotalLengthSmallerThanHeader))
    }

    @Test func ethernetPaddingAfterTheDatagramIsIgnored() {
        let (v, p) = decode(Sample.tcpData + [0, 0, 0, 0, 0, 0])
        #expect(v == .decoded)
        #expect(p.payload.count == 18)
    }

    @Test func malformedOptionIsRecordedButThePacketContinues() {
        let l4 = Frames.udp(src: Sample.client4, dst: Sample.server4, sport: 1, dport: 2, payload: [])
        // IHL 6: one 4-byte option whose length byte (9) runs past the header.
        var ip: [UInt8] = [0x46, 0] + Frames.be16(UInt16(24 + l4.count)) + [0, 1, 0x40, 0, 64, 17, 0, 0]
        ip += Sample.client4 + Sample.server4 + [0x83, 9, 0, 0]
        var decoder = Decoder()
        let (v, p) = decode(Sample.ether(0x0800, ip + l4), decoder: &decoder)
        #expect(v == .decoded)
        #expect(p.destinationPort == 2)
        #expect(decoder.stats[.ipv4OptionInvalidLength] == 1)
    }
}

@Suite struct TransportDecoderTests {
    @Test func tcpDataOffsetBelowFiveIsRejected() {
        var frame = Sample.tcpData
        frame[14 + 20 + 12] = 0x40
        #expect(decode(frame).0 == .rejected(.tcpHeaderLengthTooSmall))
    }

    @Test func tcpDataOffsetPastTheSegmentIsRejected() {
        let l4 = Frames.tcp(src: Sample.client4, dst: Sample.server4, sport: 1, dport: 2, seq: 0, ack: 0, flags: 2)
        var modified = l4
        modified[12] = 0xF0  // 60-byte header in a 20-byte segment
        #expect(decode(Sample.ether(0x0800, Sample.ipv4(6, modified))).0 == .rejected(.tcpInvalidOptionLength))
    }

    @Test func tcpOptionWithBadLengthIsRecorded() {
        let l4 = Frames.tcp(src: Sample.client4, dst: Sample.server4, sport: 1, dport: 2, seq: 0, ack: 0, flags: 2,
                            options: [2, 3, 0x05, 0xB4])  // MSS must be 4 bytes long
        var decoder = Decoder()
        let (v, p) = decode(Sample.ether(0x0800, Sample.ipv4(6, l4)), decoder: &decoder)
        #expect(v == .decoded)
        #expect(p.tcpMSS == 0)
        #expect(decoder.stats[.tcpOptionInvalidLength] == 1)
    }

    @Test func udpLengthFieldBelowEightOrPastTheDatagramIsInvalid() {
        var l4 = Frames.udp(src: Sample.client4, dst: Sample.server4, sport: 1, dport: 2, payload: [1, 2, 3])
        l4[5] = 7
        #expect(decode(Sample.ether(0x0800, Sample.ipv4(17, l4))).0 == .rejected(.udpHeaderLengthInvalid))
        l4[5] = 12
        #expect(decode(Sample.ether(0x0800, Sample.ipv4(17, l4))).0 == .rejected(.udpHeaderLengthInvalid))
        l4[5] = 10  // shorter than the IP payload: the UDP length wins
        #expect(decode(Sample.ether(0x0800, Sample.ipv4(17, l4))).1.payload.count == 2)
    }

    @Test func icmpShorterThanEightBytesIsRejected() {
        #expect(decode(Sample.ether(0x0800, Sample.ipv4(1, [8, 0, 0, 0, 0, 0, 0]))).0 == .rejected(.icmpv4PacketTooSmall))
        let (v, p) = decode(Sample.icmpEcho)
        #expect(v == .decoded && p.icmpType == 8 && p.icmpCode == 0)
    }

    @Test func espIsIdentifiedBySPIAndNotDecrypted() {
        let esp: [UInt8] = [0xDE, 0xAD, 0xBE, 0xEF, 0, 0, 0, 1] + [UInt8](repeating: 0xAA, count: 40)
        var decoder = Decoder()
        let (v, p) = decode(Sample.ether(0x0800, Sample.ipv4(50, esp)), decoder: &decoder)
        #expect(v == .decoded)
        #expect(p.ipProto == 50 && p.espSPI == 0xDEAD_BEEF)
        #expect(decoder.stats.esp == 1)
        #expect(decode(Sample.ether(0x0800, Sample.ipv4(50, [1, 2, 3]))).0 == .rejected(.espPacketTooSmall))
    }

    @Test func ahIsSkippedToTheProtectedTransport() {
        let udp = Frames.udp(src: Sample.client4, dst: Sample.server4, sport: 500, dport: 4500, payload: [1])
        // next header 17, payload length 4 (= 24 bytes total), reserved, SPI, sequence, 12-byte ICV
        let ah: [UInt8] = [17, 4, 0, 0, 0, 0, 0x10, 0x01, 0, 0, 0, 1] + [UInt8](repeating: 0, count: 12)
        let (v, p) = decode(Sample.ether(0x0800, Sample.ipv4(51, ah + udp)))
        #expect(v == .decoded)
        #expect(p.ipProto == 17 && p.destinationPort == 4500 && p.espSPI == 0x1001)
    }
}

@Suite struct IPv6DecoderTests {
    @Test func tcpOverIPv6() {
        let (v, p) = decode(Sample.tcp6)
        #expect(v == .decoded)
        #expect(p.ipVersion == 6)
        #expect(p.source.description == "2001:db8::15")
        #expect(p.destinationPort == 443)
    }

    @Test func extensionHeadersAreWalkedToTheTransport() {
        let l4 = Frames.udp(src: Sample.client6, dst: Sample.server6, sport: 1, dport: 53, payload: [])
        // hop-by-hop (next 60, len 0 -> 8 bytes) then destination options (next 17, len 0)
        let ext: [UInt8] = [60, 0, 1, 4, 0, 0, 0, 0] + [17, 0, 1, 4, 0, 0, 0, 0]
        let ip = Frames.ipv6Header(src: Sample.client6, dst: Sample.server6, next: 0, hopLimit: 64, payloadLength: ext.count + l4.count)
        let (v, p) = decode(Sample.ether(0x86DD, ip + ext + l4))
        #expect(v == .decoded)
        #expect(p.ipProto == 17 && p.destinationPort == 53)
    }

    @Test func truncatedExtensionHeaderIsRejected() {
        let ext: [UInt8] = [17, 4, 0, 0]  // claims 40 bytes, has 4
        let ip = Frames.ipv6Header(src: Sample.client6, dst: Sample.server6, next: 60, hopLimit: 64, payloadLength: ext.count)
        #expect(decode(Sample.ether(0x86DD, ip + ext)).0 == .rejected(.ipv6TruncatedExtensionHeader))
    }

    @Test func payloadLengthPastTheCaptureIsTruncated() {
        var frame = Sample.tcp6
        frame[14 + 4] = 0x10
        #expect(decode(frame).0 == .rejected(.ipv6Truncated))
    }

    @Test func twoFragmentHeadersAreRejected() {
        let frag: [UInt8] = [44, 0, 0, 1, 0, 0, 0, 9]
        let frag2: [UInt8] = [17, 0, 0, 1, 0, 0, 0, 9]
        let ip = Frames.ipv6Header(src: Sample.client6, dst: Sample.server6, next: 44, hopLimit: 64, payloadLength: 16)
        #expect(decode(Sample.ether(0x86DD, ip + frag + frag2)).0 == .rejected(.ipv6DuplicateFragmentHeader))
    }
}

@Suite struct TunnelDecoderTests {
    @Test func ipInIPExposesTheInnerFlow() {
        let inner = Sample.ipv4(17, Frames.udp(src: Sample.client4, dst: Sample.server4, sport: 7, dport: 8, payload: []))
        let outer = Frames.ipv4Header(src: [192, 0, 2, 1], dst: [192, 0, 2, 2], proto: 4, id: 1, ttl: 64, payloadLength: inner.count) + inner
        let (v, p) = decode(Sample.ether(0x0800, outer))
        #expect(v == .decoded)
        #expect(p.tunnelDepth == 1)
        #expect(p.source.description == "10.20.1.15" && p.destinationPort == 8)
    }

    @Test func greVersion0WithKeyCarriesIPv4() {
        let inner = Sample.ipv4(6, Frames.tcp(src: Sample.client4, dst: Sample.server4, sport: 1, dport: 22, seq: 0, ack: 0, flags: 2))
        let gre: [UInt8] = [0x20, 0x00, 0x08, 0x00, 0, 0, 0, 42]  // K bit, protocol IPv4, key 42
        let outer = Frames.ipv4Header(src: [192, 0, 2, 1], dst: [192, 0, 2, 2], proto: 47, id: 1, ttl: 64, payloadLength: gre.count + inner.count)
        var decoder = Decoder()
        let (v, p) = decode(Sample.ether(0x0800, outer + gre + inner), decoder: &decoder)
        #expect(v == .decoded)
        #expect(p.destinationPort == 22 && p.tunnelDepth == 1)
        #expect(decoder.stats.gre == 1)
    }

    @Test func greWithUnknownVersionIsRejected() {
        let gre: [UInt8] = [0x00, 0x03, 0x08, 0x00]
        let outer = Frames.ipv4Header(src: [192, 0, 2, 1], dst: [192, 0, 2, 2], proto: 47, id: 1, ttl: 64, payloadLength: gre.count)
        #expect(decode(Sample.ether(0x0800, outer + gre)).0 == .rejected(.greWrongVersion))
    }

    @Test func nestingBeyondTheLimitIsRejected() {
        var packet = Sample.ipv4(17, Frames.udp(src: Sample.client4, dst: Sample.server4, sport: 1, dport: 2, payload: []))
        for _ in 0..<5 {
            packet = Frames.ipv4Header(src: [192, 0, 2, 1], dst: [192, 0, 2, 2], proto: 4, id: 1, ttl: 64, payloadLength: packet.count) + packet
        }
        #expect(decode(Sample.ether(0x0800, packet)).0 == .rejected(.tooManyLayers))
    }
}

@Suite struct TruncationTests {
    /// Every prefix of every sample frame: the decoder never traps, never reads past the
    /// frame, and gives each packet exactly one verdict.
    @Test func everyTruncationPointGivesOneVerdict() {
        var decoder = Decoder()
        var count: UInt64 = 0
        for frame in Sample.all {
            for length in 0...frame.count {
                let prefix = Array(frame.prefix(length))
                // Copy into an exact-size allocation so any overread would leave the buffer.
                let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: max(1, length), alignment: 1)
                defer { buffer.deallocate() }
                prefix.withUnsafeBytes { buffer.copyMemory(from: $0) }
                var p = Packet()
                p.captureLength = length
                _ = decoder.decode(ByteView(base: buffer.baseAddress, count: length), linkType: LinkType.ethernet, into: &p)
                count += 1
            }
        }
        #expect(decoder.stats.packets == count)
        #expect(decoder.stats.decoded + decoder.stats.rejected == count)
        #expect(decoder.stats.events.reduce(0, +) >= decoder.stats.rejected)
    }

    @Test func truncatedTCPHeaderReasons() {
        let frame = Sample.tcpSYN
        // Cut inside the Ethernet header, the IPv4 header, the TCP header.
        #expect(decode(Array(frame.prefix(13))).0 == .rejected(.ethernetPacketTooSmall))
        #expect(decode(Array(frame.prefix(30))).0 == .rejected(.ipv4PacketTooSmall))
        #expect(decode(Array(frame.prefix(50))).0 == .rejected(.ipv4Truncated))
    }

    @Test func randomBytesNeverTrap() {
        var random = SeededRandom(seed: 42)
        var decoder = Decoder()
        for _ in 0..<20_000 {
            var frame = Sample.all[random.below(Sample.all.count)]
            // Flip a few bytes anywhere in the frame.
            for _ in 0..<(1 + random.below(4)) { frame[random.below(frame.count)] = UInt8(truncatingIfNeeded: random.next()) }
            for linkType in [LinkType.ethernet, LinkType.raw, LinkType.null, LinkType.linuxSLL2] {
                _ = decode(frame, linkType: linkType, decoder: &decoder)
            }
        }
        #expect(decoder.stats.decoded + decoder.stats.rejected == decoder.stats.packets)
    }
}

@Suite struct EncapsulationTests {
    @Test func pppoeSessionsCarryIPWithATwoOrOneByteProtocolField() {
        let ip = Sample.ipv4(6, Frames.tcp(src: Sample.client4, dst: Sample.server4, sport: 57_013, dport: 80, seq: 1, ack: 0, flags: 0x02))
        for ppp in [[0x00, 0x21], [0x21]] as [[UInt8]] {
            let session: [UInt8] = [0x11, 0x00, 0x00, 0x2D, UInt8((ppp.count + ip.count) >> 8), UInt8((ppp.count + ip.count) & 0xFF)]
            let (verdict, p) = decode(Sample.ether(0x8864, session + ppp + ip))
            #expect(verdict == .decoded && p.ipVersion == 4 && p.destinationPort == 80)
        }
        // LCP (0xC021) is PPP control traffic, not IP.
        let (_, lcp) = decode(Sample.ether(0x8864, [0x11, 0, 0, 0x2D, 0, 4, 0xC0, 0x21, 1, 1]))
        #expect(lcp.ipVersion == 0)
    }

    @Test func mplsLabelsAreWalkedToTheBottomOfTheStack() {
        let ip = Sample.ipv4(17, Frames.udp(src: Sample.client4, dst: Sample.server4, sport: 1, dport: 53, payload: [1]))
        let labels: [UInt8] = [0x00, 0x01, 0x00, 0x40, 0x00, 0x02, 0x01, 0x40]  // two labels, the second at the bottom
        let (verdict, p) = decode(Sample.ether(0x8847, labels + ip))
        #expect(verdict == .decoded && p.ipVersion == 4 && p.destinationPort == 53)
    }

    @Test func aReassembledIPv6DatagramIsKeptWholeWithItsHeaderRebuilt() {
        var decoder = Decoder()
        let payload = Frames.udp(src: Sample.client6, dst: Sample.server6, sport: 5, dport: 6, payload: [UInt8](repeating: 0x41, count: 24))
        func fragment(_ offset: Int, _ more: Bool, _ bytes: ArraySlice<UInt8>) -> [UInt8] {
            let field = UInt16(offset) | (more ? 1 : 0)
            let header: [UInt8] = [17, 0, UInt8(field >> 8), UInt8(field & 0xFF), 0, 0, 0, 9]
            return Sample.ether(0x86DD, Frames.ipv6Header(src: Sample.client6, dst: Sample.server6, next: 44, hopLimit: 64,
                                                          payloadLength: 8 + bytes.count) + header + Array(bytes))
        }
        _ = decode(fragment(0, true, payload[0..<16]), decoder: &decoder)
        let (verdict, p) = decode(fragment(16, false, payload[16...]), decoder: &decoder)
        #expect(verdict == .decoded && p.reassembled)
        let whole = decoder.reassembledPacket
        #expect(whole.count == 14 + 40 + payload.count)
        #expect(whole.count > 60 && whole[14 + 6] == 17 && Int(whole[14 + 4]) << 8 | Int(whole[14 + 5]) == payload.count)
        #expect(Array(whole.suffix(payload.count)) == payload)
    }
}

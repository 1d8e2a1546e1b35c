import HNCapGen
import Testing
@testable import HNDecode

@Suite struct DefragmenterTests {
    /// A UDP datagram of 64 payload bytes split into IPv4 fragments of `size` bytes each.
    func fragments(size: Int = 24, id: UInt16 = 77) -> (whole: [UInt8], frames: [[UInt8]]) {
        let udp = Frames.udp(src: Sample.client4, dst: Sample.server4, sport: 1000, dport: 2000, payload: (0..<64).map { UInt8($0) })
        var frames: [[UInt8]] = []
        var offset = 0
        while offset < udp.count {
            let piece = Array(udp[offset..<min(offset + size, udp.count)])
            let more = offset + size < udp.count
            let flags = UInt16(offset / 8) | (more ? 0x2000 : 0)
            frames.append(Sample.ether(0x0800, Frames.ipv4Header(src: Sample.client4, dst: Sample.server4, proto: 17, id: id, ttl: 64, payloadLength: piece.count, flags: flags) + piece))
            offset += size
        }
        return (udp, frames)
    }

    @Test func inOrderFragmentsReassemble() {
        var decoder = Decoder()
        let (_, frames) = fragments()
        var last: Packet? = nil
        for (i, f) in frames.enumerated() {
            let (v, p) = decode(f, decoder: &decoder)
            #expect(v == .decoded)
            #expect(p.isFragment == (i < frames.count - 1))
            last = p
        }
        #expect(last?.reassembled == true)
        #expect(last?.destinationPort == 2000)
        #expect(last?.payload.toArray() == (0..<64).map { UInt8($0) })
        #expect(decoder.stats.reassembled == 1)
        #expect(decoder.defragmenter.pendingDatagrams == 0)
        #expect(decoder.defragmenter.memoryUsed == 0)
    }

    @Test func outOfOrderFragmentsReassemble() {
        var decoder = Decoder()
        let (_, frames) = fragments()
        var result: Packet? = nil
        for f in frames.reversed() {
            let (_, p) = decode(f, decoder: &decoder)
            if p.reassembled { result = p }
        }
        #expect(result?.payload.count == 64)
    }

    @Test func overlappingDataKeepsTheFirstCopy() {
        var decoder = Decoder()
        let (whole, frames) = fragments(size: 24)
        // A forged fragment at offset 8 with different bytes, sent after the first fragment.
        let forged = [UInt8](repeating: 0xEE, count: 16)
        let forgedFrame = Sample.ether(0x0800, Frames.ipv4Header(src: Sample.client4, dst: Sample.server4, proto: 17, id: 77, ttl: 64, payloadLength: 16, flags: 0x2000 | 1) + forged)
        _ = decode(frames[0], decoder: &decoder)
        _ = decode(forgedFrame, decoder: &decoder)
        var result: Packet? = nil
        for f in frames.dropFirst() {
            let (_, p) = decode(f, decoder: &decoder)
            if p.reassembled { result = p }
        }
        #expect(decoder.stats[.ipv4FragmentOverlap] >= 1)
        #expect(result?.payload.toArray() == Array(whole.dropFirst(8)))
    }

    @Test func incompleteDatagramTimesOut() {
        var decoder = Decoder()
        let (_, frames) = fragments()
        _ = decode(frames[0], decoder: &decoder, at: 1_000_000_000)
        #expect(decoder.defragmenter.pendingDatagrams == 1)
        _ = decode(Sample.udpDNS, decoder: &decoder, at: 200_000_000_000)
        _ = decode(fragments(id: 99).frames[0], decoder: &decoder, at: 200_000_000_000)
        #expect(decoder.stats.defragTimeouts == 1)
        #expect(decoder.defragmenter.pendingDatagrams == 1)
    }

    @Test func memcapRefusesFragmentsAndCountsThem() {
        var limits = Defragmenter.Limits()
        limits.memcap = 40
        var decoder = Decoder(defragLimits: limits)
        _ = decode(fragments(id: 1).frames[0], decoder: &decoder)
        let (v, _) = decode(fragments(id: 2).frames[0], decoder: &decoder)
        #expect(v == .rejected(.defragMemcapReached))
        #expect(decoder.defragmenter.memoryUsed <= 40)
    }

    @Test func fragmentEndingPast65535IsRejected() {
        let piece = [UInt8](repeating: 0, count: 16)
        let frame = Sample.ether(0x0800, Frames.ipv4Header(src: Sample.client4, dst: Sample.server4, proto: 17, id: 5, ttl: 64, payloadLength: 16, flags: 0x1FFF) + piece)
        #expect(decode(frame).0 == .rejected(.ipv4FragmentTooLarge))
    }

    @Test func ipv6FragmentsReassemble() {
        var decoder = Decoder()
        let udp = Frames.udp(src: Sample.client6, dst: Sample.server6, sport: 1, dport: 53, payload: (0..<40).map { UInt8($0) })
        let first = Array(udp[0..<24]), second = Array(udp[24...])
        func frame(_ data: [UInt8], offset: Int, more: Bool) -> [UInt8] {
            let fh: [UInt8] = [17, 0] + Frames.be16(UInt16(offset) | (more ? 1 : 0)) + [0, 0, 0, 0x42]
            return Sample.ether(0x86DD, Frames.ipv6Header(src: Sample.client6, dst: Sample.server6, next: 44, hopLimit: 64, payloadLength: fh.count + data.count) + fh + data)
        }
        let (v1, p1) = decode(frame(first, offset: 0, more: true), decoder: &decoder)
        #expect(v1 == .decoded && p1.isFragment)
        let (v2, p2) = decode(frame(second, offset: 24, more: false), decoder: &decoder)
        #expect(v2 == .decoded)
        #expect(p2.reassembled && p2.destinationPort == 53 && p2.payload.count == 40)
    }
}

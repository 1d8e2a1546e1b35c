import HNCapGen
@testable import HNDecode
import Testing

/// The key that shares flows out among workers.
@Suite struct ShardKeyTests {
    /// Ethernet, an optional VLAN tag, IPv4 with 20 bytes of transport after it.
    static func frame(_ src: [UInt8], _ dst: [UInt8], vlan: Bool = false, fragmentOffset: UInt16 = 0, proto: UInt8 = 6) -> [UInt8] {
        var f: [UInt8] = Array(repeating: 0, count: 12)
        if vlan { f += [0x81, 0x00, 0x00, 0x0A] }
        f += [0x08, 0x00]
        f += [0x45, 0, 0, 40, 0, 1, UInt8(fragmentOffset >> 8), UInt8(fragmentOffset & 0xFF), 64, proto, 0, 0] + src + dst
        f += [UInt8](repeating: 0, count: 20)
        return f
    }

    static func key(_ f: [UInt8], _ link: Int32 = 1) -> UInt64 { f.withUnsafeBytes { ShardKey.key(ByteView($0), linkType: link) } }
    static func pairs(_ f: [UInt8], _ link: Int32 = 1) -> (inner: UInt64, outer: UInt64) {
        f.withUnsafeBytes { ShardKey.pairs(ByteView($0), linkType: link) }
    }

    let a: [UInt8] = [10, 1, 2, 3], b: [UInt8] = [192, 0, 2, 80]

    /// Both directions of a flow, and every fragment of a datagram, hash to the same worker.
    @Test func bothDirectionsFragmentsAndVLANTagsGiveOneKey() {
        let f = ShardKeyTests.self
        #expect(f.key(f.frame(a, b)) == f.key(f.frame(b, a)))
        #expect(f.key(f.frame(a, b)) == f.key(f.frame(a, b, fragmentOffset: 0x00B9, proto: 17)))
        #expect(f.key(f.frame(a, b)) == f.key(f.frame(b, a, vlan: true)))
        #expect(f.key(f.frame(a, b)) != f.key(f.frame(a, [192, 0, 2, 81])))
        // Raw IP: the same pair as behind Ethernet.
        #expect(f.key(Array(f.frame(a, b)[14...]), 101) == f.key(f.frame(b, a)))
    }

    @Test func aTunnelKeysItsInnerPairAndKeepsTheOuterOne() {
        let f = ShardKeyTests.self
        let inner = Array(f.frame(a, b)[14...])
        let outerA: [UInt8] = [198, 51, 100, 1], outerB: [UInt8] = [198, 51, 100, 2]
        // IP-in-IP: an outer IPv4 header (protocol 4) around the inner packet.
        let ipip: [UInt8] = [UInt8](repeating: 0, count: 12) + [0x08, 0x00] + Frames.ipv4Header(src: outerA, dst: outerB, proto: 4, id: 1, ttl: 64,
                                                                                                  payloadLength: inner.count) + inner
        // GRE (protocol 47) carrying IPv4 (0x0800).
        let gre: [UInt8] = [UInt8](repeating: 0, count: 12) + [0x08, 0x00] + Frames.ipv4Header(src: outerB, dst: outerA, proto: 47, id: 1, ttl: 64,
                                                                                                 payloadLength: inner.count + 4) + [0, 0, 0x08, 0x00] + inner
        let plain = f.key(f.frame(a, b))
        #expect(f.pairs(ipip).inner == plain && f.pairs(gre).inner == plain)
        #expect(f.pairs(ipip).outer == f.pairs(gre).outer)
        #expect(f.pairs(ipip).outer != plain)
    }

    /// Frames too short, cut anywhere, or of unknown link types give a key without reading
    /// past their end (worker 0 for what has no address pair).
    @Test func truncatedAndUnknownFramesNeverTrap() {
        let f = ShardKeyTests.self
        #expect(f.key(Array(f.frame(a, b)[0..<20])) == 0)
        #expect(f.key([0x45], 101) == 0)
        #expect(f.key(f.frame(a, b), 147) == 0)
        let whole = f.frame(a, b, vlan: true)
        for cut in 0..<whole.count { _ = f.key(Array(whole[0..<cut])) }
        var random = SeededRandom(seed: 11)
        for _ in 0..<20_000 {
            var frame = whole
            for _ in 0..<3 { frame[random.below(frame.count)] = UInt8(truncatingIfNeeded: random.next()) }
            for link: Int32 in [1, 101, 113, 276, 0] { _ = f.key(Array(frame.prefix(random.below(frame.count + 1))), link) }
        }
    }
}

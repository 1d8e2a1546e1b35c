/// The key that shares flows out among workers: a hash of the IP address pair, symmetric in
/// the two directions and the same for every flow of a pair, followed through IP-in-IP, GRE,
/// transparent Ethernet bridging and ERSPAN (mirrored traffic reaching the sensor from several
/// switches is one flow). A fragment hashes on the pair it carries (inner headers are in the
/// first fragment only), so every fragment of a datagram meets in one worker. Frames without
/// an IP header this reads go to worker 0 (key 0). Every read goes through `ByteView`'s
/// bounds checks: a truncated or hostile frame gives a key, never a trap.
public enum ShardKey {
    /// Tunnel layers followed at most.
    public static let maxDepth = 4

    @inline(__always)
    static func mix(_ x: UInt64) -> UInt64 {
        var z = x &+ 0x9E37_79B9_7F4A_7C15
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// The key of the innermost address pair.
    public static func key(_ frame: ByteView, linkType: Int32) -> UInt64 { pairs(frame, linkType: linkType).inner }

    /// The keys of the innermost and the outermost address pair (equal without a tunnel).
    public static func pairs(_ frame: ByteView, linkType: Int32) -> (inner: UInt64, outer: UInt64) {
        var offset: Int
        var etherType: Int
        switch linkType {
        case 1:  // Ethernet
            guard let (o, t) = ethernet(frame, 0) else { return (0, 0) }
            offset = o; etherType = t
        case 113:  // Linux cooked v1
            guard frame.count >= 16, let t = frame.u16(14) else { return (0, 0) }
            offset = 16; etherType = Int(t)
        case 276:  // Linux cooked v2
            guard frame.count >= 20, let t = frame.u16(0) else { return (0, 0) }
            offset = 20; etherType = Int(t)
        case 0, 108, 12, 14, 101, 228, 229:  // BSD loopback (a 4-byte family first), raw IP
            offset = linkType == 0 || linkType == 108 ? 4 : 0
            guard let first = frame.u8(offset) else { return (0, 0) }
            etherType = first >> 4 == 6 ? 0x86DD : 0x0800
        default:
            return (0, 0)
        }
        var pair: UInt64 = 0
        var outer: UInt64? = nil
        for _ in 0...maxDepth {
            guard let (hash, next, nextOffset) = ip(frame, offset, etherType) else { return (pair, outer ?? pair) }
            pair = hash
            if outer == nil { outer = hash }
            guard let next else { return (pair, outer ?? pair) }
            switch UInt8(truncatingIfNeeded: next) {
            case IPProto.ipip, IPProto.ipv6:
                offset = nextOffset
                etherType = next == Int(IPProto.ipip) ? 0x0800 : 0x86DD
            case IPProto.gre:
                guard let (o, t) = gre(frame, nextOffset) else { return (pair, outer ?? pair) }
                offset = o; etherType = t
            default:
                return (pair, outer ?? pair)
            }
        }
        return (pair, outer ?? pair)
    }

    /// The payload offset and EtherType of an Ethernet header at `at`, past VLAN tags.
    static func ethernet(_ frame: ByteView, _ at: Int) -> (Int, Int)? {
        guard frame.count >= at + 14, let first = frame.u16(at + 12) else { return nil }
        var offset = at + 14
        var type = Int(first)
        while type == 0x8100 || type == 0x88A8 || type == 0x9100 {
            guard let inner = frame.u16(offset + 2) else { return nil }
            type = Int(inner)
            offset += 4
        }
        return (offset, type)
    }

    /// The hash of an IP header's address pair, and its tunnelled protocol and offset (nil
    /// for a fragment or a protocol that carries no further IP header).
    static func ip(_ frame: ByteView, _ offset: Int, _ etherType: Int) -> (UInt64, Int?, Int)? {
        switch etherType {
        case 0x0800:
            guard frame.count >= offset + 20, let a = frame.u32(offset + 12), let b = frame.u32(offset + 16),
                  let versionLength = frame.u8(offset), let flags = frame.u16(offset + 6), let proto = frame.u8(offset + 9) else { return nil }
            let pair = mix(UInt64(a)) &+ mix(UInt64(b))
            let headerLength = Int(versionLength & 0x0F) * 4
            let fragment = Int(flags) & 0x3FFF != 0
            guard !fragment, headerLength >= 20 else { return (pair, nil, 0) }
            return (pair, Int(proto), offset + headerLength)
        case 0x86DD:
            guard frame.count >= offset + 40, let s0 = frame.u64(offset + 8), let s1 = frame.u64(offset + 16),
                  let d0 = frame.u64(offset + 24), let d1 = frame.u64(offset + 32), let next = frame.u8(offset + 6) else { return nil }
            let a = mix(s0 ^ mix(s1))
            let b = mix(d0 ^ mix(d1))
            return (a &+ b, Int(next), offset + 40)
        default:
            return nil
        }
    }

    /// The payload of a GRE version 0 header: IP, or a bridged or ERSPAN II Ethernet frame.
    static func gre(_ frame: ByteView, _ at: Int) -> (Int, Int)? {
        guard let flagWord = frame.u16(at), let protoWord = frame.u16(at + 2) else { return nil }
        let flags = Int(flagWord), proto = Int(protoWord)
        guard flags & 0x4007 == 0 else { return nil }
        var offset = at + 4
        if flags & 0x8000 != 0 { offset += 4 }
        if flags & 0x2000 != 0 { offset += 4 }
        if flags & 0x1000 != 0 { offset += 4 }
        switch proto {
        case 0x0800, 0x86DD: return (offset, proto)
        case 0x6558: return ethernet(frame, offset)
        case 0x88BE: return ethernet(frame, offset + 8)
        default: return nil
        }
    }
}

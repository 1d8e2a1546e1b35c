/// Builders for the headers the generator writes, with correct lengths and checksums.
public enum Frames {
    public static func be16(_ v: UInt16) -> [UInt8] { [UInt8(v >> 8), UInt8(v & 0xFF)] }
    public static func be32(_ v: UInt32) -> [UInt8] {
        [UInt8(v >> 24), UInt8((v >> 16) & 0xFF), UInt8((v >> 8) & 0xFF), UInt8(v & 0xFF)]
    }

    /// Parses dotted-quad text; the generator only ever passes literals it owns.
    public static func ipv4(_ text: String) -> [UInt8] {
        let parts = text.split(separator: ".").compactMap { UInt8($0) }
        precondition(parts.count == 4, "generator address \(text)")
        return parts
    }

    /// Expands IPv6 text with "::" into 16 bytes.
    public static func ipv6(_ text: String) -> [UInt8] {
        let halves = text.split(separator: "::", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
        func groups(_ s: String) -> [UInt16] { s.isEmpty ? [] : s.split(separator: ":").compactMap { UInt16($0, radix: 16) } }
        let head = groups(halves[0]), tail = halves.count > 1 ? groups(halves[1]) : []
        let all = head + [UInt16](repeating: 0, count: 8 - head.count - tail.count) + tail
        return all.flatMap { be16($0) }
    }

    public static func checksum(_ data: [UInt8], initial: UInt32 = 0) -> UInt16 {
        var sum = initial
        var i = 0
        while i + 1 < data.count {
            sum += UInt32(data[i]) << 8 | UInt32(data[i + 1])
            i += 2
        }
        if i < data.count { sum += UInt32(data[i]) << 8 }
        while sum >> 16 != 0 { sum = (sum & 0xFFFF) + (sum >> 16) }
        return ~UInt16(sum)
    }

    static func pseudoSum(_ src: [UInt8], _ dst: [UInt8], proto: UInt8, length: Int) -> UInt32 {
        var header = src + dst
        if src.count == 4 {
            header += [0, proto] + be16(UInt16(length))
        } else {
            header += be32(UInt32(length)) + [0, 0, 0, proto]
        }
        var sum: UInt32 = 0
        var i = 0
        while i + 1 < header.count { sum += UInt32(header[i]) << 8 | UInt32(header[i + 1]); i += 2 }
        return sum
    }

    public static func ethernet(src: [UInt8], dst: [UInt8], type: UInt16, vlan: UInt16? = nil, _ payload: [UInt8]) -> [UInt8] {
        var frame = dst + src
        if let vlan { frame += be16(0x8100) + be16(vlan) }
        return frame + be16(type) + payload
    }

    public static func ipv4Header(src: [UInt8], dst: [UInt8], proto: UInt8, id: UInt16, ttl: UInt8,
                                  payloadLength: Int, flags: UInt16 = 0x4000) -> [UInt8] {
        var h: [UInt8] = [0x45, 0] + be16(UInt16(20 + payloadLength)) + be16(id) + be16(flags) + [ttl, proto, 0, 0]
        h += src + dst
        let c = checksum(h)
        h[10] = UInt8(c >> 8); h[11] = UInt8(c & 0xFF)
        return h
    }

    public static func ipv6Header(src: [UInt8], dst: [UInt8], next: UInt8, hopLimit: UInt8, payloadLength: Int) -> [UInt8] {
        [0x60, 0, 0, 0] + be16(UInt16(payloadLength)) + [next, hopLimit] + src + dst
    }

    /// A TCP segment with checksum over the pseudo-header of `src`/`dst` (4 or 16 bytes).
    public static func tcp(src: [UInt8], dst: [UInt8], sport: UInt16, dport: UInt16, seq: UInt32, ack: UInt32,
                           flags: UInt8, window: UInt16 = 64240, options: [UInt8] = [], payload: [UInt8] = []) -> [UInt8] {
        precondition(options.count % 4 == 0)
        let headerLength = 20 + options.count
        var seg = be16(sport) + be16(dport) + be32(seq) + be32(ack)
        seg += [UInt8(headerLength / 4) << 4, flags] + be16(window) + [0, 0, 0, 0] + options + payload
        let c = checksum(seg, initial: pseudoSum(src, dst, proto: 6, length: seg.count))
        seg[16] = UInt8(c >> 8); seg[17] = UInt8(c & 0xFF)
        return seg
    }

    public static func udp(src: [UInt8], dst: [UInt8], sport: UInt16, dport: UInt16, payload: [UInt8]) -> [UInt8] {
        var d = be16(sport) + be16(dport) + be16(UInt16(8 + payload.count)) + [0, 0] + payload
        var c = checksum(d, initial: pseudoSum(src, dst, proto: 17, length: d.count))
        if c == 0 { c = 0xFFFF }
        d[6] = UInt8(c >> 8); d[7] = UInt8(c & 0xFF)
        return d
    }

    public static func icmpEcho(type: UInt8, id: UInt16, seq: UInt16, payload: [UInt8]) -> [UInt8] {
        var m: [UInt8] = [type, 0, 0, 0] + be16(id) + be16(seq) + payload
        let c = checksum(m)
        m[2] = UInt8(c >> 8); m[3] = UInt8(c & 0xFF)
        return m
    }
}

/// A deterministic pseudo-random generator (SplitMix64): the same seed gives the same capture.
public struct SeededRandom: Sendable {
    var state: UInt64
    public init(seed: UInt64) { state = seed }
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    public mutating func below(_ n: Int) -> Int { Int(next() % UInt64(max(1, n))) }
    public mutating func bytes(_ n: Int) -> [UInt8] { (0..<n).map { _ in UInt8(truncatingIfNeeded: next()) } }
}

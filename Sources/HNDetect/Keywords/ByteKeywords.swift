import HNDecode

/// A comparison on a number (`dsize`, `ttl`, `bsize`, `itype`, …): `N`, `!N`, `<N`, `>N`,
/// `<=N`, `>=N`, `N<>M` (exclusive range) or `N-M` (inclusive, as `ttl` writes it).
public struct NumberRange: Sendable, Equatable {
    public enum Op: Sendable, Equatable { case eq, ne, lt, gt, le, ge, between, inclusive }
    public var op: Op
    public var a: Int
    public var b: Int

    @inlinable
    public func matches(_ x: Int) -> Bool {
        switch op {
        case .eq: x == a
        case .ne: x != a
        case .lt: x < a
        case .gt: x > a
        case .le: x <= a
        case .ge: x >= a
        case .between: x > a && x < b
        case .inclusive: x >= a && x <= b
        }
    }

    static func parse(_ text: String, allowDash: Bool = false) -> NumberRange? {
        let t = text.filter { $0 != " " }
        func num(_ s: Substring) -> Int? { Int(s) }
        let chars = Array(t)
        if let k = (0..<max(0, chars.count - 1)).first(where: { chars[$0] == "<" && chars[$0 + 1] == ">" }) {
            guard let a = Int(String(chars[..<k])), let b = Int(String(chars[(k + 2)...])), a < b else { return nil }
            return .init(op: .between, a: a, b: b)
        }
        for (prefix, op) in [("<=", Op.le), (">=", .ge), ("<", .lt), (">", .gt), ("!", .ne), ("=", .eq)] where t.hasPrefix(prefix) {
            guard let a = num(t.dropFirst(prefix.count)) else { return nil }
            return .init(op: op, a: a, b: 0)
        }
        if allowDash, let dash = t.firstIndex(of: "-"), dash != t.startIndex {
            guard let a = num(t[..<dash]), let b = num(t[t.index(after: dash)...]), a <= b else { return nil }
            return .init(op: .inclusive, a: a, b: b)
        }
        guard let a = num(Substring(t)) else { return nil }
        return .init(op: .eq, a: a, b: 0)
    }
}

/// How a byte_test or byte_jump reads its number.
public struct ByteReader: Sendable {
    public var count: Int
    public var littleEndian = false
    /// Radix of an ASCII number (`string,dec|hex|oct`), or nil for binary.
    public var stringBase: Int? = nil
    public var bitmask: UInt64? = nil

    /// Reads the number at `at`; nil when the bytes are missing or not a number.
    func read(_ buffer: ByteView, at: Int) -> UInt64? {
        // A count of 0 (string reads only) takes the rest of the buffer.
        guard let bytes = count == 0 ? buffer.suffix(from: at) : buffer.slice(at, count) else { return nil }
        var value: UInt64 = 0
        if let base = stringBase {
            guard let number = parseASCIINumber(bytes, base: base) else { return nil }
            value = number
        } else if littleEndian {
            for i in (0..<count).reversed() { value = value << 8 | UInt64(bytes.u8(i) ?? 0) }
        } else {
            for i in 0..<count { value = value << 8 | UInt64(bytes.u8(i) ?? 0) }
        }
        if let mask = bitmask {
            value &= mask
            var m = mask
            while m != 0 && m & 1 == 0 { m >>= 1; value >>= 1 }
        }
        return value
    }
}

/// Parses an ASCII number in a byte view.
func parseASCIINumber(_ bytes: ByteView, base: Int) -> UInt64? {
    var value: UInt64 = 0
    var digits = 0
    for i in 0..<bytes.count {
        guard let b = bytes.u8(i) else { return nil }
        let d: UInt64
        switch b {
        case 48...57: d = UInt64(b - 48)
        case 97...102 where base == 16: d = UInt64(b - 87)
        case 65...70 where base == 16: d = UInt64(b - 55)
        case 32 where digits == 0: continue
        default:
            if digits == 0 { return nil }
            return value
        }
        guard d < UInt64(base) else { return digits == 0 ? nil : value }
        let (m, o1) = value.multipliedReportingOverflow(by: UInt64(base))
        let (s, o2) = m.addingReportingOverflow(d)
        if o1 || o2 { return nil }
        value = s
        digits += 1
    }
    return digits == 0 ? nil : value
}

/// `byte_test`: reads a number and compares it.
public struct ByteTest: Sendable {
    public enum Op: Sendable { case lt, gt, eq, le, ge, and, xor }
    public var reader: ByteReader
    public var op: Op
    public var negated: Bool
    public var value: UInt64
    public var offset: Int
    public var relative = false

    func matches(_ buffer: ByteView, position: Int) -> Bool {
        let at = (relative ? position : 0) + offset
        guard let v = reader.read(buffer, at: at) else { return false }
        let result: Bool
        switch op {
        case .lt: result = v < value
        case .gt: result = v > value
        case .eq: result = v == value
        case .le: result = v <= value
        case .ge: result = v >= value
        case .and: result = v & value != 0
        case .xor: result = v ^ value != 0
        }
        return result != negated
    }
}

/// `byte_jump`: reads a number and moves the cursor by it.
public struct ByteJump: Sendable {
    public var reader: ByteReader
    public var offset: Int
    public var relative = false
    public var multiplier: UInt64 = 1
    public var align = false
    public var fromBeginning = false
    public var fromEnd = false
    public var postOffset = 0

    /// The new cursor, or nil when the read fails or the jump leaves the buffer.
    func jump(_ buffer: ByteView, position: Int) -> Int? {
        let at = (relative ? position : 0) + offset
        guard let v = reader.read(buffer, at: at) else { return nil }
        let (scaled, overflow) = v.multipliedReportingOverflow(by: multiplier)
        guard !overflow, scaled < UInt64(Int32.max) else { return nil }
        var amount = Int(scaled)
        if align && amount % 4 != 0 { amount += 4 - amount % 4 }
        var target: Int
        if fromBeginning {
            target = amount
        } else if fromEnd {
            target = buffer.count + amount
        } else {
            target = at + reader.count + amount
        }
        target += postOffset
        // A negative `post_offset` may not take the cursor before the buffer: it stops at its
        // start (as Suricata does).
        if target < 0 && postOffset < 0 && target - postOffset >= 0 { target = 0 }
        guard target >= 0, target <= buffer.count else { return nil }
        return target
    }
}

/// `isdataat`: is there data at an offset (absolute or after the cursor)?
public struct IsDataAt: Sendable {
    public var offset: Int
    public var negated = false
    public var relative = false

    func matches(_ buffer: ByteView, position: Int) -> Bool {
        let at = (relative ? position : 0) + offset
        let has = at >= 0 && at < buffer.count
        return has != negated
    }
}

/// `bsize` and `urilen`: the buffer length compared with a range.
public struct SizeCheck: Sendable {
    public var range: NumberRange
}

extension Builder {
    /// The comma-separated parts of a byte_test or byte_jump argument (at least `minimum`)
    /// and the reader its count and options describe.
    func parseReader(_ value: String, minimum: Int, expected: String, zeroJump: Bool = false) -> Result<([String], ByteReader), OptionProblem> {
        let parts = value.split(separator: ",").map { String($0.trimmingSpaces) }
        guard parts.count >= minimum else { return .failure(Builder.problem("expected \(expected)")) }
        return parseReader(parts, countIndex: 0, zeroJump: zeroJump).map { (parts, $0) }
    }

    /// Appends a parsed item to the current buffer, or returns why it did not parse.
    mutating func appendParsed<T>(_ result: Result<T, OptionProblem>, _ item: (T) -> MatchItem) -> OptionProblem? {
        switch result {
        case .failure(let m): return m
        case .success(let value):
            append(item(value), to: currentBuffer)
            return nil
        }
    }

    func parseReader(_ parts: [String], countIndex: Int, zeroJump: Bool = false) -> Result<ByteReader, OptionProblem> {
        let isString = parts.contains("string")
        // With `string`, a count of 0 reads the whole buffer (Suricata 7, for http.content_len);
        // `byte_jump` reads nothing with it (a jump of 0: only `post_offset` moves the cursor).
        guard let count = Int(parts[countIndex]), count >= (isString || zeroJump ? 0 : 1), count <= (isString ? 20 : 10) else {
            return .failure(Builder.problem("the byte count must be 1 to 10"))
        }
        var reader = ByteReader(count: count)
        var i = 0
        while i < parts.count {
            let p = parts[i]
            switch p {
            case "little": reader.littleEndian = true
            case "big": reader.littleEndian = false
            case "string": if reader.stringBase == nil { reader.stringBase = 10 }
            case "dec": reader.stringBase = 10
            case "hex": reader.stringBase = 16
            case "oct": reader.stringBase = 8
            default:
                if p.hasPrefix("bitmask") {
                    let v = p.dropFirst("bitmask".count).trimmingSpaces
                    guard let m = v.hasPrefix("0x") ? UInt64(v.dropFirst(2), radix: 16) : UInt64(v) else {
                        return .failure(Builder.problem("bad bitmask"))
                    }
                    reader.bitmask = m
                }
            }
            i += 1
        }
        if reader.stringBase == nil && ![1, 2, 3, 4, 8].contains(count) && count > 8 {
            return .failure(Builder.problem("binary reads take at most 8 bytes"))
        }
        return .success(reader)
    }
}

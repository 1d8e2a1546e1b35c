import HNDecode

/// `content` with its modifiers: a byte pattern searched in one buffer.
public struct ContentMatch: Sendable {
    public var pattern: [UInt8]
    /// Lower-cased pattern for `nocase` comparisons.
    @usableFromInline var folded: [UInt8]
    public var negated = false
    public var nocase = false {
        didSet { folded = nocase ? pattern.map(ContentMatch.lower) : pattern }
    }
    public var offset: Int? = nil
    public var depth: Int? = nil
    public var distance: Int? = nil
    public var within: Int? = nil
    public var startsWith = false
    public var endsWith = false
    public var fastPattern = false

    public init(pattern: [UInt8]) {
        self.pattern = pattern
        self.folded = pattern
    }

    public var isRelative: Bool { distance != nil || within != nil }

    @usableFromInline @inline(__always)
    static func lower(_ b: UInt8) -> UInt8 { b >= 65 && b <= 90 ? b | 0x20 : b }

    /// Parses a content value: `"text|0d 0a|more"` with `\"`, `\\`, `\;`, `\:` escapes.
    static func decode(_ value: String) -> Result<[UInt8], OptionProblem> {
        var bytes: [UInt8] = []
        var inHex = false
        var hexDigits: [UInt8] = []
        var escaped = false
        for b in value.utf8 {
            if inHex {
                if b == UInt8(ascii: "|") {
                    guard hexDigits.isEmpty else { return .failure("odd number of hex digits in '|…|'") }
                    inHex = false
                } else if b == 0x20 || b == 0x09 {
                    guard hexDigits.isEmpty else { return .failure("hex byte split by a space") }
                } else if let v = hexValue(b) {
                    hexDigits.append(v)
                    if hexDigits.count == 2 {
                        bytes.append(hexDigits[0] << 4 | hexDigits[1])
                        hexDigits.removeAll()
                    }
                } else {
                    return .failure("invalid hex character '\(Character(Unicode.Scalar(b)))' in '|…|'")
                }
                continue
            }
            if escaped {
                bytes.append(b)
                escaped = false
            } else if b == UInt8(ascii: "\\") {
                escaped = true
            } else if b == UInt8(ascii: "|") {
                inHex = true
            } else {
                bytes.append(b)
            }
        }
        if inHex { return .failure("unterminated '|…|' hex block") }
        if escaped { return .failure("content ends with a lone backslash") }
        if bytes.isEmpty { return .failure("empty content") }
        return .success(bytes)
    }

    static func hexValue(_ b: UInt8) -> UInt8? {
        switch b {
        case 48...57: b - 48
        case 65...70: b - 55
        case 97...102: b - 87
        default: nil
        }
    }

    /// The first occurrence of the pattern starting in `[from, limit - count]` of `buffer`,
    /// as the start index; nil when none.
    @inlinable
    func find(in buffer: ByteView, from: Int, limit: Int) -> Int? {
        let n = pattern.count
        let end = min(limit, buffer.count) - n
        guard n > 0, from >= 0, from <= end, let base = buffer.rawBuffer.baseAddress else { return nil }
        return folded.withUnsafeBufferPointer { p -> Int? in
            let first = p[0]
            var i = from
            while i <= end {
                let b = base.load(fromByteOffset: i, as: UInt8.self)
                if (nocase ? ContentMatch.lower(b) : b) == first {
                    var j = 1
                    while j < n {
                        let c = base.load(fromByteOffset: i + j, as: UInt8.self)
                        if (nocase ? ContentMatch.lower(c) : c) != p[j] { break }
                        j += 1
                    }
                    if j == n { return i }
                }
                i += 1
            }
            return nil
        }
    }
}

extension Builder {
    /// `content`, `uricontent` (payload).
    mutating func applyContent(_ name: String, _ value: String?) -> OptionProblem? {
        guard var v = value?.trimmingSpaces else { return Builder.problem("needs a value") }
        var negated = false
        if v.hasPrefix("!") { negated = true; v = String(v.dropFirst()).trimmingSpaces }
        guard v.hasPrefix("\""), v.hasSuffix("\""), v.count >= 2 else { return Builder.problem("the pattern must be in double quotes") }
        switch ContentMatch.decode(String(v.dropFirst().dropLast())) {
        case .failure(let m): return m
        case .success(let bytes):
            var c = ContentMatch(pattern: bytes)
            c.negated = negated
            append(.content(c), to: name == "uricontent" ? .httpURI : currentBuffer)
        }
        return nil
    }
}

/// An IPv4 or IPv6 address in 128 bits. IPv4 addresses are held in their IPv4-mapped IPv6 form
/// (::ffff:a.b.c.d), so one type serves flow keys, indicators and CIDR matching for both
/// families without an existential or an enum payload.
public struct IPAddress: Hashable, Comparable, Sendable {
    public var high: UInt64
    public var low: UInt64

    @inlinable
    public init(high: UInt64, low: UInt64) {
        self.high = high
        self.low = low
    }

    /// An IPv4 address from its 32-bit big-endian value.
    @inlinable
    public init(ipv4 value: UInt32) {
        self.high = 0
        self.low = 0x0000_FFFF_0000_0000 | UInt64(value)
    }

    public static let zero = IPAddress(high: 0, low: 0)

    @inlinable
    public var isIPv4: Bool { high == 0 && (low >> 32) == 0x0000_FFFF }

    /// The 32-bit IPv4 value (meaningful only when `isIPv4`).
    @inlinable
    public var ipv4Value: UInt32 { UInt32(truncatingIfNeeded: low) }

    @inlinable
    public static func < (a: IPAddress, b: IPAddress) -> Bool {
        a.high != b.high ? a.high < b.high : a.low < b.low
    }

    static let hexDigits = Array("0123456789abcdef".utf8)

    /// The address as text with IPv6 in full: eight groups of four hex digits (Suricata's
    /// EVE default, `ipv6-compress: no`); dotted quad for IPv4.
    public var expanded: String {
        guard !isIPv4 else { return description }
        var out: [UInt8] = []
        out.reserveCapacity(39)
        let digits = IPAddress.hexDigits
        for i in 0..<8 {
            let word = i < 4 ? high : low
            let group = UInt16(truncatingIfNeeded: word >> (48 - 16 * UInt64(i % 4)))
            if i > 0 { out.append(UInt8(ascii: ":")) }
            for shift in stride(from: 12, through: 0, by: -4) { out.append(digits[Int(group >> UInt16(shift) & 0xF)]) }
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// The address as text: dotted quad for IPv4, RFC 5952 compressed form for IPv6.
    /// Allocates a String: output and tests only.
    public var description: String {
        if isIPv4 {
            // Written as digits into a small string (at most 15 bytes: no heap allocation);
            // EVE writes two addresses per record.
            let v = ipv4Value
            return String(unsafeUninitializedCapacity: 15) { out in
                var i = 0
                for shift in stride(from: UInt32(24), through: 0, by: -8) {
                    let octet = Int((v >> shift) & 0xFF)
                    if shift != 24 { out[i] = UInt8(ascii: "."); i += 1 }
                    if octet >= 100 { out[i] = UInt8(48 + octet / 100); i += 1 }
                    if octet >= 10 { out[i] = UInt8(48 + octet / 10 % 10); i += 1 }
                    out[i] = UInt8(48 + octet % 10)
                    i += 1
                }
                return i
            }
        }
        var groups = [UInt16](repeating: 0, count: 8)
        for i in 0..<4 {
            groups[i] = UInt16(truncatingIfNeeded: high >> (48 - 16 * UInt64(i)))
            groups[i + 4] = UInt16(truncatingIfNeeded: low >> (48 - 16 * UInt64(i)))
        }
        // Longest run of two or more zero groups is written as "::" (RFC 5952 section 4.2).
        var bestStart = -1, bestLen = 0, i = 0
        while i < 8 {
            if groups[i] == 0 {
                var j = i
                while j < 8 && groups[j] == 0 { j += 1 }
                if j - i > bestLen && j - i >= 2 { bestStart = i; bestLen = j - i }
                i = j
            } else {
                i += 1
            }
        }
        var out = ""
        i = 0
        while i < 8 {
            if i == bestStart {
                out += "::"
                i += bestLen
                continue
            }
            if !out.isEmpty && !out.hasSuffix(":") { out += ":" }
            out += String(groups[i], radix: 16)
            i += 1
        }
        return out
    }

    /// Parses dotted-quad IPv4 or RFC 4291 IPv6 text (with "::" and an embedded IPv4 tail).
    public init?(_ text: Substring) {
        if !text.utf8.contains(UInt8(ascii: ":")) {
            guard let v = IPAddress.parseIPv4(text) else { return nil }
            self.init(ipv4: v)
            return
        }
        // At most one "::" splits the text into the groups before and after the zero run.
        let halves = IPAddress.splitOnDoubleColon(String(text))
        guard halves.count <= 2 else { return nil }
        guard let head = IPAddress.parseGroups(halves[0], allowIPv4Tail: halves.count == 1),
              let tail = halves.count == 2 ? IPAddress.parseGroups(halves[1], allowIPv4Tail: true) : [] else { return nil }
        let total = head.count + tail.count
        guard halves.count == 2 ? total <= 7 : total == 8 else { return nil }
        let groups = head + [UInt16](repeating: 0, count: 8 - total) + tail
        var hi: UInt64 = 0, lo: UInt64 = 0
        for i in 0..<4 { hi = hi << 16 | UInt64(groups[i]) }
        for i in 4..<8 { lo = lo << 16 | UInt64(groups[i]) }
        self.init(high: hi, low: lo)
    }

    private static func splitOnDoubleColon(_ text: String) -> [String] {
        var halves: [String] = []
        var current = ""
        var previousColon = false
        for ch in text {
            if ch == ":" && previousColon {
                current.removeLast()
                halves.append(current)
                current = ""
                previousColon = false
                continue
            }
            current.append(ch)
            previousColon = ch == ":"
        }
        halves.append(current)
        return halves
    }

    private static func parseGroups(_ text: String, allowIPv4Tail: Bool) -> [UInt16]? {
        if text.isEmpty { return [] }
        let parts = text.split(separator: ":", omittingEmptySubsequences: false)
        var groups: [UInt16] = []
        for (index, part) in parts.enumerated() {
            if part.contains(".") {
                guard allowIPv4Tail, index == parts.count - 1, let v = parseIPv4(part) else { return nil }
                groups.append(UInt16(v >> 16))
                groups.append(UInt16(v & 0xFFFF))
                continue
            }
            guard !part.isEmpty, part.count <= 4, part.allSatisfy(\.isHexDigit),
                  let g = UInt16(part, radix: 16) else { return nil }
            groups.append(g)
        }
        return groups
    }

    public init?(_ text: String) { self.init(Substring(text)) }

    /// Dotted-quad IPv4 from the UTF-8 bytes: four decimal octets of one to three digits.
    static func parseIPv4(_ text: Substring) -> UInt32? {
        var value: UInt32 = 0, octet: UInt32 = 0, digits = 0, dots = 0
        for b in text.utf8 {
            if b >= 0x30 && b <= 0x39 {
                octet = octet * 10 + UInt32(b - 0x30)
                digits += 1
                guard digits <= 3, octet <= 255 else { return nil }
            } else if b == UInt8(ascii: ".") {
                guard digits > 0, dots < 3 else { return nil }
                value = value << 8 | octet
                octet = 0
                digits = 0
                dots += 1
            } else {
                return nil
            }
        }
        guard dots == 3, digits > 0 else { return nil }
        return value << 8 | octet
    }
}

/// An address block in CIDR notation (`10.0.0.0/8`, `2001:db8::/32`).
public struct CIDR: Hashable, Sendable, CustomStringConvertible {
    public let network: IPAddress
    /// Prefix length in the 128-bit space (an IPv4 /8 is stored as /104).
    public let prefixLength: Int

    public init?(_ text: String) {
        let utf8 = text.utf8
        let slash = utf8.firstIndex(of: UInt8(ascii: "/"))
        guard let address = IPAddress(Substring(slash.map { utf8[..<$0] } ?? utf8[...])) else { return nil }
        let maxLength = address.isIPv4 ? 32 : 128
        var length = maxLength
        if let slash {
            let digits = utf8[utf8.index(after: slash)...]
            guard !digits.isEmpty, digits.count <= 3, digits.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else { return nil }
            let l = digits.reduce(0) { $0 * 10 + Int($1 - 0x30) }
            guard l <= maxLength else { return nil }
            length = l
        }
        let full = address.isIPv4 ? length + 96 : length
        self.prefixLength = full
        self.network = CIDR.mask(address, full)
    }

    public static func mask(_ a: IPAddress, _ length: Int) -> IPAddress {
        let hiMask: UInt64 = length >= 64 ? ~0 : (length == 0 ? 0 : ~0 << UInt64(64 - length))
        let loLength = length - 64
        let loMask: UInt64 = loLength >= 64 ? ~0 : (loLength <= 0 ? 0 : ~0 << UInt64(64 - loLength))
        return IPAddress(high: a.high & hiMask, low: a.low & loMask)
    }

    public func contains(_ address: IPAddress) -> Bool {
        CIDR.mask(address, prefixLength) == network
    }

    public var description: String {
        network.isIPv4 ? "\(network.description)/\(prefixLength - 96)" : "\(network.description)/\(prefixLength)"
    }
}
extension IPAddress: CustomStringConvertible {}

import HNDecode

/// A rule address expression (`any`, CIDRs, lists, negation, variables), resolved.
public indirect enum AddressMatcher: Sendable {
    case any
    /// A flattened expression: membership by binary search.
    case set(AddressIntervals)
    case block(CIDR)
    /// An inclusive range `first-last` (Suricata accepts them for IPv4 and IPv6).
    case range(IPAddress, IPAddress)
    case list(positive: [AddressMatcher], negative: [AddressMatcher])

    @inlinable
    public func matches(_ address: IPAddress) -> Bool {
        switch self {
        case .any: return true
        case .set(let s): return s.contains(address)
        case .block(let c): return c.contains(address)
        case .range(let lo, let hi): return address >= lo && address <= hi
        case .list(let positive, let negative):
            if !positive.isEmpty && !positive.contains(where: { $0.matches(address) }) { return false }
            return !negative.contains { $0.matches(address) }
        }
    }
}

/// A rule port expression (`any`, numbers, ranges, lists, negation, variables), resolved.
public indirect enum PortMatcher: Sendable {
    case any
    case range(UInt16, UInt16)
    case list(positive: [PortMatcher], negative: [PortMatcher])

    @inlinable
    public func matches(_ port: UInt16) -> Bool {
        switch self {
        case .any: return true
        case .range(let lo, let hi): return port >= lo && port <= hi
        case .list(let positive, let negative):
            if !positive.isEmpty && !positive.contains(where: { $0.matches(port) }) { return false }
            return !negative.contains { $0.matches(port) }
        }
    }

    var isAny: Bool { if case .any = self { return true } else { return false } }
}

/// Rule variables (`$HOME_NET`, `$HTTP_PORTS`), with Suricata's defaults for the ones a
/// configuration leaves unset.
public struct RuleVariables: Sendable {
    public var addressGroups: [String: String]
    public var portGroups: [String: String]

    public static let defaultAddressGroups: [String: String] = [
        "HOME_NET": "[192.168.0.0/16,10.0.0.0/8,172.16.0.0/12]",
        "EXTERNAL_NET": "!$HOME_NET",
        "HTTP_SERVERS": "$HOME_NET", "SMTP_SERVERS": "$HOME_NET", "SQL_SERVERS": "$HOME_NET",
        "DNS_SERVERS": "$HOME_NET", "TELNET_SERVERS": "$HOME_NET", "AIM_SERVERS": "$EXTERNAL_NET",
        "DC_SERVERS": "$HOME_NET", "DNP3_SERVER": "$HOME_NET", "DNP3_CLIENT": "$HOME_NET",
        "MODBUS_CLIENT": "$HOME_NET", "MODBUS_SERVER": "$HOME_NET", "ENIP_CLIENT": "$HOME_NET",
        "ENIP_SERVER": "$HOME_NET",
    ]
    public static let defaultPortGroups: [String: String] = [
        "HTTP_PORTS": "80", "SHELLCODE_PORTS": "!80", "ORACLE_PORTS": "1521", "SSH_PORTS": "22",
        "DNP3_PORTS": "20000", "MODBUS_PORTS": "502", "FILE_DATA_PORTS": "[$HTTP_PORTS,110,143]",
        "FTP_PORTS": "21", "GENEVE_PORTS": "6081", "VXLAN_PORTS": "4789", "TEREDO_PORTS": "3544",
    ]

    public init(homeNet: [CIDR]? = nil, addressGroups: [String: String] = [:], portGroups: [String: String] = [:]) {
        var a = RuleVariables.defaultAddressGroups
        if let homeNet, !homeNet.isEmpty { a["HOME_NET"] = "[" + homeNet.map(\.description).joined(separator: ",") + "]" }
        for (k, v) in addressGroups { a[k] = v }
        var p = RuleVariables.defaultPortGroups
        for (k, v) in portGroups { p[k] = v }
        self.addressGroups = a
        self.portGroups = p
    }

    enum ParseFailure: Error { case message(String) }

    /// Parses an address expression and flattens it into an interval set.
    func address(_ text: Substring) throws(ParseFailure) -> AddressMatcher {
        let m = try address(text, depth: 0)
        if case .any = m { return .any }
        let set = m.intervals
        return set.isFull ? .any : .set(set)
    }

    func address(_ text: Substring, depth: Int) throws(ParseFailure) -> AddressMatcher {
        guard depth < 16 else { throw .message("address variables nest too deep (a cycle?)") }
        let t = text.trimmingSpaces
        if t == "any" { return .any }
        if t.hasPrefix("!") {
            return .list(positive: [], negative: [try address(t.dropFirst(), depth: depth + 1)])
        }
        if t.hasPrefix("$") {
            let name = String(t.dropFirst())
            guard let value = addressGroups[name] else { throw .message("undefined address variable $\(name)") }
            return try address(Substring(value), depth: depth + 1)
        }
        if t.hasPrefix("[") {
            guard t.hasSuffix("]") else { throw .message("unbalanced '[' in address '\(t)'") }
            var positive: [AddressMatcher] = [], negative: [AddressMatcher] = []
            for element in try splitList(t.dropFirst().dropLast()) {
                let e = element.trimmingSpaces
                if e.hasPrefix("!") {
                    negative.append(try address(e.dropFirst(), depth: depth + 1))
                } else {
                    let m = try address(e, depth: depth + 1)
                    if case .any = m { continue }
                    positive.append(m)
                }
            }
            return .list(positive: positive, negative: negative)
        }
        if let dash = t.firstIndex(of: "-") {
            guard let lo = IPAddress(t[..<dash].trimmingSpaces), let hi = IPAddress(t[t.index(after: dash)...].trimmingSpaces),
                  lo.isIPv4 == hi.isIPv4, lo <= hi else { throw .message("invalid address range '\(t)'") }
            return .range(lo, hi)
        }
        guard let cidr = CIDR(String(t)) else { throw .message("invalid address '\(t)'") }
        return .block(cidr)
    }

    func ports(_ text: Substring, depth: Int = 0) throws(ParseFailure) -> PortMatcher {
        guard depth < 16 else { throw .message("port variables nest too deep (a cycle?)") }
        let t = text.trimmingSpaces
        if t == "any" { return .any }
        if t.hasPrefix("!") { return .list(positive: [], negative: [try ports(t.dropFirst(), depth: depth + 1)]) }
        if t.hasPrefix("$") {
            let name = String(t.dropFirst())
            guard let value = portGroups[name] else { throw .message("undefined port variable $\(name)") }
            return try ports(Substring(value), depth: depth + 1)
        }
        if t.hasPrefix("[") {
            guard t.hasSuffix("]") else { throw .message("unbalanced '[' in ports '\(t)'") }
            var positive: [PortMatcher] = [], negative: [PortMatcher] = []
            for element in try splitList(t.dropFirst().dropLast()) {
                let e = element.trimmingSpaces
                if e.hasPrefix("!") { negative.append(try ports(e.dropFirst(), depth: depth + 1)) } else {
                    positive.append(try ports(e, depth: depth + 1))
                }
            }
            return .list(positive: positive, negative: negative)
        }
        if let colon = t.firstIndex(of: ":") {
            let lo = t[..<colon].trimmingSpaces, hi = t[t.index(after: colon)...].trimmingSpaces
            guard let l = lo.isEmpty ? 0 : UInt16(lo), let h = hi.isEmpty ? 65535 : UInt16(hi), l <= h else {
                throw .message("invalid port range '\(t)'")
            }
            return .range(l, h)
        }
        guard let p = UInt16(t) else { throw .message("invalid port '\(t)'") }
        return .range(p, p)
    }

    /// Splits a bracketed list on top-level commas.
    func splitList(_ text: Substring) throws(ParseFailure) -> [Substring] {
        var parts: [Substring] = []
        var depth = 0
        var start = text.startIndex
        var i = text.startIndex
        while i < text.endIndex {
            switch text[i] {
            case "[": depth += 1
            case "]":
                depth -= 1
                if depth < 0 { throw .message("unbalanced ']' in '\(text)'") }
            case "," where depth == 0:
                parts.append(text[start..<i])
                start = text.index(after: i)
            default: break
            }
            i = text.index(after: i)
        }
        guard depth == 0 else { throw .message("unbalanced '[' in '\(text)'") }
        parts.append(text[start...])
        return parts.filter { !$0.trimmingSpaces.isEmpty }
    }
}

extension Substring {
    var trimmingSpaces: Substring {
        var s = self
        while let f = s.first, f == " " || f == "\t" { s = s.dropFirst() }
        while let l = s.last, l == " " || l == "\t" { s = s.dropLast() }
        return s
    }
}

extension String {
    var trimmingSpaces: String { String(Substring(self).trimmingSpaces) }
}

/// A set of addresses as sorted, disjoint, merged inclusive ranges: membership by binary
/// search, so a rule listing thousands of addresses (ET's block lists) costs a few compares.
public struct AddressIntervals: Sendable {
    public var ranges: [(lo: IPAddress, hi: IPAddress)]

    static let full = AddressIntervals(ranges: [(IPAddress(high: 0, low: 0), IPAddress(high: ~0, low: ~0))])

    public var isFull: Bool {
        ranges.count == 1 && ranges[0].lo == IPAddress(high: 0, low: 0) && ranges[0].hi == IPAddress(high: ~0, low: ~0)
    }

    @inlinable
    public func contains(_ a: IPAddress) -> Bool {
        var lo = 0, hi = ranges.count - 1
        while lo <= hi {
            let mid = (lo + hi) >> 1
            if a < ranges[mid].lo { hi = mid - 1 } else if a > ranges[mid].hi { lo = mid + 1 } else { return true }
        }
        return false
    }

    static func normalized(_ input: [(lo: IPAddress, hi: IPAddress)]) -> AddressIntervals {
        let sorted = input.sorted { $0.lo < $1.lo }
        var out: [(lo: IPAddress, hi: IPAddress)] = []
        for r in sorted {
            if let last = out.last, !(last.hi < r.lo) || last.hi.next == r.lo {
                if last.hi < r.hi { out[out.count - 1].hi = r.hi }
            } else {
                out.append(r)
            }
        }
        return AddressIntervals(ranges: out)
    }

    func union(_ other: AddressIntervals) -> AddressIntervals { .normalized(ranges + other.ranges) }

    /// Everything not in this set.
    func complement() -> AddressIntervals {
        var out: [(lo: IPAddress, hi: IPAddress)] = []
        var start: IPAddress? = IPAddress(high: 0, low: 0)
        for r in ranges {
            if let s = start, s < r.lo, let end = r.lo.previous { out.append((s, end)) }
            start = r.hi.next
        }
        if let s = start { out.append((s, IPAddress(high: ~0, low: ~0))) }
        return AddressIntervals(ranges: out)
    }

    func subtracting(_ other: AddressIntervals) -> AddressIntervals {
        intersection(other.complement())
    }

    func intersection(_ other: AddressIntervals) -> AddressIntervals {
        var out: [(lo: IPAddress, hi: IPAddress)] = []
        var i = 0, j = 0
        while i < ranges.count && j < other.ranges.count {
            let lo = max(ranges[i].lo, other.ranges[j].lo), hi = min(ranges[i].hi, other.ranges[j].hi)
            if !(hi < lo) { out.append((lo, hi)) }
            if ranges[i].hi < other.ranges[j].hi { i += 1 } else { j += 1 }
        }
        return AddressIntervals(ranges: out)
    }
}

extension IPAddress {
    /// The address after this one, or nil at the top of the space.
    var next: IPAddress? {
        if low == ~0 { return high == ~0 ? nil : IPAddress(high: high + 1, low: 0) }
        return IPAddress(high: high, low: low + 1)
    }

    var previous: IPAddress? {
        if low == 0 { return high == 0 ? nil : IPAddress(high: high - 1, low: ~0) }
        return IPAddress(high: high, low: low - 1)
    }
}

extension AddressMatcher {
    /// The matcher as an interval set (every expression is one).
    var intervals: AddressIntervals {
        switch self {
        case .any: return .full
        case .set(let s): return s
        case .block(let c):
            let width = 128 - c.prefixLength
            let hostMask: IPAddress
            if width >= 64 {
                hostMask = IPAddress(high: width == 128 ? ~0 : (1 << UInt64(width - 64)) - 1, low: ~0)
            } else {
                hostMask = IPAddress(high: 0, low: width == 0 ? 0 : (1 << UInt64(width)) - 1)
            }
            return AddressIntervals(ranges: [(c.network, IPAddress(high: c.network.high | hostMask.high, low: c.network.low | hostMask.low))])
        case .range(let lo, let hi): return AddressIntervals(ranges: [(lo, hi)])
        case .list(let positive, let negative):
            var base = positive.isEmpty ? AddressIntervals.full : AddressIntervals(ranges: [])
            for p in positive { base = base.union(p.intervals) }
            var excluded = AddressIntervals(ranges: [])
            for n in negative { excluded = excluded.union(n.intervals) }
            return base.subtracting(excluded)
        }
    }
}

import HNDecode

/// Indicators of compromise, indexed for matching: addresses by longest prefix (one hash
/// table per prefix length present), every other type by exact normalised value, and domains
/// by their suffixes at label boundaries (an indicator for `example.org` matches
/// `www.example.org`). Built at load, read-only afterwards.
public struct IndicatorSet: Sendable {
    public private(set) var indicators: [Indicator] = []
    /// Source names (feed or file); indicators refer to them by index.
    public private(set) var sources: [String] = []
    /// Alert severity per source index (1 highest … 4).
    public private(set) var sourceSeverity: [Int] = []
    public var errors: [IndicatorError] = []
    /// Lines or objects of a known format whose type hnsensor does not match (file hashes,
    /// user names): counted per file, not reported line by line.
    public var unsupported: [String: Int] = [:]
    public private(set) var files: [String] = []

    /// Prefix tables, longest prefix first: (length in the 128-bit space, network -> index).
    var prefixTables: [(length: Int, table: [IPAddress: Int32])] = []
    var exact: [IndicatorType: [String: Int32]] = [:]
    /// Domain indicators by the FNV-1a hash of their normalised bytes, so an ASCII name (what
    /// DNS, TLS SNI and HTTP hosts carry) is matched without building a string per parent
    /// domain; a hit is checked byte for byte. Two domains with one hash turn it off.
    var domainHashes: [UInt64: Int32] = [:]
    var domainHashesUsable = true

    public init() {}

    public var count: Int { indicators.count }
    public var isEmpty: Bool { indicators.isEmpty }

    /// Counts per type, for the load summary.
    public var countsByType: [(IndicatorType, Int)] {
        var counts: [IndicatorType: Int] = [:]
        for i in indicators { counts[i.type, default: 0] += 1 }
        return IndicatorType.allCases.compactMap { t in counts[t].map { (t, $0) } }
    }

    public mutating func source(named name: String, severity: Int) -> Int32 {
        if let i = sources.firstIndex(of: name) { return Int32(i) }
        sources.append(name)
        sourceSeverity.append(severity)
        return Int32(sources.count - 1)
    }

    public mutating func setSeverity(_ severity: Int, forSource name: String) {
        if let i = sources.firstIndex(of: name) { sourceSeverity[i] = severity }
    }

    mutating func noteFile(_ file: String) { files.append(file) }

    /// Adds one indicator; a duplicate value of the same type keeps the first (its source and
    /// description). Returns false when the value is not valid for its type.
    @discardableResult
    public mutating func add(_ raw: Substring, type: IndicatorType, source: Int32, description: String) -> Bool {
        let needsTrim = raw.utf8.first.map { $0 == 0x20 || $0 == 0x09 } == true || raw.utf8.last.map { $0 == 0x20 || $0 == 0x09 || $0 == 0x0D } == true
        let text = needsTrim ? raw.trimmingCharacters(in: " \t\r") : raw
        guard !text.isEmpty else { return false }
        switch type {
        case .address, .subnet:
            guard let cidr = CIDR(String(text)) else { return false }
            let kind: IndicatorType = (cidr.prefixLength == 128) ? .address : .subnet
            let index = Int32(indicators.count)
            if let t = prefixTables.firstIndex(where: { $0.length == cidr.prefixLength }) {
                guard prefixTables[t].table[cidr.network] == nil else { return true }
                prefixTables[t].table[cidr.network] = index
            } else {
                prefixTables.append((cidr.prefixLength, [cidr.network: index]))
                prefixTables.sort { $0.length > $1.length }
            }
            // Plain IPv4 text is already canonical; other forms are written canonically.
            let plainIPv4 = cidr.prefixLength == 128 && cidr.network.isIPv4 && !text.utf8.contains(UInt8(ascii: "/"))
            let value = plainIPv4 ? String(text) : (cidr.prefixLength == 128 ? cidr.network.description : cidr.description)
            indicators.append(Indicator(value: value, type: kind, source: source, description: description))
        default:
            let value = IndicatorText.normalise(text, as: type)
            guard !value.isEmpty, IndicatorSet.valid(value, type) else { return false }
            guard exact[type]?[value] == nil else { return true }
            exact[type, default: [:]][value] = Int32(indicators.count)
            if type == .domain {
                let h = IndicatorSet.fnv1a(value.utf8)
                if domainHashes[h] != nil { domainHashesUsable = false } else { domainHashes[h] = Int32(indicators.count) }
            }
            indicators.append(Indicator(value: value, type: type, source: source, description: description))
        }
        return true
    }

    static func valid(_ value: String, _ type: IndicatorType) -> Bool {
        switch type {
        case .domain: return !value.contains(" ") && !value.contains("/") && value.contains(where: { $0 != "." })
        case .email: return value.contains("@") && !value.contains(" ")
        case .certHash: return [32, 40, 64].contains(value.utf8.count) && value.allSatisfy(\.isHexDigit)
        case .ja3: return value.utf8.count == 32 && value.allSatisfy(\.isHexDigit)
        case .url: return !value.contains(" ")
        default: return true
        }
    }

    // MARK: Matching

    /// The most specific address or subnet indicator containing `address`.
    public func match(address: IPAddress) -> Int32? {
        for (length, table) in prefixTables {
            if let hit = table[CIDR.mask(address, length)] { return hit }
        }
        return nil
    }

    /// A domain indicator equal to `name` or to one of its parent domains.
    public func match(domain name: String) -> Int32? {
        guard let table = exact[.domain], !table.isEmpty else { return nil }
        if domainHashesUsable, let answer = matchASCII(domain: name) { return answer }
        var candidate = Substring(IndicatorText.domain(name))
        while !candidate.isEmpty {
            if let hit = table[String(candidate)] { return hit }
            guard let dot = candidate.firstIndex(of: ".") else { return nil }
            candidate = candidate[candidate.index(after: dot)...]
        }
        return nil
    }

    /// `match(domain:)` for an ASCII name, on its bytes: nil when the name is not ASCII (the
    /// caller then lower-cases it as Unicode), else the answer.
    func matchASCII(domain name: String) -> Int32?? {
        var name = name
        return name.withUTF8 { bytes -> Int32?? in
            var end = bytes.count
            while end > 0 && bytes[end - 1] == UInt8(ascii: ".") { end -= 1 }
            for b in bytes[..<end] where b >= 0x80 { return .none }
            var start = 0
            while start < end {
                let candidate = bytes[start..<end]
                if let index = domainHashes[IndicatorSet.fnv1a(candidate, lowercasing: true)],
                   indicators[Int(index)].value.utf8.elementsEqual(candidate.lazy.map(\.asciiLowercased)) {
                    return .some(index)
                }
                guard let dot = candidate.firstIndex(of: UInt8(ascii: ".")) else { break }
                start = dot + 1
            }
            return .some(nil)
        }
    }

    static func fnv1a<C: Collection>(_ bytes: C, lowercasing: Bool = false) -> UInt64 where C.Element == UInt8 {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for b in bytes { h = (h ^ UInt64(lowercasing ? b.asciiLowercased : b)) &* 0x0000_0100_0000_01b3 }
        return h
    }

    /// An exact match of a normalised value of `type` (URL, e-mail, software, hashes).
    public func match(_ value: String, type: IndicatorType) -> Int32? {
        guard let table = exact[type], !table.isEmpty else { return nil }
        return table[IndicatorText.normalise(Substring(value), as: type)]
    }

    public func has(_ type: IndicatorType) -> Bool {
        switch type {
        case .address, .subnet: return !prefixTables.isEmpty
        default: return !(exact[type]?.isEmpty ?? true)
        }
    }
}

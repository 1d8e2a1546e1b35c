import HNDecode

/// What an indicator describes, with Zeek Intel framework's type names.
public enum IndicatorType: String, Sendable, CaseIterable {
    case address = "Intel::ADDR"
    case subnet = "Intel::SUBNET"
    case domain = "Intel::DOMAIN"
    case url = "Intel::URL"
    case email = "Intel::EMAIL"
    case software = "Intel::SOFTWARE"
    case certHash = "Intel::CERT_HASH"
    case ja3 = "Intel::JA3"
    case ja4 = "Intel::JA4"

    /// The alert signature id for hits of this type (sid range 9300001–9300099).
    public var sid: UInt32 {
        switch self {
        case .address: return 9_300_001
        case .subnet: return 9_300_002
        case .domain: return 9_300_003
        case .url: return 9_300_004
        case .email: return 9_300_005
        case .software: return 9_300_006
        case .certHash: return 9_300_007
        case .ja3: return 9_300_008
        case .ja4: return 9_300_009
        }
    }

    /// The short name used in signatures and metadata ("ADDR", "DOMAIN", …).
    public var shortName: String { String(rawValue.dropFirst("Intel::".count)) }

    public init?(zeek: Substring) {
        guard let t = IndicatorType(rawValue: String(zeek)) else { return nil }
        self = t
    }
}

/// One loaded indicator.
public struct Indicator: Sendable {
    /// The value as matched (normalised: lower-case names, no scheme in URLs).
    public var value: String
    public var type: IndicatorType
    /// Index into `IndicatorSet.sources`.
    public var source: Int32
    public var description: String
}

/// A bad indicator line or object: skipped, the rest loads.
public struct IndicatorError: Error, Sendable, CustomStringConvertible {
    public var file: String
    /// 1-based line, or 0 when the place is an object of a JSON document.
    public var line: Int
    public var place: String?
    public var message: String

    public var description: String {
        if line > 0 { return "\(file):\(line): \(message)" }
        if let place { return "\(file): \(place): \(message)" }
        return "\(file): \(message)"
    }
}

/// Normalisation shared by loading and matching, so both sides compare the same text.
public enum IndicatorText {
    /// Lower-case ASCII, without a trailing dot (DNS root).
    public static func domain<S: StringProtocol>(_ s: S) -> String {
        var t = String(s).lowercased()
        while t.hasSuffix(".") { t.removeLast() }
        return t
    }

    /// A URL as Zeek's Intel::URL holds it: without scheme, host in lower case.
    public static func url<S: StringProtocol>(_ s: S) -> String {
        var t = Substring(s)
        for scheme in ["http://", "https://", "HTTP://", "HTTPS://"] where t.hasPrefix(scheme) {
            t = t.dropFirst(scheme.count)
            break
        }
        if let slash = t.firstIndex(of: "/") {
            return t[..<slash].lowercased() + t[slash...]
        }
        return t.lowercased()
    }

    /// An e-mail address without angle brackets, lower case.
    public static func email<S: StringProtocol>(_ s: S) -> String {
        var t = Substring(s).trimmingCharacters(in: " \t")
        if t.hasPrefix("<") { t = t.dropFirst() }
        if t.hasSuffix(">") { t = t.dropLast() }
        return t.lowercased()
    }

    /// A hex digest in lower case without colons (certificate fingerprints are often written
    /// `aa:bb:…`).
    public static func hash<S: StringProtocol>(_ s: S) -> String {
        String(s.lowercased().filter { $0 != ":" })
    }

    public static func normalise(_ value: Substring, as type: IndicatorType) -> String {
        switch type {
        case .domain: return domain(value)
        case .url: return url(value)
        case .email: return email(value)
        case .certHash, .ja3: return hash(value)
        case .address, .subnet, .software, .ja4: return String(value)
        }
    }
}

extension Substring {
    func trimmingCharacters(in set: String) -> Substring {
        var s = self
        while let f = s.first, set.contains(f) { s = s.dropFirst() }
        while let l = s.last, set.contains(l) { s = s.dropLast() }
        return s
    }
}

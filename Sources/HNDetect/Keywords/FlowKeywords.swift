/// `flowbits`: named bits stored on the flow.
public struct FlowbitOperation: Sendable {
    public enum Kind: String, Sendable { case set, unset, toggle, isSet = "isset", isNotSet = "isnotset", noalert }
    public var kind: Kind
    public var names: [String]
    /// For isset/isnotset with several names: `a|b` means any, `a&b` (or one name) means all.
    public var any = false
}

/// `xbits`: named bits stored on a host or a host pair, with an expiry in seconds.
public struct XbitOperation: Sendable {
    public enum Track: String, Sendable { case source = "ip_src", destination = "ip_dst", pair = "ip_pair" }
    public var kind: FlowbitOperation.Kind
    public var name: String
    public var track: Track
    public var expireSeconds: Int64 = 30
}

/// `flowint`: a named integer on the flow.
public struct FlowintOperation: Sendable {
    public enum Op: String, Sendable {
        case assign = "=", add = "+", subtract = "-", isSet = "isset", notSet = "notset", isNotSet = "isnotset"
        case eq = "==", ne = "!=", lt = "<", gt = ">", le = "<=", ge = ">="
    }
    public var name: String
    public var op: Op
    public var value: Int64 = 0
    /// Another flowint whose value is the operand (`flowint:a,==,b`).
    public var valueName: String? = nil

    var isModifier: Bool { op == .assign || op == .add || op == .subtract }
}

/// `threshold` / `detection_filter` / threshold.config entries.
public struct ThresholdSpec: Sendable, Equatable {
    public enum Kind: String, Sendable { case limit, threshold, both, backoff, detectionFilter = "detection_filter" }
    public enum Track: String, Sendable { case bySource = "by_src", byDestination = "by_dst", byRule = "by_rule", byBoth = "by_both", byFlow = "by_flow" }
    public var kind: Kind
    public var track: Track
    public var count: Int
    public var seconds: Int64
    /// `unique_on src_port|dst_port` (detection_filter, Suricata 8): what is counted is the
    /// number of distinct ports, and only a new one can pass.
    public enum UniqueOn: String, Sendable { case sourcePort = "src_port", destinationPort = "dst_port" }
    public var uniqueOn: UniqueOn? = nil
    /// `type backoff` (Suricata 8): the `count`-th match alerts, then the match `multiplier`
    /// times further, and so on (count 1, multiplier 2: matches 1, 2, 4, 8, …); no `seconds`.
    public var multiplier = 0

    /// Parses `type limit, track by_src, count 1, seconds 60` (no `type` for detection_filter).
    static func parse(_ value: String, detectionFilter: Bool) -> Result<ThresholdSpec, OptionProblem> {
        var kind: Kind? = detectionFilter ? .detectionFilter : nil
        var track: Track? = nil, count: Int? = nil, seconds: Int64? = nil, unique: UniqueOn? = nil, multiplier: Int? = nil
        for part in value.split(separator: ",") {
            let words = part.split(separator: " ", omittingEmptySubsequences: true)
            guard words.count == 2 else { return .failure("expected 'name value' pairs, got '\(part.trimmingSpaces)'") }
            let v = String(words[1])
            switch words[0] {
            case "type" where !detectionFilter:
                guard let k = Kind(rawValue: v), k != .detectionFilter else { return .failure("unknown threshold type '\(v)'") }
                kind = k
            case "track":
                guard let t = Track(rawValue: v) else { return .failure("unknown track '\(v)'") }
                track = t
            case "count":
                guard let c = Int(v), c >= 0 else { return .failure("count must be a number") }
                count = c
            case "seconds":
                guard let s = Int64(v), s >= 0 else { return .failure("seconds must be a number") }
                seconds = s
            case "multiplier" where !detectionFilter:
                guard let m = Int(v), m >= 1 else { return .failure("multiplier must be a number of at least 1") }
                multiplier = m
            case "unique_on" where detectionFilter:
                guard let u = UniqueOn(rawValue: v) else { return .failure("unique_on must be src_port or dst_port") }
                unique = u
            default:
                return .failure("unknown threshold field '\(words[0])'")
            }
        }
        guard let kind else { return .failure("missing 'type'") }
        guard let track else { return .failure("missing 'track'") }
        guard let count else { return .failure("missing 'count'") }
        if kind == .backoff {
            guard let multiplier else { return .failure("type backoff needs 'multiplier'") }
            guard track == .byFlow else { return .failure("type backoff takes 'track by_flow' only") }
            guard count >= 1 else { return .failure("type backoff needs a count of at least 1") }
            guard seconds == nil else { return .failure("type backoff takes no 'seconds'") }
            var spec = ThresholdSpec(kind: kind, track: track, count: count, seconds: 0)
            spec.multiplier = multiplier
            return .success(spec)
        }
        guard multiplier == nil else { return .failure("'multiplier' is for type backoff") }
        guard let seconds else { return .failure("missing 'seconds'") }
        var spec = ThresholdSpec(kind: kind, track: track, count: count, seconds: seconds)
        spec.uniqueOn = unique
        return .success(spec)
    }
}

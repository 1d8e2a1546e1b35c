import HNDecode

/// Thresholds and suppressions (`threshold`, `detection_filter`, threshold.config's
/// `threshold`, `rate_filter`-style limits and `suppress`): the gate a signature alert passes
/// before it is written. With workers it is judged where every worker's alerts meet in packet
/// order (the output stage), so `limit`, `both` and `detection_filter` count as they would on
/// one thread. State is bounded (`maxEntries` keys).
public final class AlertGate {
    /// The gate's view of one alert: its rule, addresses, time and flow.
    public struct Ticket: Sendable {
        public var rule: Int
        public var source: IPAddress
        public var destination: IPAddress
        public var time: Int64
        public var flowKey: Int?
        public var sourcePort: UInt16 = 0
        public var destinationPort: UInt16 = 0
    }

    /// The ticket of a signature alert, or nil when its rule has no gate (it is only counted).
    @inline(__always)
    public func ticket(_ alert: Alert, flowKey: Int?) -> Ticket? {
        guard isGated(alert.ruleIndex) else { return nil }
        return Ticket(rule: alert.ruleIndex, source: alert.source, destination: alert.destination, time: alert.timestamp, flowKey: flowKey,
                      sourcePort: alert.sourcePort, destinationPort: alert.destinationPort)
    }

    /// Counters: alerts let through, suppressed, held back by a threshold.
    public struct Stats: Sendable {
        public var alerts: UInt64 = 0
        public var suppressed: UInt64 = 0
        public var thresholded: UInt64 = 0
    }

    struct Key: Hashable { var rule: Int; var a: IPAddress; var b: IPAddress; var flow: Int = 0 }
    struct State {
        var count: Int
        var first: Int64
        var alerted: Bool
        /// The distinct ports counted (`unique_on`).
        var seen: Set<UInt16> = []
        /// The match that alerts next (`backoff`).
        var next = 0
    }

    /// Per rule index: its threshold and its suppressions.
    let thresholds: [ThresholdSpec?]
    let suppressions: [[(track: ThresholdSpec.Track?, addresses: AddressMatcher?)]]
    var states: [Key: State] = [:]
    /// Threshold entries kept at most, so a flood of sources cannot grow memory forever.
    public static let maxEntries = 100_000
    public private(set) var stats = Stats()

    init(rules: [CompiledRule]) {
        thresholds = rules.map(\.threshold)
        suppressions = rules.map(\.suppressions)
    }

    /// Whether rule `i` has a threshold, detection filter or suppression to pass.
    @inline(__always)
    public func isGated(_ i: Int) -> Bool { thresholds[i] != nil || !suppressions[i].isEmpty }

    /// The verdict on a gated alert, in the order alerts are written; counts it when it passes.
    public func admit(_ t: Ticket) -> Bool {
        guard passes(t) else { return false }
        stats.alerts &+= 1
        return true
    }

    /// Counts an alert whose rule has no gate.
    @inline(__always)
    public func count() { stats.alerts &+= 1 }

    func passes(_ t: Ticket) -> Bool {
        let i = t.rule
        for s in suppressions[i] {
            let suppressed: Bool
            switch (s.track, s.addresses) {
            case (_, nil): suppressed = true
            case (.bySource, let a?): suppressed = a.matches(t.source)
            case (.byDestination, let a?): suppressed = a.matches(t.destination)
            case (_, let a?): suppressed = a.matches(t.source) || a.matches(t.destination)
            }
            if suppressed {
                stats.suppressed &+= 1
                return false
            }
        }
        guard let spec = thresholds[i] else { return true }
        let key: Key
        switch spec.track {
        case .bySource: key = Key(rule: i, a: t.source, b: .zero)
        case .byDestination: key = Key(rule: i, a: t.destination, b: .zero)
        case .byRule: key = Key(rule: i, a: .zero, b: .zero)
        case .byBoth: key = Key(rule: i, a: t.source, b: t.destination)
        case .byFlow: key = Key(rule: i, a: .zero, b: .zero, flow: t.flowKey ?? 0)
        }
        let window = spec.seconds * 1_000_000_000
        var state = states[key] ?? State(count: 0, first: t.time, alerted: false)
        if spec.kind != .backoff, t.time - state.first >= window && window > 0 || (window == 0 && state.count > 0 && t.time != state.first) {
            state = State(count: 0, first: t.time, alerted: false)
        }
        var fresh = true
        if let unique = spec.uniqueOn {
            fresh = state.seen.insert(unique == .sourcePort ? t.sourcePort : t.destinationPort).inserted
            state.count = state.seen.count
        } else {
            state.count += 1
        }
        var pass: Bool
        switch spec.kind {
        case .limit:
            pass = state.count <= spec.count
        case .threshold:
            pass = state.count >= spec.count
            if pass { state = State(count: 0, first: state.first, alerted: true) }
        case .both:
            pass = state.count >= spec.count && !state.alerted
            if pass { state.alerted = true }
        case .backoff:
            if state.next == 0 { state.next = spec.count }
            pass = state.count == state.next
            // Past Int.max the rule stays silent for the flow.
            if pass { state.next = state.next.multipliedReportingOverflow(by: max(spec.multiplier, 1)).overflow ? .max : state.next * max(spec.multiplier, 1) }
        case .detectionFilter:
            pass = state.count > spec.count && fresh
        }
        if states.count < AlertGate.maxEntries || states[key] != nil {
            states[key] = state
        }
        if !pass { stats.thresholded &+= 1 }
        return pass
    }
}

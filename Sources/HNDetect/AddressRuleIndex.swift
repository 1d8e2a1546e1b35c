import HNDecode

/// A value an interval index can cut at: ordered, with a successor (nil past the last).
protocol IntervalBound: Comparable {
    var successor: Self? { get }
}

extension IPAddress: IntervalBound {
    var successor: IPAddress? { next }
}

extension UInt16: IntervalBound {
    var successor: UInt16? { self == .max ? nil : self + 1 }
}

/// Maps a value to the rules whose intervals cover it, for rules that have no content to
/// prefilter on: by address (Suricata's "IP-only" rules: block lists of thousands of
/// addresses) or by destination port (a policy rule on port 3389). The value space is cut
/// into elementary segments, each with the rules that cover all of it; a lookup is one binary
/// search and hands back a range of one flat array (no per-segment array to retain).
struct IntervalRuleIndex<Bound: IntervalBound> {
    var starts: [Bound] = []
    /// The rules of segment `i` are `rules[offsets[i]..<offsets[i + 1]]`.
    var rules: [Int32] = []
    var offsets: [Int32] = [0]

    var isEmpty: Bool { starts.isEmpty }

    init() {}

    init(intervals unsorted: [(lo: Bound, hi: Bound, rule: Int32)]) {
        guard !unsorted.isEmpty else { return }
        var boundaries: [Bound] = []
        for i in unsorted {
            boundaries.append(i.lo)
            if let n = i.hi.successor { boundaries.append(n) }
        }
        boundaries.sort()
        var unique: [Bound] = []
        for b in boundaries where unique.last != b { unique.append(b) }
        let intervals = unsorted.sorted { $0.lo < $1.lo }
        var next = 0
        var active: [(hi: Bound, rule: Int32)] = []
        for b in unique {
            while next < intervals.count && intervals[next].lo <= b {
                active.append((intervals[next].hi, intervals[next].rule))
                next += 1
            }
            active.removeAll { $0.hi < b }
            starts.append(b)
            var ids = active.map(\.rule)
            ids.sort()
            var last: Int32? = nil
            for id in ids where last != id {
                rules.append(id)
                last = id
            }
            offsets.append(Int32(rules.count))
        }
    }

    /// Where in `rules` the rules whose intervals contain `value` are.
    func lookup(_ value: Bound) -> Range<Int> {
        var lo = 0, hi = starts.count - 1, found = -1
        while lo <= hi {
            let mid = (lo + hi) >> 1
            if starts[mid] <= value { found = mid; lo = mid + 1 } else { hi = mid - 1 }
        }
        return found < 0 ? 0..<0 : Int(offsets[found])..<Int(offsets[found + 1])
    }
}

typealias AddressRuleIndex = IntervalRuleIndex<IPAddress>
typealias PortRuleIndex = IntervalRuleIndex<UInt16>

extension IntervalRuleIndex where Bound == IPAddress {
    init(entries: [(set: AddressIntervals, rule: Int32)]) {
        self.init(intervals: entries.flatMap { e in e.set.ranges.map { ($0.lo, $0.hi, e.rule) } })
    }
}

extension PortMatcher {
    /// The port ranges this matcher accepts when it is a short positive list (no negation,
    /// not `any`): what a port index can hold. Nil otherwise.
    var finiteRanges: [(lo: UInt16, hi: UInt16)]? {
        switch self {
        case .any: return nil
        case .range(let lo, let hi): return lo <= hi ? [(lo, hi)] : []
        case .list(let positive, let negative):
            guard negative.isEmpty, !positive.isEmpty else { return nil }
            var out: [(lo: UInt16, hi: UInt16)] = []
            for p in positive {
                guard let r = p.finiteRanges else { return nil }
                out += r
            }
            return out.count <= 32 ? out : nil
        }
    }
}

import HNDecode

/// Maps an address to the rules whose address side covers it, for rules that have no
/// content to prefilter on (Suricata's "IP-only" rules: block lists of thousands of
/// addresses). The address space is cut into elementary segments, each with the rules that
/// cover all of it; a lookup is one binary search.
struct AddressRuleIndex {
    var starts: [IPAddress] = []
    /// The rules of segment `i` are `rules[offsets[i]..<offsets[i + 1]]` (one flat array, so
    /// a lookup hands back a range instead of retaining a per-segment array).
    var rules: [Int32] = []
    var offsets: [Int32] = [0]

    var isEmpty: Bool { starts.isEmpty }

    init() {}

    init(entries: [(set: AddressIntervals, rule: Int32)]) {
        var intervals: [(lo: IPAddress, hi: IPAddress, rule: Int32)] = []
        for e in entries { for r in e.set.ranges { intervals.append((r.lo, r.hi, e.rule)) } }
        guard !intervals.isEmpty else { return }
        var boundaries: [IPAddress] = []
        for i in intervals {
            boundaries.append(i.lo)
            if let n = i.hi.next { boundaries.append(n) }
        }
        boundaries.sort()
        var unique: [IPAddress] = []
        for b in boundaries where unique.last != b { unique.append(b) }
        intervals.sort { $0.lo < $1.lo }
        var next = 0
        var active: [(hi: IPAddress, rule: Int32)] = []
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

    /// Where in `rules` the rules whose set contains `address` are.
    func lookup(_ address: IPAddress) -> Range<Int> {
        var lo = 0, hi = starts.count - 1, found = -1
        while lo <= hi {
            let mid = (lo + hi) >> 1
            if starts[mid] <= address { found = mid; lo = mid + 1 } else { hi = mid - 1 }
        }
        return found < 0 ? 0..<0 : Int(offsets[found])..<Int(offsets[found + 1])
    }
}

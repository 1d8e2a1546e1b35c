/// A table of per-key detector state with a cap: when full, entries idle longer than the
/// detector's window are dropped; when still full, the new key is not tracked and the
/// eviction is counted (`AnomalyStats.untracked`).
struct BoundedTable<Key: Hashable, State> {
    var entries: [Key: (last: Int64, state: State)] = [:]
    let cap: Int
    var untracked: UInt64 = 0
    /// Packet time of the last sweep of idle entries: a full table is swept at most once per
    /// half idle period, so a flood of new keys costs one hash lookup each, not a scan.
    var lastSweep: Int64 = .min

    init(cap: Int) { self.cap = cap }

    /// Runs `body` on the state of `key`, creating it with `make` when absent.
    mutating func update<R>(_ key: Key, now: Int64, idle: Int64, make: () -> State, _ body: (inout State) -> R) -> R? {
        if entries[key] == nil {
            if entries.count >= cap {
                if lastSweep == .min || now - lastSweep >= max(idle / 2, 1) {
                    lastSweep = now
                    entries = entries.filter { now - $0.value.last <= idle }
                }
                if entries.count >= cap {
                    untracked &+= 1
                    return nil
                }
            }
            entries[key] = (now, make())
        }
        var result: R? = nil
        // In place, without copying the state out of the dictionary.
        if let index = entries.index(forKey: key) {
            entries.values[index].last = now
            result = body(&entries.values[index].state)
        }
        return result
    }

    func state(_ key: Key) -> State? { entries[key]?.state }
    mutating func remove(_ key: Key) { entries.removeValue(forKey: key) }
    var count: Int { entries.count }
}

/// Distinct values seen within a sliding window, for one key. Alerts when the count reaches
/// the threshold, then stays quiet for one window (one alert per window while it goes on).
struct DistinctWindow<Value: Hashable> {
    var lastSeen: [Value: Int64] = [:]
    var quietUntil: Int64 = .min

    /// Adds a value; returns the distinct count when it reaches `threshold`.
    mutating func add(_ value: Value, now: Int64, window: Int64, threshold: Int) -> Int? {
        guard now >= quietUntil else { return nil }
        lastSeen[value] = now
        guard lastSeen.count >= threshold else { return nil }
        lastSeen = lastSeen.filter { now - $0.value < window }
        guard lastSeen.count >= threshold else { return nil }
        let count = lastSeen.count
        lastSeen = [:]
        quietUntil = now &+ window
        return count
    }
}

/// Event times within a sliding window, for one key (small thresholds).
struct EventWindow {
    var times: [Int64] = []
    var quietUntil: Int64 = .min

    mutating func add(_ now: Int64, window: Int64, threshold: Int) -> Int? {
        guard now >= quietUntil else { return nil }
        times.append(now)
        times.removeAll { now - $0 >= window }
        guard times.count >= threshold else { return nil }
        let count = times.count
        times = []
        quietUntil = now &+ window
        return count
    }
}

/// A sum over a sliding window kept in 30 buckets (large counts: packets, bytes). The window
/// is exact to one thirtieth of its length.
struct BucketWindow {
    static let buckets = 30
    var sums = [UInt64](repeating: 0, count: BucketWindow.buckets)
    var stamps = [Int64](repeating: .min, count: BucketWindow.buckets)
    var quietUntil: Int64 = .min

    mutating func add(_ amount: UInt64, now: Int64, window: Int64, threshold: UInt64) -> UInt64? {
        guard now >= quietUntil else { return nil }
        let width = max(window / Int64(BucketWindow.buckets), 1)
        let slot = now / width
        // Floor modulo: packet time before 1970 (a damaged or crafted capture) is negative.
        let n = Int64(BucketWindow.buckets)
        let i = Int((slot % n + n) % n)
        if stamps[i] != slot {
            stamps[i] = slot
            sums[i] = 0
        }
        sums[i] &+= amount
        var total: UInt64 = 0
        for j in 0..<BucketWindow.buckets where stamps[j] > slot - Int64(BucketWindow.buckets) { total &+= sums[j] }
        guard total >= threshold else { return nil }
        sums = [UInt64](repeating: 0, count: BucketWindow.buckets)
        quietUntil = now &+ window
        return total
    }
}

/// Reassembles IPv4 and IPv6 fragments into whole datagrams, within a memory cap, a per-
/// datagram fragment limit and a timeout driven by packet time.
///
/// Overlap policy: the first data received for a byte offset wins (later overlapping bytes are
/// ignored and the overlap is counted), matching the "first" policy of Suricata's defrag and
/// the TCP reassembly policy of hnsensor. This allocates per datagram being reassembled; the
/// common unfragmented path never reaches it.
public final class Defragmenter {
    public struct Limits: Sendable {
        /// Bytes of fragment data buffered at most, over all datagrams.
        public var memcap: Int = 32 << 20
        /// A datagram not completed this long after its first fragment is dropped.
        public var timeoutNanos: Int64 = 60_000_000_000
        /// Fragments accepted per datagram: 8,192 eight-byte fragments make the largest
        /// datagram, so no legitimate sender needs more; the memory cap bounds floods.
        public var maxFragments: Int = 8192
        public init() {}
    }

    public struct Key: Hashable {
        var source: IPAddress
        var destination: IPAddress
        var id: UInt32
        var proto: UInt8
        var version: UInt8
        var vlan: UInt32
    }

    struct Tracker {
        var data: [UInt8] = []
        /// Filled byte ranges, sorted and disjoint.
        var ranges: [(start: Int, end: Int)] = []
        var total: Int? = nil
        var fragments = 0
        var firstSeen: Int64
    }

    public enum Outcome {
        /// Stored; the datagram is not complete yet.
        case held
        /// The datagram is complete: its transport payload, valid until the next insert.
        case complete(ByteView)
        /// The fragment was refused.
        case rejected(DecodeEvent)
    }

    /// Largest datagram payload: the 16-bit length field bounds every IP datagram.
    static let maxDatagram = 65_535

    public let limits: Limits
    private var trackers: [Key: Tracker] = [:]
    public private(set) var memoryUsed = 0
    private var lastSweep: Int64 = 0
    private let output: UnsafeMutableRawBufferPointer

    public init(limits: Limits = Limits()) {
        self.limits = limits
        self.output = UnsafeMutableRawBufferPointer.allocate(byteCount: Defragmenter.maxDatagram, alignment: 8)
    }

    deinit { output.deallocate() }

    public var pendingDatagrams: Int { trackers.count }

    /// Adds a fragment carrying `data` at byte `offset` of the datagram's payload.
    /// `overlap` and `invalidLength` are the events to record for this IP version.
    public func insert(key: Key, offset: Int, more: Bool, data: ByteView, now: Int64,
                       stats: inout DecodeStats, overlap: DecodeEvent, tooLarge: DecodeEvent,
                       invalidLength: DecodeEvent) -> Outcome {
        expire(now: now, stats: &stats)
        let end = offset + data.count
        guard end <= Defragmenter.maxDatagram else { return .rejected(tooLarge) }
        // Every fragment but the last carries a multiple of 8 bytes (RFC 791, RFC 8200).
        if more && data.count % 8 != 0 { return .rejected(invalidLength) }

        var tracker = trackers.removeValue(forKey: key) ?? Tracker(firstSeen: now)
        let grow = max(0, end - tracker.data.count)
        guard memoryUsed + grow <= limits.memcap else {
            if !tracker.ranges.isEmpty || tracker.total != nil { trackers[key] = tracker }
            return .rejected(.defragMemcapReached)
        }
        guard tracker.fragments < limits.maxFragments else {
            memoryUsed -= tracker.data.count
            return .rejected(.defragTooManyFragments)
        }
        tracker.fragments += 1
        if !more {
            if let total = tracker.total, total != end {
                stats.record(overlap)
            } else if let last = tracker.ranges.last, last.end > end {
                // Data already seen beyond the claimed end: inconsistent, keep the first view.
                stats.record(invalidLength)
            } else {
                tracker.total = end
            }
        }
        if grow > 0 {
            tracker.data.append(contentsOf: repeatElement(0, count: grow))
            memoryUsed += grow
        }
        if copyFirstWins(&tracker, offset: offset, data: data) { stats.record(overlap) }

        if let total = tracker.total, tracker.ranges.count == 1,
           tracker.ranges[0].start == 0, tracker.ranges[0].end >= total {
            memoryUsed -= tracker.data.count
            tracker.data.withUnsafeBytes { bytes in
                output.copyMemory(from: UnsafeRawBufferPointer(rebasing: bytes[0..<total]))
            }
            stats.reassembled += 1
            return .complete(ByteView(base: UnsafeRawPointer(output.baseAddress), count: total))
        }
        trackers[key] = tracker
        return .held
    }

    /// Copies the parts of [offset, offset+count) not yet filled; returns whether any byte
    /// overlapped data already held.
    private func copyFirstWins(_ tracker: inout Tracker, offset: Int, data: ByteView) -> Bool {
        let end = offset + data.count
        guard end > offset else { return false }
        var overlapped = false
        var cursor = offset
        var merged: [(start: Int, end: Int)] = []
        var newStart = offset, newEnd = end
        for range in tracker.ranges {
            if range.end < offset || range.start > end {
                merged.append(range)
                continue
            }
            // Touching or overlapping: fill the gap before this range, then skip it.
            if range.start < end && range.end > offset { overlapped = true }
            if range.start > cursor { copy(&tracker, from: data, at: cursor, upTo: min(range.start, end), base: offset) }
            cursor = max(cursor, range.end)
            newStart = min(newStart, range.start)
            newEnd = max(newEnd, range.end)
        }
        if cursor < end { copy(&tracker, from: data, at: cursor, upTo: end, base: offset) }
        merged.append((newStart, newEnd))
        merged.sort { $0.start < $1.start }
        tracker.ranges = merged
        return overlapped
    }

    private func copy(_ tracker: inout Tracker, from data: ByteView, at start: Int, upTo end: Int, base: Int) {
        guard end > start, let piece = data.slice(start - base, end - start) else { return }
        tracker.data.withUnsafeMutableBytes { dst in
            dst.baseAddress!.advanced(by: start).copyMemory(from: piece.base!, byteCount: piece.count)
        }
    }

    /// Drops datagrams older than the timeout. Runs at most once per second of packet time.
    public func expire(now: Int64, stats: inout DecodeStats) {
        guard !trackers.isEmpty, now - lastSweep >= 1_000_000_000 || now < lastSweep else { return }
        lastSweep = now
        let limit = limits.timeoutNanos
        for (key, tracker) in trackers where now - tracker.firstSeen > limit {
            memoryUsed -= tracker.data.count
            trackers.removeValue(forKey: key)
            stats.defragTimeouts += 1
        }
    }
}

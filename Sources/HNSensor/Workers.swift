import CLinux
import HNAnomaly
import HNDecode
import HNDetect
import HNFlow
import HNOutput

#if canImport(Glibc)
import Glibc
#endif

/// A bounded single-producer, single-consumer ring of batches. The producer waits when it is
/// full (back pressure towards capture), the consumer when it is empty. One lock round per
/// batch of packets, never per packet.
final class BatchRing<Element>: @unchecked Sendable {
    private var slots: [Element?]
    private var head = 0
    private var count = 0
    private let lock = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    private let notEmpty = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)
    private let notFull = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)

    init(capacity: Int) {
        slots = [Element?](repeating: nil, count: capacity)
        pthread_mutex_init(lock, nil)
        pthread_cond_init(notEmpty, nil)
        pthread_cond_init(notFull, nil)
    }

    deinit {
        pthread_mutex_destroy(lock)
        pthread_cond_destroy(notEmpty)
        pthread_cond_destroy(notFull)
        lock.deallocate()
        notEmpty.deallocate()
        notFull.deallocate()
    }

    func push(_ element: Element) {
        pthread_mutex_lock(lock)
        while count == slots.count { pthread_cond_wait(notFull, lock) }
        slots[(head + count) % slots.count] = element
        count += 1
        pthread_cond_signal(notEmpty)
        pthread_mutex_unlock(lock)
    }

    func pop() -> Element {
        pthread_mutex_lock(lock)
        while count == 0 { pthread_cond_wait(notEmpty, lock) }
        let element = slots[head]!
        slots[head] = nil
        head = (head + 1) % slots.count
        count -= 1
        pthread_cond_signal(notFull)
        pthread_mutex_unlock(lock)
        return element
    }

    /// An element if one is waiting (a pool of spare batches: never blocks).
    func tryPop() -> Element? {
        pthread_mutex_lock(lock)
        defer { pthread_mutex_unlock(lock) }
        guard count > 0 else { return nil }
        let element = slots[head]
        slots[head] = nil
        head = (head + 1) % slots.count
        count -= 1
        pthread_cond_signal(notFull)
        return element
    }

    /// Adds an element unless the ring is full (returning spare batches: never blocks).
    func tryPush(_ element: Element) {
        pthread_mutex_lock(lock)
        defer { pthread_mutex_unlock(lock) }
        guard count < slots.count else { return }
        slots[(head + count) % slots.count] = element
        count += 1
        pthread_cond_signal(notEmpty)
    }
}

/// Packets for one worker, copied back to back, with ticks of the shared clock between them.
final class InputBatch: @unchecked Sendable {
    struct Entry {
        /// A packet for this worker (`innerOnly`: its tunnel's outer flow is another
        /// worker's; `outerOnly`: only that outer flow is this worker's).
        enum Kind { case packet, innerOnly, outerOnly, tick }
        var kind: Kind
        var sequence: UInt64
        var timestamp: Int64
        var offset: Int
        var captureLength: Int
        var wireLength: Int
        var linkType: Int32
        var segment: UInt16
    }
    var entries: [Entry] = []
    var bytes: [UInt8] = []
    /// The last batch: the worker ends its flows and reports its counters.
    var final = false
    /// The last packet number the capture stage had given when it sent the batch.
    var through: UInt64 = 0
    /// The dispatch it belongs to.
    var round: UInt64 = 0
    /// Before its packets: new engines for this worker (a daemon reload).
    var reload: WorkerPool.Reload? = nil
    /// After its packets: report the worker's counters (the daemon's stats and metrics).
    var statsRequest = false

    func reset() {
        entries.removeAll(keepingCapacity: true)
        bytes.removeAll(keepingCapacity: true)
        final = false
        reload = nil
        statsRequest = false
    }
}

/// What a worker made of one input batch: items in merge order and the EVE bytes they name.
final class OutputBatch: @unchecked Sendable {
    var items: [(key: ItemKey, item: StageItem)] = []
    var eve: [UInt8] = []
    var stats: StatsTree? = nil
    var eveRecords: UInt64 = 0
    /// The worker's last batch.
    var final = false
    /// The packet number up to which the worker had worked when it made this batch.
    var through: UInt64 = 0
    /// The number of the capture stage's dispatch the batch answers (every worker gets one
    /// batch per dispatch).
    var round: UInt64 = 0
    /// The worker's counters, when the capture stage asked for them.
    var snapshot: StatsTree? = nil
    /// The reload this batch's worker took (the output stage's part of it).
    var reload: WorkerPool.Reload? = nil

    func reset() {
        items.removeAll(keepingCapacity: true)
        eve.removeAll(keepingCapacity: true)
        stats = nil
        final = false
        snapshot = nil
        reload = nil
    }
}

/// Starts a POSIX thread named `name` (as `top -H` and profilers show it; at most 15
/// characters) running `body` (joined with `pthread_join`).
func startThread(name: String, _ body: @escaping @Sendable () -> Void) -> pthread_t {
    final class Box {
        let body: @Sendable () -> Void
        init(_ body: @escaping @Sendable () -> Void) { self.body = body }
    }
    let box = Unmanaged.passRetained(Box(body)).toOpaque()
    var thread = pthread_t()
    let started = pthread_create(&thread, nil, { raw in
        Unmanaged<Box>.fromOpaque(raw!).takeRetainedValue().body()
        return nil
    }, box)
    precondition(started == 0, "cannot start a thread: \(started)")
    _ = hn_set_thread_name(thread, String(name.prefix(15)))
    return thread
}

/// Several workers, each a `Pipeline` with a share of the flows, between a capture stage (the
/// caller's thread) and a merge thread running the output stage.
///
/// The caller's thread numbers every packet, copies it into the batch of the worker its
/// address pair hashes to, and puts a clock tick in every worker's batch when packet time
/// enters a new second, so each worker expires its flows exactly when one worker would. A
/// batch goes to every worker at once (some empty), through bounded rings; the merge thread
/// takes one output batch from each worker in turn and merges their items by packet number
/// (`ItemKey`): thresholds, detectors, correlation, store and the EVE file then see the very
/// order one worker produces, so output does not depend on the number of workers.
public final class WorkerPool: @unchecked Sendable {
    final class Worker: @unchecked Sendable {
        let pipeline: Pipeline
        let input = BatchRing<InputBatch>(capacity: 4)
        let output = BatchRing<OutputBatch>(capacity: 4)
        let spareInputs = BatchRing<InputBatch>(capacity: 8)
        let spareOutputs = BatchRing<OutputBatch>(capacity: 8)
        var thread: pthread_t? = nil
        let index: Int
        init(pipeline: Pipeline, index: Int) {
            self.pipeline = pipeline
            self.index = index
        }
    }

    let workers: [Worker]
    let stage: OutputStage
    /// Packets per batch, and bytes at which a batch is sent early.
    static let batchPackets = 1024
    static let batchBytes = 1 << 20
    /// Flows ended per output batch when the capture ends.
    static let flushPiece = 2048
    var current: [InputBatch]
    var pending = 0
    var pendingBytes = 0
    var sequence: UInt64 = 0
    /// Dispatches so far.
    var rounds: UInt64 = 0
    var lastSecond = Int64.min
    public private(set) var firstTimestamp: Int64? = nil
    public private(set) var lastTimestamp: Int64 = 0
    var mergeThread: pthread_t? = nil
    /// Guards what the capture and merge threads share outside the rings: the first output
    /// failure (set by the merge, read between batches) and the pending stats requests.
    private let sharedLock = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    private var failure: OutputFile.Failure? = nil
    /// Called on the merge thread after each packet's items (the correlator's batch boundary)
    /// and, once, before the final `stats` record.
    var afterPacket: (() -> Void)? = nil
    var beforeStats: ((Int64) -> Void)? = nil
    /// Filled in by the merge thread when it ends.
    private(set) var finalStats = StatsTree()
    public private(set) var workerEVERecords: UInt64 = 0

    init(count: Int, config: SensorConfig, eve: EVEWriter?, detection: DetectionEngine?, intel: IntelMatcher?,
         anomalies: AnomalyEngine?) {
        precondition(count >= 2)
        pthread_mutex_init(sharedLock, nil)
        stage = OutputStage(eve: eve, gate: detection?.gate, anomalies: anomalies)
        detection?.deferThresholds = true
        var made: [Worker] = []
        for _ in 0..<count {
            let engine = detection.map { DetectionEngine(sharing: $0) }
            var memoryEVE: EVEWriter? = nil
            if let eve {
                let w = EVEWriter(file: OutputFile(memory: ()), sensorName: eve.sensorName, segmentNames: eve.segmentNames)
                w.settings = eve.settings
                memoryEVE = w
            }
            let pipeline = Pipeline(config: config, eve: memoryEVE, detection: engine, intel: intel.map { $0.copy() },
                                    anomalySettings: anomalies?.settings, stage: nil, shares: count)
            made.append(Worker(pipeline: pipeline, index: made.count))
        }
        workers = made
        current = made.map { _ in InputBatch() }
    }

    deinit {
        pthread_mutex_destroy(sharedLock)
        sharedLock.deallocate()
    }

    public var depth: InspectionDepth {
        get { workers[0].pipeline.depth }
        set { for w in workers { w.pipeline.depth = newValue } }
    }

    public var keepExcerpts: Bool {
        get { workers[0].pipeline.keepExcerpts }
        set { for w in workers { w.pipeline.keepExcerpts = newValue } }
    }

    public var outputFailure: OutputFile.Failure? {
        pthread_mutex_lock(sharedLock)
        defer { pthread_mutex_unlock(sharedLock) }
        return failure
    }

    public func start() {
        for (i, worker) in workers.enumerated() {
            worker.thread = startThread(name: "hn-worker-\(i)") { WorkerPool.run(worker) }
        }
        mergeThread = startThread(name: "hn-merge") { [self] in merge() }
    }

    /// Takes one captured frame (capture thread). `bytes` is copied.
    func process(_ bytes: UnsafeRawBufferPointer, timestamp: Int64, captureLength: Int, wireLength: Int, linkType: Int32,
                 segment: UInt16 = 0) {
        sequence &+= 1
        if firstTimestamp == nil { firstTimestamp = timestamp }
        if timestamp > lastTimestamp { lastTimestamp = timestamp }
        let second = FlowTable.second(timestamp)
        if second > lastSecond {
            lastSecond = second
            for batch in current {
                batch.entries.append(.init(kind: .tick, sequence: sequence, timestamp: timestamp, offset: 0, captureLength: 0,
                                           wireLength: 0, linkType: 0, segment: 0))
            }
        }
        let (inner, outer) = ShardKey.pairs(ByteView(bytes), linkType: linkType)
        let w = Int(inner % UInt64(workers.count))
        let o = Int(outer % UInt64(workers.count))
        // A tunnel's outer flow is tracked by the worker of the outer pair, its inner flows by
        // the workers of theirs: the outer worker gets a copy for the outer flow only.
        add(current[w], o == w ? .packet : .innerOnly, bytes, timestamp, captureLength, wireLength, linkType, segment)
        if o != w { add(current[o], .outerOnly, bytes, timestamp, captureLength, wireLength, linkType, segment) }
        pending += 1
        pendingBytes += bytes.count
        if pending >= WorkerPool.batchPackets || pendingBytes >= WorkerPool.batchBytes { dispatch() }
    }

    @inline(__always)
    func add(_ batch: InputBatch, _ kind: InputBatch.Entry.Kind, _ bytes: UnsafeRawBufferPointer, _ timestamp: Int64,
             _ captureLength: Int, _ wireLength: Int, _ linkType: Int32, _ segment: UInt16) {
        batch.entries.append(.init(kind: kind, sequence: sequence, timestamp: timestamp, offset: batch.bytes.count,
                                   captureLength: captureLength, wireLength: wireLength, linkType: linkType, segment: segment))
        batch.bytes.append(contentsOf: bytes)
    }

    /// Sends the current batches (one per worker, some empty) on their way.
    func dispatch(final: Bool = false) {
        for (i, worker) in workers.enumerated() {
            let batch = current[i]
            batch.final = final
            batch.through = sequence
            batch.round = rounds
            worker.input.push(batch)
            if let spare = worker.spareInputs.tryPop() {
                spare.reset()
                current[i] = spare
            } else {
                current[i] = InputBatch()
            }
        }
        pending = 0
        pendingBytes = 0
        rounds &+= 1
    }

    // MARK: Live capture (the daemon)

    /// New engines for every worker (each its own detection engine and indicator matcher)
    /// and for the output stage; `stage` runs on the merge thread once every packet before
    /// the reload has been merged (the correlation rules' reload).
    final class Reload: @unchecked Sendable {
        let detections: [DetectionEngine?]
        let intels: [IntelMatcher?]
        let gate: DetectionEngine?
        let anomalies: AnomalyEngine?
        let stage: () -> Void
        var at: UInt64 = 0
        init(detections: [DetectionEngine?], intels: [IntelMatcher?], gate: DetectionEngine?, anomalies: AnomalyEngine?,
             stage: @escaping () -> Void) {
            self.detections = detections
            self.intels = intels
            self.gate = gate
            self.anomalies = anomalies
            self.stage = stage
        }
    }

    /// Called on the merge thread after each batch it reads (the daemon's timers: correlation
    /// boundaries, EVE retries).
    public var periodic: (() -> Void)? = nil
    /// Called on the merge thread with the summed counters each time all workers answered a
    /// stats request; `write` says whether the request asked for an EVE `stats` record.
    public var onStats: ((StatsTree, Bool) -> Void)? = nil
    private var statsWrites: [Bool] = []

    /// Sends what the capture stage holds now (live capture: at the end of each poll round,
    /// so a quiet link is not held back by batch size).
    func flush() { dispatch() }

    /// A clock tick without a packet (a quiet link): idle flows end by the wall clock.
    public func advanceIdle(to time: Int64) {
        guard FlowTable.second(time) > lastSecond else { return }
        lastSecond = FlowTable.second(time)
        if time > lastTimestamp { lastTimestamp = time }
        for batch in current {
            batch.entries.append(.init(kind: .tick, sequence: sequence &+ 1, timestamp: time, offset: 0, captureLength: 0,
                                       wireLength: 0, linkType: 0, segment: 0))
        }
        dispatch()
    }

    /// Asks every worker for its counters; `onStats` gets their sum.
    public func requestStats(write: Bool) {
        pthread_mutex_lock(sharedLock)
        statsWrites.append(write)
        pthread_mutex_unlock(sharedLock)
        for batch in current { batch.statsRequest = true }
        dispatch()
    }

    /// Swaps engines between two packets: every packet before goes through the old ones.
    func replace(detection: DetectionEngine?, intel: IntelMatcher?, anomalies: AnomalyEngine?, stage: @escaping () -> Void) {
        detection?.deferThresholds = true
        let reload = Reload(detections: workers.map { _ in detection.map { DetectionEngine(sharing: $0) } },
                            intels: workers.map { _ in intel?.copy() }, gate: detection, anomalies: anomalies, stage: stage)
        dispatch()
        reload.at = sequence
        for batch in current { batch.reload = reload }
        dispatch()
    }

    /// Ends the flows, waits for the workers and the merge, and writes the final `stats`.
    public func finish() {
        dispatch(final: true)
        for worker in workers { if let t = worker.thread { pthread_join(t, nil) } }
        if let mergeThread { pthread_join(mergeThread, nil) }
    }

    static func run(_ worker: Worker) {
        let pipeline = worker.pipeline
        while true {
            let batch = worker.input.pop()
            let out = worker.spareOutputs.tryPop() ?? OutputBatch()
            out.reset()
            if let reload = batch.reload {
                pipeline.replaceInWorker(detection: reload.detections[worker.index], intel: reload.intels[worker.index],
                                         anomalySettings: reload.anomalies?.settings)
                out.reload = reload
            }
            batch.bytes.withUnsafeBytes { raw in
                for e in batch.entries {
                    switch e.kind {
                    case .tick:
                        pipeline.tick(sequence: e.sequence, time: e.timestamp)
                    case .packet, .innerOnly:
                        let frame = UnsafeRawBufferPointer(rebasing: raw[e.offset..<(e.offset + e.captureLength)])
                        pipeline.process(frame, timestamp: e.timestamp, captureLength: e.captureLength, wireLength: e.wireLength,
                                         linkType: e.linkType, segment: e.segment, sequence: e.sequence, outerFlow: e.kind == .packet)
                    case .outerOnly:
                        let frame = UnsafeRawBufferPointer(rebasing: raw[e.offset..<(e.offset + e.captureLength)])
                        pipeline.trackOuterFlow(frame, timestamp: e.timestamp, captureLength: e.captureLength, wireLength: e.wireLength,
                                                linkType: e.linkType, segment: e.segment, sequence: e.sequence)
                    }
                }
            }
            out.through = batch.through
            out.round = batch.round
            if batch.final {
                // Flows still open end in bounded pieces, each handed on as it is made.
                var piece = out
                pipeline.flushFlows(every: WorkerPool.flushPiece) {
                    swap(&piece.items, &pipeline.items)
                    pipeline.eve?.output.take(&piece.eve)
                    worker.output.push(piece)
                    piece = worker.spareOutputs.tryPop() ?? OutputBatch()
                    piece.reset()
                    piece.through = batch.through
                    piece.round = batch.round
                }
                swap(&piece.items, &pipeline.items)
                pipeline.eve?.output.take(&piece.eve)
                piece.final = true
                piece.stats = pipeline.workerStatsTree()
                piece.eveRecords = pipeline.eve?.records ?? 0
                worker.output.push(piece)
                return
            }
            swap(&out.items, &pipeline.items)
            pipeline.eve?.output.take(&out.eve)
            if batch.statsRequest { out.snapshot = pipeline.workerStatsTree() }
            worker.output.push(out)
            worker.spareInputs.tryPush(batch)
        }
    }

    /// The merge thread: a streaming merge of the workers' output batches by item key. Each
    /// batch says up to which packet number its worker has worked (`through`): a worker with
    /// nothing waiting holds the merge back only for items beyond that. Of the workers that
    /// must be read, the one whose last batch answers the earliest dispatch is read first (the
    /// capture stage sends every worker its batch at once, so its next one is on its way, and
    /// no worker's output ring can fill while the merge waits on another). A worker's last batch (`final`) ends its stream.
    func merge() {
        let n = workers.count
        var current = [OutputBatch?](repeating: nil, count: n)
        var heads = [Int](repeating: 0, count: n)
        var through = [UInt64](repeating: 0, count: n)
        var round = [UInt64](repeating: 0, count: n)
        var ended = [Bool](repeating: false, count: n)
        var sum = StatsTree()
        var last: UInt64? = nil
        var snapshots: [[StatsTree]] = Array(repeating: [], count: n)
        var pendingReload: Reload? = nil, appliedReload: Reload? = nil
        while true {
            var best = -1
            for w in 0..<n {
                guard let batch = current[w], heads[w] < batch.items.count else { continue }
                if best < 0 || batch.items[heads[w]].key < current[best]!.items[heads[best]].key { best = w }
            }
            // A worker with nothing waiting that may still produce items up to the candidate's
            // packet number must be read first; the one furthest behind (in dispatches: packet
            // numbers stand still on a quiet link) goes first.
            let bound = best < 0 ? UInt64.max : current[best]!.items[heads[best]].key.sequence
            var refill = -1
            for w in 0..<n where !ended[w] && heads[w] >= current[w]?.items.count ?? 0 && (best < 0 || through[w] < bound) {
                if refill < 0 || round[w] < round[refill] { refill = w }
            }
            if let r = pendingReload, bound > r.at, through.allSatisfy({ $0 >= r.at }) {
                // Every item before the reload is merged: the output stage takes its part.
                stage.replace(gate: r.gate?.gate, anomalies: r.anomalies)
                r.stage()
                appliedReload = r
                pendingReload = nil
            }
            if refill >= 0 {
                if let spent = current[refill] { workers[refill].spareOutputs.tryPush(spent) }
                let next = workers[refill].output.pop()
                current[refill] = next
                heads[refill] = 0
                through[refill] = next.through
                round[refill] = next.round
                if let r = next.reload, r !== pendingReload, r !== appliedReload { pendingReload = r }
                if let snapshot = next.snapshot {
                    snapshots[refill].append(snapshot)
                    if snapshots.allSatisfy({ !$0.isEmpty }) {
                        var total = StatsTree()
                        for w in 0..<n {
                            let s = snapshots[w].removeFirst()
                            total = total.children.isEmpty ? s : total.summed(with: s)
                        }
                        pthread_mutex_lock(sharedLock)
                        let write = statsWrites.isEmpty ? false : statsWrites.removeFirst()
                        pthread_mutex_unlock(sharedLock)
                        onStats?(stage.compose(total), write)
                    }
                }
                periodic?()
                if next.final {
                    ended[refill] = true
                    if let s = next.stats { sum = sum.children.isEmpty ? s : sum.summed(with: s) }
                    workerEVERecords &+= next.eveRecords
                }
                continue
            }
            if best < 0 { break }
            let batch = current[best]!
            let (key, item) = batch.items[heads[best]]
            heads[best] += 1
            if let l = last, l != key.sequence {
                afterPacket?()
                noteFailure()
            }
            last = key.sequence
            if case .eve = item {
                batch.eve.withUnsafeBytes { stage.consume(item, formatted: $0) }
            } else {
                stage.consume(item)
            }
        }
        if last != nil { afterPacket?() }
        beforeStats?(lastTimestamp)
        finalStats = stage.compose(sum)
        if let eve = stage.eve, stage.outputFailure == nil {
            let uptime = firstTimestamp.map { (lastTimestamp - $0) / 1_000_000_000 } ?? 0
            do {
                try eve.writeStats(timestamp: lastTimestamp, uptime: uptime, counters: finalStats)
            } catch {
                noteFailure(error)
            }
        }
        noteFailure()
    }

    /// Lets EVE writing resume after a failure (the daemon retries; on the merge thread).
    public func clearOutputFailure() {
        stage.clearOutputFailure()
        pthread_mutex_lock(sharedLock)
        failure = nil
        pthread_mutex_unlock(sharedLock)
    }

    /// Publishes the first output failure (the output stage's, or `error`) to the capture thread.
    func noteFailure(_ error: OutputFile.Failure? = nil) {
        guard let found = error ?? stage.outputFailure else { return }
        pthread_mutex_lock(sharedLock)
        if failure == nil { failure = found }
        pthread_mutex_unlock(sharedLock)
    }
}

/// Processor cores, for the default number of workers.
public enum Cores {
    public static var online: Int { max(1, sysconf(Int32(_SC_NPROCESSORS_ONLN))) }
    public static let maxWorkers = 64
}

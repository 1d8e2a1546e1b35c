import Foundation
import HNAlert
import HNCorrelate
import HNOutput
import HNSensor
import HNStore

/// A sensor's side of the central store: takes alerts on the output thread, numbers them
/// (sensor, source, seq), hands them in batches to its own thread, which sends them to
/// PostgreSQL while it keeps up, and otherwise journals them in the spool and forwards the
/// spool, oldest first. When the database is away the spool grows (up to its bound) and the
/// thread retries with a growing pause (up to 5 s); the pipeline never waits for the database.
public final class CentralForwarder: AlertForwarder, @unchecked Sendable {
    public struct Settings: Sendable {
        public var url: StoreURL
        public var spoolPath: String
        public var spoolMax: Int64
        public var sensorName: String
        /// The configured segment names, when packets carry their segment (live capture).
        public var segmentNames: [String]? = nil
        public var evidenceKey: EvidenceKey? = nil
        public var constituents: [ConstituentInfo] = []
        /// Alerts per batch handed to the forwarding thread, and per transaction.
        public var batch = 512
        public init(url: StoreURL, spoolPath: String, spoolMax: Int64, sensorName: String) {
            self.url = url
            self.spoolPath = spoolPath
            self.spoolMax = spoolMax
            self.sensorName = sensorName
        }
    }

    public let settings: Settings
    let spool: Spool
    /// Identifies this run in every alert's source, so sequence numbers start again at 1 in
    /// each run without meeting an earlier run's.
    let runStart: Int64
    public var source: String? = nil {
        didSet { sourceKey = (source ?? "live") + "#\(runStart)" }
    }
    var sourceKey: String
    var seq: Int64 = 0
    /// Taken on the output thread, not yet handed over.
    var buffer: [CentralAlert] = []

    let condition = NSCondition()
    // Guarded by `condition`.
    var handoff: [CentralAlert] = []
    var stopping = false
    var busy = false
    var counters = Counters()
    var thread: Thread? = nil
    // The forwarding thread's own.
    var store: PostgresStore? = nil
    /// The sensor, registered (with the constituents) once the database answers.
    var record: IncidentStore.SensorRecord? = nil
    var registered = false
    var pause: Double = 0.25

    public struct Counters: Sendable {
        /// Alerts put in the spool, forwarded (stored; a resent alert counts once), dropped
        /// over the spool's bound, failed attempts.
        public var spooled: UInt64 = 0
        public var forwarded: UInt64 = 0
        public var dropped: UInt64 = 0
        public var failures: UInt64 = 0
        public var spoolAlerts: Int = 0
        public var spoolBytes: Int64 = 0
        /// How long the oldest alert not yet forwarded has waited (0 when none).
        public var lagSeconds: Double = 0
        public var connected = false
        public var lastError: String? = nil
    }

    /// Opens the spool (what an earlier run left there goes first) and starts the thread.
    public init(settings: Settings) throws(StoreError) {
        self.settings = settings
        spool = try Spool(path: settings.spoolPath, maxBytes: settings.spoolMax)
        runStart = wallNanos()
        sourceKey = "live#\(runStart)"
        counters.spoolAlerts = spool.count
        counters.spoolBytes = spool.bytes
        let t = Thread { [unowned self] in self.loop() }
        t.name = "hnsensor.forward"
        thread = t
        t.start()
    }

    // MARK: Output thread

    public func add(_ alert: SecurityAlert) {
        seq += 1
        var sealed: [UInt8]? = nil
        if let excerpt = alert.excerpt, !excerpt.isEmpty, let key = settings.evidenceKey {
            sealed = try? key.seal(excerpt)
        }
        let segment = settings.segmentNames.flatMap { names in Int(alert.segment) < names.count ? names[Int(alert.segment)] : nil }
        buffer.append(CentralAlert(alert, sensor: settings.sensorName, source: sourceKey, seq: seq, segmentName: segment,
                                   captureFile: source, sealedExcerpt: sealed))
    }

    public func register(_ record: IncidentStore.SensorRecord) {
        condition.lock()
        self.record = record
        registered = false
        condition.signal()
        condition.unlock()
    }

    public func afterPacket() {
        if buffer.count >= settings.batch { flush() }
    }

    public func flush() {
        guard !buffer.isEmpty else { return }
        condition.lock()
        handoff += buffer
        condition.signal()
        condition.unlock()
        buffer.removeAll(keepingCapacity: true)
    }

    public func statsTree() -> StatsTree {
        let c = snapshot()
        var t = StatsTree()
        t.set("spooled", c.spooled)
        t.set("forwarded", c.forwarded)
        t.set("dropped", c.dropped)
        t.set("failures", c.failures)
        t.set("spool_alerts", UInt64(c.spoolAlerts))
        t.set("spool_bytes", UInt64(max(0, c.spoolBytes)))
        t.set("lag_seconds", UInt64(c.lagSeconds.rounded()))
        t.set("connected", c.connected ? 1 : 0)
        return t
    }

    /// The counters now.
    public func snapshot() -> Counters {
        condition.lock()
        defer { condition.unlock() }
        return counters
    }

    /// Hands on what was taken and waits until the spool is empty (true) or `timeout`
    /// seconds pass (false: the rest stays in the spool for the next run).
    public func drain(timeout: Double) -> Bool {
        flush()
        let deadline = Date(timeIntervalSinceNow: timeout)
        condition.lock()
        defer { condition.unlock() }
        condition.broadcast()
        while !handoff.isEmpty || busy || counters.spoolAlerts > 0 {
            if !condition.wait(until: deadline) { return handoff.isEmpty && !busy && counters.spoolAlerts == 0 }
        }
        return true
    }

    /// Stops the thread (after its current attempt); the spool keeps what was not forwarded.
    public func stop() {
        flush()
        condition.lock()
        stopping = true
        condition.broadcast()
        while thread != nil { condition.wait() }
        condition.unlock()
    }

    // MARK: Forwarding thread

    func loop() {
        var retryAt: Date? = nil
        while true {
            condition.lock()
            while handoff.isEmpty && !stopping {
                // Registers as soon as it can: the central correlator waits for registered sensors.
                if counters.spoolAlerts > 0 || (record != nil && !registered) {
                    // Something to forward: now, or when the pause after a failure ends.
                    guard let at = retryAt, at > Date() else { break }
                    _ = condition.wait(until: at)
                } else {
                    condition.wait()
                }
            }
            if stopping {
                thread = nil
                condition.broadcast()
                condition.unlock()
                store = nil
                return
            }
            let taken = handoff
            handoff = []
            busy = true
            condition.unlock()

            var error: String? = nil
            // Straight to the database while it keeps up (nothing waits in the spool, the last
            // attempt went through); into the spool, behind what waits there, otherwise or when
            // that fails.
            var sent = false
            if !taken.isEmpty, spool.count == 0, retryAt == nil, store != nil {
                do throws(StoreError) {
                    try connected().insert(taken)
                    sent = true
                    update { $0.forwarded &+= UInt64(taken.count) }
                } catch {}
            }
            if !sent {
                do throws(StoreError) {
                    try spool.append(taken, queuedAt: wallNanos())
                } catch let e {
                    error = e.description
                }
                update { c in
                    c.spooled &+= UInt64(taken.count)
                    c.dropped = UInt64(max(0, spool.dropped))
                }
                if error == nil { error = forward() }
            }
            update { c in
                if let error {
                    c.failures &+= 1
                    c.lastError = error
                    c.connected = false
                }
            }
            if error != nil {
                retryAt = Date(timeIntervalSinceNow: pause)
                pause = min(5, pause * 2)
            } else {
                retryAt = nil
                pause = 0.25
            }
            condition.lock()
            busy = false
            condition.broadcast()
            condition.unlock()
        }
    }

    func update(_ body: (inout Counters) -> Void) {
        condition.lock()
        body(&counters)
        counters.spoolAlerts = spool.count
        counters.spoolBytes = spool.bytes
        let oldest = spool.count > 0 ? spool.oldestQueuedAt() : nil
        counters.lagSeconds = oldest.map { Double(max(0, wallNanos() - $0)) / 1e9 } ?? 0
        condition.unlock()
    }

    /// Sends the spool, oldest first, until it is empty; the error that stopped it, if any.
    /// The store, connected and this sensor registered (the first time, or after a new
    /// `register`).
    func connected() throws(StoreError) -> PostgresStore {
        // A batch is written in well under a second: a statement unanswered for 15 s is on a
        // connection that died without saying so.
        if store == nil { store = try PostgresStore(url: settings.url, statementTimeout: 15) }
        let store = store!
        condition.lock()
        let pendingRecord = registered ? nil : record
        condition.unlock()
        if let pendingRecord {
            try store.register(sensor: pendingRecord)
            if !settings.constituents.isEmpty { try store.saveConstituents(settings.constituents) }
            condition.lock()
            if record == pendingRecord { registered = true }
            condition.unlock()
        }
        return store
    }

    func forward() -> String? {
        do throws(StoreError) {
            let store = try connected()
            update { $0.connected = true; $0.lastError = nil }
            while spool.count > 0 {
                let batch = try spool.oldest(settings.batch * 2)
                guard let last = batch.last?.0 else { break }
                try store.insert(batch.map(\.1))
                try spool.remove(upTo: last)
                update { $0.forwarded &+= UInt64(batch.count) }
                condition.lock()
                let stop = stopping
                condition.unlock()
                if stop { break }
            }
            return nil
        } catch {
            return error.description
        }
    }
}

/// The wall clock in nanoseconds (spool ages, run identifiers; never alert time).
func wallNanos() -> Int64 {
    var ts = timespec()
    clock_gettime(CLOCK_REALTIME, &ts)
    return Int64(ts.tv_sec) * 1_000_000_000 + Int64(ts.tv_nsec)
}

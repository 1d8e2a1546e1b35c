import HNAlert
import Dispatch
import HNCorrelate
import HNDetect
import HNOutput
import HNStore

/// Commits correlation batches to the store on its own thread, one at a time.
final class StoreWriter: @unchecked Sendable {
    let store: IncidentStore
    let actor: String
    let queue = DispatchQueue(label: "hnsensor.store-writer")
    // Written on `queue`, read after `queue.sync {}` (which orders the accesses).
    var failure: StoreError? = nil
    var inFlight: CorrelationBatch? = nil

    init(store: IncidentStore, actor: String) {
        self.store = store
        self.actor = actor
    }

    func submit(_ batch: CorrelationBatch) {
        inFlight = batch
        failure = nil
        queue.async {
            do throws(StoreError) {
                try self.store.commit(batch, actor: self.actor)
            } catch {
                self.failure = error
            }
        }
    }

    /// What became of the batch in flight.
    enum Outcome {
        case idle
        case committed(CorrelationBatch)
        /// Not written (the transaction was rolled back): the batch, to keep or retry.
        case failed(CorrelationBatch, StoreError)
    }

    /// Waits for the batch in flight.
    func wait() -> Outcome {
        queue.sync {}
        guard let batch = inFlight else { return .idle }
        inFlight = nil
        if let failure { return .failed(batch, failure) }
        return .committed(batch)
    }
}

extension CorrelationBatch {
    /// Appends a later batch: its alerts, links and openings after these, and its events and
    /// incidents (the latest state of each) in place of earlier states of the same rows.
    mutating func append(_ later: CorrelationBatch) {
        alerts += later.alerts
        links += later.links
        opened += later.opened
        events = CorrelationBatch.merged(events, later.events, id: \.id)
        incidents = CorrelationBatch.merged(incidents, later.incidents, id: \.id)
    }

    static func merged<T>(_ a: [T], _ b: [T], id: KeyPath<T, Int64>) -> [T] {
        var byID: [Int64: T] = [:]
        for x in a { byID[x[keyPath: id]] = x }
        for x in b { byID[x[keyPath: id]] = x }
        return byID.keys.sorted().map { byID[$0]! }
    }
}

/// The correlator and the store writer, wired to the pipeline: alerts go in as they are
/// raised; at batch boundaries the changes go to the store thread, and the EVE `incident`
/// and `security_event` records of a batch are written only after it is committed. The
/// boundaries depend on packet and alert counts only, so output order is deterministic.
public final class CorrelationStage {
    public private(set) var correlator: Correlator
    let writer: StoreWriter?
    let store: IncidentStore?
    let eve: EVEWriter?
    /// The latest committed state of every incident touched in this run.
    public private(set) var incidents: [Int64: Incident] = [:]
    public var events: UInt64 { correlator.stats.events }
    public private(set) var failure: String? = nil
    /// What a failed commit left unwritten, as one batch, oldest changes first; retried at
    /// every boundary when `retryFailedBatches` is set (the daemon), kept and counted
    /// otherwise (a replay stops at the first failure).
    var unwritten: CorrelationBatch? = nil
    /// Whether a failed batch is retried at the next boundary (the daemon: a store that was
    /// busy, full or away comes back) or the stage stops writing (a replay).
    public var retryFailedBatches = false
    /// A backlog is in flight again: the next boundary must learn whether it went through.
    var retrying = false
    /// Batches committed, and failed commits.
    public private(set) var committedBatches: UInt64 = 0
    public private(set) var failedCommits: UInt64 = 0
    /// Alerts dropped because the unwritten backlog passed `maxUnwrittenAlerts`.
    public private(set) var droppedAlerts: UInt64 = 0
    /// The unwritten backlog's bound (about 1 KiB an alert in memory).
    static let maxUnwrittenAlerts = 1_000_000
    var pendingAlerts = 0
    /// Alerts per batch before a boundary is forced.
    static let batchAlerts = 512

    public init(correlator: Correlator, store: IncidentStore?, eve: EVEWriter?, actor: String) {
        self.correlator = correlator
        self.writer = store.map { StoreWriter(store: $0, actor: actor) }
        self.store = store
        self.eve = eve
    }

    /// The stage for a configuration: a correlator with `rules` and, when `storePath` is
    /// given, the store (created if missing) it continues from.
    public static func make(rules: [CorrelationRule], config: SensorConfig, storePath: String?, eve: EVEWriter?,
                            captureSegments: Bool, sensor: IncidentStore.SensorRecord? = nil) throws(ReplayError) -> CorrelationStage {
        var store: IncidentStore? = nil
        if let storePath {
            do {
                let s = try IncidentStore(path: storePath)
                try s.saveConstituents(config.constituentInfos)
                if let sensor { try s.register(sensor: sensor) }
                if config.storeEvidencePayload {
                    s.evidenceKey = try EvidenceKey.loadOrCreate(path: config.evidenceKeyPath(store: storePath))
                }
                store = s
            } catch {
                throw ReplayError(description: error.description)
            }
        }
        let stage = CorrelationStage(correlator: try makeCorrelator(rules: rules, config: config, store: store, captureSegments: captureSegments),
                                     store: store, eve: eve, actor: "hnsensor:\(config.sensorName)")
        return stage
    }

    public static func makeCorrelator(rules: [CorrelationRule], config: SensorConfig, store: IncidentStore?,
                               captureSegments: Bool) throws(ReplayError) -> Correlator {
        let correlator = Correlator(rules: rules, policy: config.priority, homeNet: config.homeNet, constituents: config.constituentInfos,
                                    segmentNames: config.segments.map(\.name), segmentNetworks: config.segments.map { ($0.name, $0.networks) })
        correlator.eventWindow = config.eventWindow
        correlator.captureSegments = captureSegments
        if let store {
            do {
                let state = try store.resumeState()
                correlator.resume(nextAlertID: state.alert, nextEventID: state.event, nextIncidentID: state.incident,
                                  openIncidents: state.open, closedIncidents: state.closed)
            } catch {
                throw ReplayError(description: error.description)
            }
        }
        return correlator
    }

    /// Takes new correlation rules (reload): commits what is pending, then continues from the
    /// store with the new rules (open incidents of rules that still exist go on absorbing).
    public func reload(rules: [CorrelationRule], config: SensorConfig) throws(ReplayError) {
        boundary()
        settle()
        if let failure, unwritten != nil { throw ReplayError(description: failure) }
        let next = try CorrelationStage.makeCorrelator(rules: rules, config: config, store: store, captureSegments: correlator.captureSegments)
        if store == nil {
            // Without a store the open incidents live only here: carry them over.
            next.resume(nextAlertID: correlator.nextAlertID, nextEventID: correlator.nextEventID, nextIncidentID: correlator.nextIncidentID,
                        openIncidents: correlator.openIncidents.map { ($0, []) }, closedIncidents: [])
        }
        correlator = next
    }

    /// Alerts since the last boundary, or a backlog to retry.
    public var hasPending: Bool { pendingAlerts > 0 || (retryFailedBatches && (unwritten != nil || retrying)) }

    /// The `stats.correlation` counters.
    public func statsTree() -> StatsTree {
        let c = correlator.stats
        var t = StatsTree()
        t.set("alerts", c.alerts)
        t.set("events", c.events)
        t.set("incidents_opened", c.incidentsOpened)
        t.set("absorbed", c.absorbed)
        t.set("incidents", UInt64(incidents.count))
        if writer != nil {
            t.set("store_batches", committedBatches)
            t.set("store_failures", failedCommits)
            t.set("store_unwritten_alerts", UInt64(unwritten?.alerts.count ?? 0))
            t.set("store_dropped_alerts", droppedAlerts)
        }
        return t
    }

    public func ingest(_ alert: SecurityAlert) {
        correlator.ingest(alert)
        pendingAlerts += 1
    }

    /// Called after each packet: a boundary every `batchAlerts` alerts.
    @inline(__always)
    public func afterPacket() {
        if pendingAlerts >= CorrelationStage.batchAlerts { boundary() }
    }

    /// Whether the stage has stopped writing (a failed commit in a replay): the caller stops.
    public var stopped: Bool { failure != nil && !retryFailedBatches }

    /// Hands the changes to the store thread, after reporting the previous batch. A batch
    /// is never dropped: what a failed commit did not write stays in `unwritten`, and later
    /// batches join it (their rows refer to its rows) until it is written.
    public func boundary() {
        pendingAlerts = 0
        let batch = correlator.takeBatch()
        guard let writer else {
            if !batch.isEmpty { report(batch) }
            return
        }
        settle()
        if !batch.isEmpty {
            if unwritten != nil {
                unwritten!.append(batch)
            } else if failure == nil || retryFailedBatches {
                writer.submit(batch)
                return
            } else {
                unwritten = batch
            }
        }
        guard var backlog = unwritten else { return }
        if backlog.alerts.count > CorrelationStage.maxUnwrittenAlerts {
            let excess = backlog.alerts.count - CorrelationStage.maxUnwrittenAlerts
            backlog.alerts.removeFirst(excess)
            droppedAlerts &+= UInt64(excess)
        }
        unwritten = backlog
        if retryFailedBatches {
            unwritten = nil
            retrying = true
            writer.submit(backlog)
        }
    }

    /// Waits for the batch in flight and reports it, or keeps it as unwritten.
    func settle() {
        guard let writer else { return }
        switch writer.wait() {
        case .idle: break
        case .committed(let batch):
            committedBatches &+= 1
            failure = nil
            retrying = false
            report(batch)
        case .failed(let batch, let error):
            failedCommits &+= 1
            failure = error.description
            if unwritten != nil {
                var b = batch
                b.append(unwritten!)
                unwritten = b
            } else {
                unwritten = batch
            }
        }
    }

    /// The last boundary and the wait for its commit.
    public func finish(at time: Int64) {
        correlator.advance(to: time &+ 365 * 86_400_000_000_000)
        boundary()
        settle()
        if let failure, let unwritten {
            self.failure = failure + " (not written: \(unwritten.alerts.count) alerts of this run"
                + (unwritten.alerts.first.map { ", from alert \($0.id)" } ?? "") + ")"
        }
    }

    func report(_ batch: CorrelationBatch) {
        for i in batch.incidents { incidents[i.id] = i }
        guard let eve else { return }
        do throws(OutputFile.Failure) {
            for e in batch.events { try eve.writeSecurityEvent(e) }
            for i in batch.incidents { try eve.writeIncident(i) }
        } catch {
            failure = failure ?? error.description
        }
    }

    /// Incidents of this run, most urgent first, then most recent.
    public var sortedIncidents: [Incident] {
        incidents.values.sorted { ($0.priority, -$0.lastSeen, $0.id) < ($1.priority, -$1.lastSeen, $1.id) }
    }
}

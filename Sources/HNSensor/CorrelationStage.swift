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
        queue.async {
            do throws(StoreError) {
                try self.store.commit(batch, actor: self.actor)
            } catch {
                self.failure = error
            }
        }
    }

    /// Waits for the batch in flight; returns it once committed.
    func wait() throws(StoreError) -> CorrelationBatch? {
        queue.sync {}
        if let failure { throw failure }
        defer { inFlight = nil }
        return inFlight
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
                            captureSegments: Bool) throws(ReplayError) -> CorrelationStage {
        var store: IncidentStore? = nil
        if let storePath {
            do {
                let s = try IncidentStore(path: storePath)
                try s.saveConstituents(config.constituentInfos)
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

    static func makeCorrelator(rules: [CorrelationRule], config: SensorConfig, store: IncidentStore?,
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
        if let writer {
            do {
                if let committed = try writer.wait() { report(committed) }
            } catch {
                throw ReplayError(description: error.description)
            }
        }
        let next = try CorrelationStage.makeCorrelator(rules: rules, config: config, store: store, captureSegments: correlator.captureSegments)
        if store == nil {
            // Without a store the open incidents live only here: carry them over.
            next.resume(nextAlertID: correlator.nextAlertID, nextEventID: correlator.nextEventID, nextIncidentID: correlator.nextIncidentID,
                        openIncidents: correlator.openIncidents.map { ($0, []) }, closedIncidents: [])
        }
        correlator = next
    }

    public var hasPending: Bool { pendingAlerts > 0 }

    /// The `stats.correlation` counters.
    public func statsTree() -> StatsTree {
        let c = correlator.stats
        var t = StatsTree()
        t.set("alerts", c.alerts)
        t.set("events", c.events)
        t.set("incidents_opened", c.incidentsOpened)
        t.set("absorbed", c.absorbed)
        t.set("incidents", UInt64(incidents.count))
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

    /// Hands the changes to the store thread, after reporting the previous batch.
    public func boundary() {
        pendingAlerts = 0
        let batch = correlator.takeBatch()
        if let writer {
            let committed: CorrelationBatch?
            do {
                committed = try writer.wait()
            } catch {
                failure = failure ?? error.description
                return
            }
            if let committed { report(committed) }
            if !batch.isEmpty { writer.submit(batch) }
        } else if !batch.isEmpty {
            report(batch)
        }
    }

    /// The last boundary and the wait for its commit.
    public func finish(at time: Int64) {
        correlator.advance(to: time &+ 365 * 86_400_000_000_000)
        boundary()
        if let writer {
            do {
                if let committed = try writer.wait() { report(committed) }
            } catch {
                failure = failure ?? error.description
            }
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

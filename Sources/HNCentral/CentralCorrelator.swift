import Foundation
import HNAlert
import HNCorrelate
import HNDecode
import HNSensor
import HNStore
import Logging
import PostgresNIO

/// The central correlator (`hnsensor correlate`): reads the alerts every sensor stored, in
/// alert time, and builds events and incidents with the same rules and priority as a sensor
/// correlating into its own store; one attacker seen by two sensors is one incident.
///
/// - Order: alerts wait in memory until every registered sensor has sent alerts at least
///   `maxLateness` later (its watermark), but no longer than until they are twice that older
///   than the newest alert; then they go in, oldest first (ties by sensor, source and
///   sequence), so the result does not depend on which sensor's batch arrived first. An alert
///   older than what already went in is late: it is correlated at once, after the others,
///   and counted.
/// - Exactly once: the events, incidents, audit entries, the alerts' events and the rule
///   windows in progress are committed in one transaction. A correlator killed anywhere
///   restarts from the last commit; the alerts after it are read again.
/// - One at a time: the active correlator holds an advisory lock on its connection; another
///   one waits and takes over within a second of the first one's connection ending.
public final class CentralCorrelator {
    public struct Settings: Sendable {
        public var url: StoreURL
        /// Alert time an alert may wait for the other sensors (`correlation.max_lateness`).
        public var maxLateness: Int64 = 60_000_000_000
        /// Alerts read per query, alerts held in memory at most (a longer backlog is read
        /// as the held ones go in), and alerts per commit.
        public var readBatch = 20_000
        public var maxBacklog = 500_000
        public var commitBatch = 5_000
        /// Who holds the lease (host and process), for the state row and the logs.
        public var holder = "hnsensor-correlate"
        public init(url: StoreURL) { self.url = url }
    }

    public struct Counters: Sendable {
        public var read: UInt64 = 0
        public var correlated: UInt64 = 0
        public var late: UInt64 = 0
        public var commits: UInt64 = 0
        public var incidentsOpened: UInt64 = 0
        public var pending: Int = 0
        /// Alert time between the newest alert read and the last one correlated (seconds).
        public var lagSeconds: Double = 0
    }

    public let settings: Settings
    let rules: [CorrelationRule]
    let config: SensorConfig
    let store: PostgresStore
    /// The connection holding the lease; every read and commit goes through it.
    var link: PGLink? = nil
    var correlator: Correlator
    public private(set) var counters = Counters()

    /// An alert read and not yet correlated. Small (the row is behind a reference): sorting
    /// thousands of them moves 24 bytes each.
    struct Pending {
        var timestamp: Int64
        var id: Int64
        let held: Held
        var row: CentralAlert { held.row }
        final class Held {
            let row: CentralAlert
            init(_ row: CentralAlert) { self.row = row }
        }
        init(id: Int64, row: CentralAlert) {
            timestamp = row.timestamp
            self.id = id
            held = Held(row)
        }
        /// Alert time, then sensor, source and sequence (ties are rare: the strings are read
        /// only then).
        static func < (a: Pending, b: Pending) -> Bool {
            if a.timestamp != b.timestamp { return a.timestamp < b.timestamp }
            let x = a.held.row, y = b.held.row
            return (x.sensor, x.source, x.seq, a.id) < (y.sensor, y.source, y.seq, b.id)
        }
    }
    var pending: [Pending] = []
    /// The highest alert id read; every alert at or below `floor` is correlated.
    var lastRead: Int64 = 0
    var floor: Int64 = 0
    /// The highest alert id correlated when this correlator resumed.
    var doneUpTo: Int64 = 0
    /// The newest alert time read from each sensor, and of all.
    var watermarks: [String: Int64] = [:]
    var newest: Int64 = .min
    /// The latest alert time correlated.
    var released: Int64 = .min
    var segmentIndex: [String: Int] = [:]
    /// Writes the commits on its own thread while the next alerts are correlated.
    let writer = Writer()

    public init(settings: Settings, rules: [CorrelationRule], config: SensorConfig, store: PostgresStore) throws(StoreError) {
        self.settings = settings
        self.rules = rules
        self.config = config
        self.store = store
        correlator = CentralCorrelator.makeCorrelator(rules: rules, config: config)
        for (i, s) in config.segments.enumerated() { segmentIndex[s.name] = i }
    }

    static func makeCorrelator(rules: [CorrelationRule], config: SensorConfig) -> Correlator {
        let c = Correlator(rules: rules, policy: config.priority, homeNet: config.homeNet, constituents: config.constituentInfos,
                           segmentNames: config.segments.map(\.name), segmentNetworks: config.segments.map { ($0.name, $0.networks) })
        c.eventWindow = config.eventWindow
        // Alerts from live sensors name their segment; replayed ones do not.
        c.captureSegments = true
        return c
    }

    // MARK: The lease

    /// Takes the lease: at once (true) or, when another correlator holds it, not (false).
    public func tryAcquire() throws(StoreError) -> Bool {
        writer.discard()
        if link == nil || link!.isClosed { link = try PGLink.connect(settings.url) }
        let rows = try link!.query("SELECT pg_try_advisory_lock($1) AS ok", [.int(PGSchema.correlatorLock)])
        guard rows.first?.bool("ok") == true else { return false }
        try resume()
        return true
    }

    /// Takes the lease, waiting (polling every `interval` seconds) while another holds it;
    /// `waiting` is called once when it must wait.
    public func acquire(interval: Double = 0.5, waiting: () -> Void = {}, stop: () -> Bool = { false }) throws(StoreError) -> Bool {
        var told = false
        while !stop() {
            if try tryAcquire() { return true }
            if !told { waiting(); told = true }
            Thread.sleep(forTimeInterval: interval)
        }
        return false
    }

    public func release() {
        writer.discard()
        link?.close()
        link = nil
    }

    /// State encoded in `correlator_state.state`.
    struct Saved: Codable {
        var released: Int64
        var windows: CorrelatorSnapshot
    }

    /// Continues from the store: identifiers, open and closed incidents, the events alerts
    /// may still join, the rule windows in progress, and the alerts not yet correlated.
    func resume() throws(StoreError) {
        let l = link!
        correlator = CentralCorrelator.makeCorrelator(rules: rules, config: config)
        pending = []
        watermarks = [:]
        newest = .min
        doneUpTo = try l.query("SELECT coalesce(max(alert_id), 0) AS n FROM alert_events")[0].int("n")
        let nextEvent = try l.query("SELECT coalesce(max(id), 0) + 1 AS n FROM events")[0].int("n")
        let nextIncident = try l.query("SELECT coalesce(max(id), 0) + 1 AS n FROM incidents")[0].int("n")
        var open: [(Incident, Set<Int64>)] = []
        var closed: [Incident] = []
        for incident in try l.query("SELECT * FROM incidents ORDER BY id").map(PostgresStore.incident) {
            if incident.status.isOpen {
                let events = Set(try l.query("SELECT event_id FROM incident_events WHERE incident_id = $1", [.int(incident.id)]).map { $0.int("event_id") })
                open.append((incident, events))
            } else {
                closed.append(incident)
            }
        }
        correlator.resume(nextAlertID: 1, nextEventID: nextEvent, nextIncidentID: nextIncident, openIncidents: open, closedIncidents: closed)
        var saved = Saved(released: .min, windows: CorrelatorSnapshot())
        floor = 0
        if let row = try l.query("SELECT floor, state FROM correlator_state WHERE id = 1").first {
            floor = row.int("floor")
            if let data = row.text("state").data(using: .utf8), let s = try? JSONDecoder().decode(Saved.self, from: data) { saved = s }
        }
        released = saved.released
        lastRead = floor
        let ids = saved.windows.alertIDs
        var alerts: [Int64: SecurityAlert] = [:]
        if !ids.isEmpty {
            let list = ids.sorted().map(String.init).joined(separator: ",")
            for row in try l.rows("SELECT \(CentralCorrelator.readColumns) FROM alerts a WHERE a.id IN (\(list))") {
                let p = CentralCorrelator.pending(row)
                alerts[p.id] = p.row.securityAlert(segmentIndex: { self.segmentIndex[$0] })
            }
        }
        correlator.restore(saved.windows, alerts: alerts)
        if released != .min {
            correlator.restoreOpenEvents(try l.query("SELECT * FROM events WHERE last_seen >= $1", [.int(released &- config.eventWindow)]).map(PostgresStore.event))
        }
    }

    /// The columns `pending` reads, in its order: what correlation looks at (the rules, the
    /// hosts, the segment, the priority) and what orders alerts; not the evidence.
    static let readColumns = """
        a.id, a.sensor, a.source, a.seq, a.timestamp, a.gid, a.sid, a.signature, a.classtype, a.severity,
        a.origin, a.origin_name, a.src_ip, a.dest_ip, a.dest_port, a.segment, a.target
        """

    /// An alert of the read query, its cells in the query's order.
    static func pending(_ row: PostgresRow) -> Pending {
        var cells = row.makeIterator()
        func int() -> Int64 { (try? cells.next()?.decode(Int64?.self)).flatMap { $0 } ?? 0 }
        func text() -> String { (try? cells.next()?.decode(String?.self)).flatMap { $0 } ?? "" }
        func optionalText() -> String? { (try? cells.next()?.decode(String?.self)).flatMap { $0 } }
        let id = int()
        let alert = CentralAlert(sensor: text(), source: text(), seq: int(), timestamp: int(), gid: int(), sid: int(), rev: 0, signature: text(),
                                 classtype: text(), category: "", severity: Int(int()), origin: text(), originName: optionalText(),
                                 sourceIP: text(), sourcePort: 0, destinationIP: text(), destinationPort: Int(int()), proto: 0,
                                 appProto: nil, segment: optionalText(), target: optionalText(), action: "", metadata: "",
                                 captureFile: nil, packetNumber: nil, flowID: nil, excerpt: nil)
        return Pending(id: id, row: alert)
    }

    // MARK: Work

    /// Reads the alerts stored since the last read, in id order: all those stored when the
    /// read starts (not the ones sensors store meanwhile: those wait for the next round, so
    /// a steady stream goes in as it comes instead of being chased), or one batch
    /// (`readBatch`) when `all` is false.
    func read(all: Bool = true) throws(StoreError) -> Int {
        try writer.wait()
        let l = link!
        var total = 0
        let target = all ? try l.query("SELECT coalesce(max(id), 0) AS n FROM alerts")[0].int("n") : 0
        while true {
            let batch: [PostgresRow] = try l.transaction { () throws(StoreError) in
                // Waits for the inserts in flight (they hold this lock shared), so no alert
                // with a lower id can commit after this read.
                try l.execute("SELECT pg_advisory_xact_lock($1)", [.int(PGSchema.insertBarrier)])
                // After a restart, alerts past the floor may be correlated already (they go in
                // by time, not by id): read only those that are not, until past the last one.
                let notDone = lastRead < doneUpTo ? " AND NOT EXISTS (SELECT 1 FROM alert_events ae WHERE ae.alert_id = a.id)" : ""
                return try l.rows("""
                    SELECT \(CentralCorrelator.readColumns)
                    FROM alerts a WHERE a.id > $1\(notDone) ORDER BY a.id LIMIT $2
                    """, [.int(lastRead), .int(settings.readBatch)])
            }
            // Every registered sensor is waited for, even before its first alert; one that stays
            // silent holds alerts back by at most the lateness bound.
            for row in try l.query("SELECT name FROM sensors") where watermarks[row.text("name")] == nil {
                watermarks[row.text("name")] = .min
            }
            for row in batch {
                let p = CentralCorrelator.pending(row)
                lastRead = max(lastRead, p.id)
                watermarks[p.row.sensor] = max(watermarks[p.row.sensor] ?? .min, p.row.timestamp)
                newest = max(newest, p.row.timestamp)
                pending.append(p)
            }
            total += batch.count
            counters.read &+= UInt64(batch.count)
            if batch.count < settings.readBatch || !all || lastRead >= target || pending.count >= settings.maxBacklog { break }
        }
        return total
    }

    /// Correlates the pending alerts that may go in (all of them when `everything`), and
    /// commits. Returns how many went in.
    @discardableResult
    func release(everything: Bool) throws(StoreError) -> Int {
        // Every sensor is waited for until it has sent alerts `maxLateness` later (a sensor's
        // detectors raise some alerts for packets up to a minute back), but no longer than
        // twice that behind the newest alert (a sensor that stays silent).
        let lateness = settings.maxLateness
        var point = newest &- lateness
        if let slowest = watermarks.values.min() { point = max(point, slowest) }
        point = point &- lateness
        if everything { point = .max }
        pending.sort(by: <)
        if pending.first.map({ $0.timestamp <= point }) == true { try syncStatuses() }
        var start = 0
        // In commits of `commitBatch` alerts: a long backlog is not one huge transaction.
        while start < pending.count, pending[start].timestamp <= point {
            var end = start
            while end < pending.count, end - start < settings.commitBatch, pending[end].timestamp <= point {
                let p = pending[end]
                if p.row.timestamp < released { counters.late &+= 1 }
                correlator.ingest(p.row.securityAlert(segmentIndex: { self.segmentIndex[$0] }), id: p.id)
                released = max(released, p.row.timestamp)
                end += 1
            }
            counters.correlated &+= UInt64(end - start)
            start = end
            if start < pending.count, pending[start].timestamp <= point { try commit(waitingFrom: start) }
        }
        pending.removeFirst(start)
        counters.pending = pending.count
        return start
    }

    /// Ends the rule windows that only judge at their end (`lt`, `lte`), as a replay does at
    /// its last packet.
    func closeWindows() {
        correlator.advance(to: released &+ 365 * 86_400_000_000_000)
    }

    /// Hands what changed, with the progress, to the writer, which commits it in one
    /// transaction while the next alerts are correlated; `pending` from `waitingFrom` on has
    /// not gone in yet. The previous commit is waited for first: one at most in flight.
    func commit(waitingFrom first: Int = 0) throws(StoreError) {
        try writer.wait()
        let batch = correlator.takeBatch()
        floor = pending[first...].lazy.map(\.id).min().map { $0 - 1 } ?? lastRead
        let saved = Saved(released: released, windows: correlator.snapshot())
        let state = (try? JSONEncoder().encode(saved)).flatMap { String(data: $0, encoding: .utf8) } ?? "{}"
        writer.submit(Write(link: link!, batch: batch, floor: floor, state: state, holder: settings.holder, url: settings.url))
        counters.incidentsOpened &+= UInt64(batch.opened.count)
        counters.commits &+= 1
        counters.lagSeconds = newest == .min || released == .min ? 0 : Double(max(0, newest - released)) / 1e9
    }

    /// One commit: what it writes, taken from the correlator when it was handed over.
    struct Write: @unchecked Sendable {
        let link: PGLink
        let batch: CorrelationBatch
        let floor: Int64
        let state: String
        let holder: String
        let url: StoreURL

        func run() throws(StoreError) {
            let l = link
            let actor = "hnsensor-correlate"
            try l.transaction { () throws(StoreError) in
                // Still the holder? (A correlator whose connection was lost and came back must
                // not write beside the one that took over.)
                guard try l.query("""
                    SELECT count(*) AS n FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid() AND granted
                        AND classid::bigint = $1 AND objid::bigint = $2 AND objsubid = 1
                    """, [.int(PGSchema.correlatorLock >> 32), .int(PGSchema.correlatorLock & 0xFFFF_FFFF)])[0].int("n") > 0 else {
                    throw StoreError("\(url): the correlator lost its lease")
                }
                try CentralCorrelator.upsertEvents(batch.events, l)
                try CentralCorrelator.insertAssignments(batch.alerts, l)
                let opened = Set(batch.opened)
                for i in batch.incidents {
                    let before = try l.query("SELECT priority FROM incidents WHERE id = $1", [.int(i.id)]).first.map { Int($0.int("priority")) }
                    try l.execute("""
                        INSERT INTO incidents(id, rule_id, group_key, title, taxonomy, type, status, sources, targets, segments, constituents,
                                              first_seen, last_seen, alert_count, event_count, severity, priority, priority_reason, score,
                                              patient_care, reportable, report_deadline, related)
                        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23)
                        ON CONFLICT (id) DO UPDATE SET sources = excluded.sources, targets = excluded.targets, segments = excluded.segments,
                            constituents = excluded.constituents, first_seen = excluded.first_seen, last_seen = excluded.last_seen,
                            alert_count = excluded.alert_count, event_count = excluded.event_count, severity = excluded.severity,
                            priority = least(incidents.priority, excluded.priority),
                            priority_reason = CASE WHEN excluded.priority < incidents.priority THEN excluded.priority_reason ELSE incidents.priority_reason END,
                            score = greatest(incidents.score, excluded.score), patient_care = excluded.patient_care,
                            reportable = incidents.reportable OR excluded.reportable,
                            report_deadline = coalesce(incidents.report_deadline, excluded.report_deadline), related = excluded.related
                        """, [.int(i.id), .text(i.ruleID), .text(i.groupKey), .text(i.title), .text(i.taxonomy), .text(i.type), .text(i.status.rawValue),
                              .text(JSONText.array(i.sources)), .text(JSONText.array(i.targets)), .text(JSONText.array(i.segments)),
                              .text(JSONText.array(i.constituents)), .int(i.firstSeen), .int(i.lastSeen), .int(i.alertCount), .int(i.eventCount),
                              .int(i.severity), .int(i.priority), .text(i.priorityReason), .int(i.score), .bool(i.patientCare), .bool(i.reportable),
                              .int(i.reportDeadline), .text(JSONText.array(i.related.map(String.init)))])
                    if opened.contains(i.id) {
                        try l.execute("INSERT INTO audit(incident_id, at, actor, action, from_status, to_status, note) VALUES ($1, $2, $3, 'opened', NULL, $4, $5)",
                                      [.int(i.id), .int(i.firstSeen), .text(actor), .text(IncidentStatus.new.rawValue), .text("\(i.priorityName): \(i.priorityReason)")])
                    } else if let before, i.priority < before {
                        try l.execute("INSERT INTO audit(incident_id, at, actor, action, note) VALUES ($1, $2, $3, 'priority', $4)",
                                      [.int(i.id), .int(i.lastSeen), .text(actor), .text("P\(before) -> \(i.priorityName): \(i.priorityReason)")])
                    }
                }
                if !batch.links.isEmpty {
                    var values: [PGValue] = []
                    var rows: [String] = []
                    for (incident, event) in batch.links {
                        rows.append("($\(values.count + 1), $\(values.count + 2))")
                        values += [.int(incident), .int(event)]
                    }
                    try l.execute("INSERT INTO incident_events(incident_id, event_id) VALUES " + rows.joined(separator: ", ") + " ON CONFLICT DO NOTHING", values)
                }
                try l.execute("""
                    INSERT INTO correlator_state(id, floor, state, holder, updated_at) VALUES (1, $1, $2, $3, $4)
                    ON CONFLICT (id) DO UPDATE SET floor = excluded.floor, state = excluded.state, holder = excluded.holder, updated_at = excluded.updated_at
                    """, [.int(floor), .text(state), .text(holder), .int(wallNanos())])
            }
        }
    }

    /// Incidents analysts closed (or marked false positive or duplicate) since the last
    /// look stop absorbing alerts: the next firing opens a new one, linked to it.
    func syncStatuses() throws(StoreError) {
        let open = correlator.openIncidents
        guard !open.isEmpty else { return }
        try writer.wait()
        let ids = open.map { String($0.id) }.joined(separator: ",")
        let openNames = IncidentStatus.allCases.filter(\.isOpen).map { "'\($0.rawValue)'" }.joined(separator: ", ")
        for row in try link!.query("SELECT id, status FROM incidents WHERE id IN (\(ids)) AND status NOT IN (\(openNames))") {
            if let s = IncidentStatus(rawValue: row.text("status")) { correlator.statusChanged(row.int("id"), to: s) }
        }
    }

    static func upsertEvents(_ events: [SecurityEvent], _ l: PGLink) throws(StoreError) {
        guard !events.isEmpty else { return }
        try l.execute("""
            INSERT INTO events(id, src_ip, dest_ip, gid, sid, signature, classtype, severity, origin, first_seen, last_seen, alert_count)
            SELECT * FROM unnest($1::bigint[], $2::text[], $3::text[], $4::bigint[], $5::bigint[], $6::text[], $7::text[], $8::bigint[],
                                 $9::text[], $10::bigint[], $11::bigint[], $12::bigint[])
            ON CONFLICT (id) DO UPDATE SET last_seen = excluded.last_seen, alert_count = excluded.alert_count, severity = excluded.severity
            """, [.ints(events.map(\.id)), .texts(events.map(\.source.description)), .texts(events.map(\.destination.description)),
                   .ints(events.map { Int64($0.gid) }), .ints(events.map { Int64($0.sid) }), .texts(events.map(\.signature)),
                   .texts(events.map(\.classtype)), .ints(events.map { Int64($0.severity) }), .texts(events.map(\.origin)),
                   .ints(events.map(\.firstSeen)), .ints(events.map(\.lastSeen)), .ints(events.map { Int64($0.alertCount) })])
    }

    static func insertAssignments(_ alerts: [CorrelationBatch.StoredAlert], _ l: PGLink) throws(StoreError) {
        guard !alerts.isEmpty else { return }
        try l.execute("""
            INSERT INTO alert_events(alert_id, event_id, timestamp) SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::bigint[])
            ON CONFLICT DO NOTHING
            """, [.ints(alerts.map(\.id)), .ints(alerts.map(\.eventID)), .ints(alerts.map(\.alert.timestamp))])
    }

    /// One round: read what is new, correlate what may go in, commit. `final` correlates
    /// everything pending and ends the windows (`--once`).
    @discardableResult
    public func step(final: Bool = false) throws(StoreError) -> Int {
        _ = try read()
        let n = try release(everything: final)
        if final { closeWindows() }
        if n > 0 || final { try commit() }
        try writer.wait()
        return n
    }

    /// `--once`: everything there now, then stop.
    public func runOnce() throws(StoreError) {
        try step(final: true)
    }

    /// Waits for sensors' alerts (woken by their NOTIFY, or every `poll` seconds) and
    /// correlates them until `stop` says so. Pending alerts wait at most `idle` seconds of
    /// wall time without new alerts before they go in regardless of the watermarks.
    public func run(poll: Double = 1, idle: Double = 5, stop: @escaping @Sendable () -> Bool) throws(StoreError) {
        let wake = NotificationWaiter(url: settings.url)
        defer { wake.stop() }
        var lastNew = Date()
        while !stop() {
            // A backlog (a restart, sensors catching up) is read whole before anything goes
            // in, so its alerts go in in time order whatever the order they were stored in.
            let read = try self.read(all: true)
            if read > 0 { lastNew = Date() }
            let quiet = Date().timeIntervalSince(lastNew) >= idle
            let n = try release(everything: quiet && !pending.isEmpty)
            if n > 0 { try commit() }
            if read == 0 {
                // Nothing new: the last commit lands before the wait.
                try writer.wait()
                wake.wait(seconds: poll)
            }
        }
        try writer.wait()
    }
}

/// Runs the correlator's commits on a thread of its own, one at a time, in the order handed
/// over. The correlator waits for the one in flight before it hands over the next or uses
/// the connection otherwise; a failure is thrown there, and nothing after it is written.
final class Writer: @unchecked Sendable {
    private let queue = DispatchQueue(label: "hnsensor.correlate.writer")
    private let group = DispatchGroup()
    private let lock = NSLock()
    private var failure: StoreError?

    func submit(_ write: CentralCorrelator.Write) {
        group.enter()
        queue.async { [self] in
            do throws(StoreError) {
                try write.run()
            } catch {
                lock.withLock { failure = error }
            }
            group.leave()
        }
    }

    func wait() throws(StoreError) {
        group.wait()
        let failed = lock.withLock { () -> StoreError? in
            defer { failure = nil }
            return failure
        }
        if let failed { throw failed }
    }

    /// Waits for the commit in flight and forgets how it ended (the connection is being
    /// given up; the next lease resumes from what the store holds).
    func discard() { try? wait() }
}

/// Wakes the correlator when a sensor stores alerts (`NOTIFY hnsensor_alerts`): a
/// connection of its own listening; without it the correlator polls.
final class NotificationWaiter: @unchecked Sendable {
    let semaphore = DispatchSemaphore(value: 0)
    let task: Task<Void, Never>

    init(url: StoreURL) {
        let semaphore = self.semaphore
        task = Task.detached {
            var logger = Logger(label: "hnsensor.correlate.listen")
            logger.logLevel = .critical
            while !Task.isCancelled {
                do {
                    var config = PostgresConnection.Configuration(host: url.host, port: url.port, username: url.user, password: url.password,
                                                                  database: url.database, tls: .disable)
                    config.options.connectTimeout = .seconds(5)
                    if url.sslMode != .disable && url.sslMode != .allow && url.sslMode != .prefer {
                        // TLS-only servers: no listener; the correlator polls.
                        return
                    }
                    let connection = try await PostgresConnection.connect(configuration: config, id: 2, logger: logger)
                    defer { Task { try? await connection.close() } }
                    for try await _ in try await connection.listen("hnsensor_alerts") {
                        semaphore.signal()
                        if Task.isCancelled { break }
                    }
                } catch {
                    try? await Task.sleep(nanoseconds: 1_000_000_000)
                }
            }
        }
    }

    func wait(seconds: Double) {
        _ = semaphore.wait(timeout: .now() + seconds)
        while semaphore.wait(timeout: .now()) == .success {}
    }

    func stop() { task.cancel() }
}

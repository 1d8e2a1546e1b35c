import Foundation
import GRDB
import HNCorrelate
import HNDecode
import HNAlert

#if canImport(Glibc)
import Glibc
#endif

/// A store error: one line naming the file.
public struct StoreError: Error, CustomStringConvertible, Sendable {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// The CSIRT store: alerts, security events, incidents, their links, evidence, constituents
/// and the audit trail, in SQLite (WAL mode, foreign keys, versioned migrations). The sensor
/// writes batches in single transactions; analysts read and update through the CLI.
public final class IncidentStore: @unchecked Sendable {
    public let path: String
    let pool: DatabasePool
    /// Set when payload excerpts are kept: they are sealed with it before they are written.
    public var evidenceKey: EvidenceKey? = nil
    /// The sensor whose alerts this connection writes (`register(sensor:)`).
    public internal(set) var sensorName: String? = nil

    /// Opens (creating with mode 0640 when missing) and migrates the store.
    public init(path: String) throws(StoreError) {
        self.path = path
        if access(path, F_OK) != 0 {
            let fd = open(path, O_CREAT | O_WRONLY | O_EXCL, 0o640)
            if fd < 0 { throw StoreError("\(path): cannot create the store: \(String(cString: strerror(errno)))") }
            close(fd)
        }
        var config = Configuration()
        config.foreignKeysEnabled = true
        config.busyMode = .timeout(5)
        // Reads map the file instead of copying each page through read(2): the console's
        // queue reads the incidents table many times a second.
        config.prepareDatabase { db in try db.execute(sql: "PRAGMA mmap_size = 268435456") }
        do {
            pool = try DatabasePool(path: path, configuration: config)
            try Schema.migrator.migrate(pool)
        } catch {
            throw StoreError("\(path): \(IncidentStore.describe(error))")
        }
    }

    static func describe(_ error: any Error) -> String {
        if let e = error as? DatabaseError { return e.message ?? "\(e.resultCode)" }
        return "\(error)"
    }

    func write<T>(_ body: (Database) throws -> T) throws(StoreError) -> T {
        do {
            return try pool.write(body)
        } catch let error as StoreError {
            throw error
        } catch {
            throw StoreError("\(path): \(IncidentStore.describe(error))")
        }
    }

    func read<T>(_ body: (Database) throws -> T) throws(StoreError) -> T {
        do {
            return try pool.read(body)
        } catch let error as StoreError {
            throw error
        } catch {
            throw StoreError("\(path): \(IncidentStore.describe(error))")
        }
    }

    /// The migrations applied, oldest first.
    public func appliedMigrations() throws(StoreError) -> [String] {
        try read { db in try Schema.migrator.appliedMigrations(db) }
    }

    // MARK: Sensor side

    /// Records the configured constituents (replacing what was there).
    public func saveConstituents(_ constituents: [ConstituentInfo]) throws(StoreError) {
        try write { db in
            try db.execute(sql: "DELETE FROM constituents")
            for c in constituents {
                try db.execute(sql: "INSERT INTO constituents(name, type, patient_care, networks) VALUES (?, ?, ?, ?)",
                               arguments: [c.name, c.type, c.patientCare, JSONText.array(c.networks.map(\.description))])
            }
        }
    }

    /// Writes one batch in one transaction: all of it or, when a row cannot be written,
    /// none of it (the batches committed before stay). The error names that row.
    public func commit(_ batch: CorrelationBatch, actor: String) throws(StoreError) {
        guard !batch.isEmpty else { return }
        try write { db in
            /// Runs one row's statement; a failure names the row (and the batch's size).
            func row(_ what: @autoclosure () -> String, _ body: () throws -> Void) throws {
                do {
                    try body()
                } catch {
                    throw StoreError("\(self.path): cannot write \(what()): \(IncidentStore.describe(error)); "
                        + "the batch of \(batch.alerts.count) alerts, \(batch.events.count) events and \(batch.incidents.count) incidents "
                        + "was rolled back, earlier batches are kept")
                }
            }
            let event = try db.cachedStatement(sql: """
                INSERT INTO events(id, src_ip, dest_ip, gid, sid, signature, classtype, severity, origin, first_seen, last_seen, alert_count)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                ON CONFLICT(id) DO UPDATE SET last_seen = excluded.last_seen, alert_count = excluded.alert_count, severity = excluded.severity
                """)
            for e in batch.events {
                try row("event \(e.id)") { try event.execute(arguments: [e.id, e.source.description, e.destination.description, Int64(e.gid), Int64(e.sid), e.signature,
                                              e.classtype, e.severity, e.origin, e.firstSeen, e.lastSeen, e.alertCount]) }
            }
            let alert = try db.cachedStatement(sql: """
                INSERT INTO alerts(id, event_id, timestamp, gid, sid, rev, signature, classtype, category, severity, origin, origin_name,
                                   src_ip, src_port, dest_ip, dest_port, proto, app_proto, segment, action, metadata, sensor)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """)
            let evidence = try db.cachedStatement(sql: "INSERT INTO evidence(alert_id, capture_file, pcap_cnt, flow_id, excerpt) VALUES (?, ?, ?, ?, ?)")
            for stored in batch.alerts {
                let a = stored.alert
                var originName: String? = nil
                switch a.origin {
                case .signature: break
                case .indicator(let source): originName = source
                case .detector(let name): originName = name
                }
                try row("alert \(stored.id) (event \(stored.eventID))") { try alert.execute(arguments: [stored.id, stored.eventID, a.timestamp, Int64(a.gid), Int64(a.sid), Int64(a.rev), a.signature,
                                              a.classtype, a.category, a.severity, a.origin.kind, originName, a.source.description,
                                              Int(a.sourcePort), a.destination.description, Int(a.destinationPort), Int(a.ipProto), a.appProto,
                                              Int(a.segment), a.blocked ? "blocked" : "allowed", JSONText.metadata(a.metadata), sensorName]) }
                var sealed: Data? = nil
                if let excerpt = a.excerpt, !excerpt.isEmpty, let key = evidenceKey {
                    sealed = Data(try key.seal(excerpt))
                }
                try row("the evidence of alert \(stored.id)") {
                    try evidence.execute(arguments: [stored.id, stored.captureFile, a.packetNumber.map { Int64($0) },
                                                     a.flowID.map { Int64(bitPattern: $0) }, sealed])
                }
            }
            let incident = try db.cachedStatement(sql: """
                INSERT INTO incidents(id, rule_id, group_key, title, taxonomy, type, status, sources, targets, segments, constituents,
                                      first_seen, last_seen, alert_count, event_count, severity, priority, priority_reason, score,
                                      patient_care, reportable, report_deadline, related)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                ON CONFLICT(id) DO UPDATE SET sources = excluded.sources, targets = excluded.targets, segments = excluded.segments,
                    constituents = excluded.constituents, first_seen = excluded.first_seen, last_seen = excluded.last_seen,
                    alert_count = excluded.alert_count, event_count = excluded.event_count, severity = excluded.severity,
                    priority = min(priority, excluded.priority),
                    priority_reason = CASE WHEN excluded.priority < priority THEN excluded.priority_reason ELSE priority_reason END,
                    score = max(score, excluded.score), patient_care = excluded.patient_care,
                    reportable = max(reportable, excluded.reportable), report_deadline = coalesce(report_deadline, excluded.report_deadline),
                    related = excluded.related
                """)
            let priorityBefore = try db.cachedStatement(sql: "SELECT priority FROM incidents WHERE id = ?")
            let audit = try db.cachedStatement(sql: "INSERT INTO audit(incident_id, at, actor, action, from_status, to_status, note) VALUES (?, ?, ?, ?, ?, ?, ?)")
            let opened = Set(batch.opened)
            for i in batch.incidents {
                let before = try Int.fetchOne(priorityBefore, arguments: [i.id])
                try row("incident \(i.id)") { try incident.execute(arguments: [i.id, i.ruleID, i.groupKey, i.title, i.taxonomy, i.type, i.status.rawValue,
                                                 JSONText.array(i.sources), JSONText.array(i.targets), JSONText.array(i.segments),
                                                 JSONText.array(i.constituents), i.firstSeen, i.lastSeen, i.alertCount, i.eventCount,
                                                 i.severity, i.priority, i.priorityReason, i.score, i.patientCare, i.reportable,
                                                 i.reportDeadline, JSONText.array(i.related.map(String.init))]) }
                if opened.contains(i.id) {
                    try row("the audit entry opening incident \(i.id)") {
                        try audit.execute(arguments: [i.id, i.firstSeen, actor, "opened", nil, IncidentStatus.new.rawValue,
                                                      "\(i.priorityName): \(i.priorityReason)"])
                    }
                } else if let before, i.priority < before {
                    try row("the audit entry raising incident \(i.id)") {
                        try audit.execute(arguments: [i.id, i.lastSeen, actor, "priority", nil, nil,
                                                      "P\(before) -> \(i.priorityName): \(i.priorityReason)"])
                    }
                }
            }
            let link = try db.cachedStatement(sql: "INSERT OR IGNORE INTO incident_events(incident_id, event_id) VALUES (?, ?)")
            for (incidentID, eventID) in batch.links {
                try row("the link of incident \(incidentID) to event \(eventID)") { try link.execute(arguments: [incidentID, eventID]) }
            }
            if let sensorName, let last = batch.alerts.map(\.alert.timestamp).max() {
                try row("the alert count of sensor \(sensorName)") {
                    try db.execute(sql: "UPDATE sensors SET alerts = alerts + ?, last_alert = max(coalesce(last_alert, 0), ?) WHERE name = ?",
                                   arguments: [batch.alerts.count, last, sensorName])
                }
            }
        }
    }

    /// What a correlator needs to continue: next identifiers, open incidents with their
    /// events, and closed ones (to link a new incident of the same rule and group).
    public func resumeState() throws(StoreError) -> (alert: Int64, event: Int64, incident: Int64, open: [(Incident, Set<Int64>)], closed: [Incident]) {
        try read { db in
            let a = try Int64.fetchOne(db, sql: "SELECT coalesce(max(id), 0) + 1 FROM alerts") ?? 1
            let e = try Int64.fetchOne(db, sql: "SELECT coalesce(max(id), 0) + 1 FROM events") ?? 1
            let i = try Int64.fetchOne(db, sql: "SELECT coalesce(max(id), 0) + 1 FROM incidents") ?? 1
            let all = try Row.fetchAll(db, sql: "SELECT * FROM incidents ORDER BY id").map(IncidentStore.incident)
            var open: [(Incident, Set<Int64>)] = []
            var closed: [Incident] = []
            for incident in all {
                if incident.status.isOpen {
                    let events = try Int64.fetchSet(db, sql: "SELECT event_id FROM incident_events WHERE incident_id = ?", arguments: [incident.id])
                    open.append((incident, events))
                } else {
                    closed.append(incident)
                }
            }
            return (a, e, i, open, closed)
        }
    }

    // MARK: Analyst side

    /// Which incidents: every field narrows (empty or nil: any). The CLI's `incidents list`,
    /// the console's queue and the API read through it.
    public struct Filter: Sendable, Equatable {
        public var status: [IncidentStatus] = []
        /// This priority or more urgent (1..4).
        public var priority: Int? = nil
        public var since: Int64? = nil
        /// RSIT class: the taxonomy (`intrusion-attempts`) or `taxonomy/type`.
        public var classification: String? = nil
        public var constituent: String? = nil
        public var segment: String? = nil
        /// An analyst's name; `-` for unassigned.
        public var assignee: String? = nil
        /// Words in the title, a source or a target address (case-insensitive).
        public var text: String? = nil
        public var limit: Int? = nil
        public var offset: Int = 0
        public init() {}
    }

    func whereClause(_ filter: Filter, withStatus: Bool = true) -> (String, StatementArguments) {
        var clauses: [String] = []
        var arguments: [any DatabaseValueConvertible] = []
        if withStatus, !filter.status.isEmpty {
            clauses.append("status IN (" + filter.status.map { _ in "?" }.joined(separator: ", ") + ")")
            arguments += filter.status.map(\.rawValue)
        }
        if let p = filter.priority {
            clauses.append("priority <= ?")
            arguments.append(p)
        }
        if let since = filter.since {
            clauses.append("last_seen >= ?")
            arguments.append(since)
        }
        if let c = filter.classification, !c.isEmpty {
            if c.contains("/") {
                clauses.append("taxonomy || '/' || type = ?")
            } else {
                clauses.append("taxonomy = ?")
            }
            arguments.append(c)
        }
        // JSON arrays of quoted names: a name matches as a whole element.
        if let c = filter.constituent, !c.isEmpty {
            clauses.append("instr(constituents, ?) > 0")
            arguments.append(JSONText.quote(c))
        }
        if let g = filter.segment, !g.isEmpty {
            clauses.append("instr(segments, ?) > 0")
            arguments.append(JSONText.quote(g))
        }
        if let a = filter.assignee, !a.isEmpty {
            if a == "-" { clauses.append("assignee IS NULL") } else {
                clauses.append("assignee = ?")
                arguments.append(a)
            }
        }
        if let t = filter.text?.trimmingCharacters(in: .whitespaces), !t.isEmpty {
            for word in t.split(separator: " ") {
                clauses.append("(instr(lower(title), ?) > 0 OR instr(sources, ?) > 0 OR instr(targets, ?) > 0)")
                let w = word.lowercased()
                arguments += [w, String(word), String(word)]
            }
        }
        let sql = clauses.isEmpty ? "" : " WHERE " + clauses.joined(separator: " AND ")
        return (sql, StatementArguments(arguments) ?? StatementArguments())
    }

    /// Incidents, most urgent first, then most recent (a page of them with `limit`/`offset`).
    public func incidents(_ filter: Filter = Filter()) throws(StoreError) -> [Incident] {
        var (clause, args) = whereClause(filter)
        var sql = "SELECT * FROM incidents" + clause + " ORDER BY priority ASC, last_seen DESC, id ASC"
        if let limit = filter.limit {
            sql += " LIMIT ? OFFSET ?"
            args += [limit, filter.offset]
        }
        let query = sql
        let arguments = args
        return try read { db in try Row.fetchAll(db, sql: query, arguments: arguments).map(IncidentStore.incident) }
    }

    /// How many incidents the filter selects (ignoring its page).
    public func count(_ filter: Filter) throws(StoreError) -> Int {
        let (clause, args) = whereClause(filter)
        return try read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM incidents" + clause, arguments: args) ?? 0 }
    }

    /// Open, reportable incidents not yet reported among those the filter's other fields
    /// select, and how many of them are past their deadline at `now` (the queue's banner).
    public func unreported(_ filter: Filter, now: Int64) throws(StoreError) -> (count: Int, overdue: Int) {
        var open = filter
        open.status = IncidentStatus.allCases.filter(\.isOpen)
        let (clause, whereArguments) = whereClause(open)
        let sql = "SELECT count(*) AS n, COALESCE(sum(COALESCE(report_deadline, first_seen) < ?), 0) AS late FROM incidents" + clause
            + (clause.isEmpty ? " WHERE " : " AND ") + "reportable = 1 AND reported_at IS NULL"
        var arguments: StatementArguments = [now]
        arguments += whereArguments
        let all = arguments
        return try read { db in
            guard let row = try Row.fetchOne(db, sql: sql, arguments: all) else { return (0, 0) }
            return (row["n"], row["late"])
        }
    }

    /// Refreshes the query planner's statistics of the incident tables (an approximate
    /// `ANALYZE`, a few milliseconds): whether the queue walks its priority order or the status
    /// index depends on how many incidents each status holds. The console runs it on its first
    /// queue request and then every ten minutes.
    public func refreshStatistics() throws(StoreError) {
        try write { db in
            try db.execute(sql: "PRAGMA analysis_limit = 1000")
            try db.execute(sql: "ANALYZE incidents")
            try db.execute(sql: "ANALYZE incident_events")
        }
    }

    /// Incidents per status for the filter's other fields (the queue's status tabs).
    public func countsByStatus(_ filter: Filter) throws(StoreError) -> [IncidentStatus: Int] {
        let (clause, args) = whereClause(filter, withStatus: false)
        return try read { db in
            var result: [IncidentStatus: Int] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT status, count(*) AS n FROM incidents" + clause + " GROUP BY status", arguments: args) {
                if let s = IncidentStatus(rawValue: row["status"]) { result[s] = row["n"] }
            }
            return result
        }
    }

    public func incident(_ id: Int64) throws(StoreError) -> Incident? {
        try read { db in try Row.fetchOne(db, sql: "SELECT * FROM incidents WHERE id = ?", arguments: [id]).map(IncidentStore.incident) }
    }

    static func incident(_ row: Row) -> Incident {
        var i = Incident(id: row["id"], ruleID: row["rule_id"], groupKey: row["group_key"], title: row["title"], taxonomy: row["taxonomy"],
                         type: row["type"], firstSeen: row["first_seen"], lastSeen: row["last_seen"], severity: row["severity"])
        i.status = IncidentStatus(rawValue: row["status"]) ?? .new
        i.assignee = row["assignee"]
        i.sources = JSONText.parseArray(row["sources"])
        i.targets = JSONText.parseArray(row["targets"])
        i.segments = JSONText.parseArray(row["segments"])
        i.constituents = JSONText.parseArray(row["constituents"])
        i.alertCount = row["alert_count"]
        i.eventCount = row["event_count"]
        i.priority = row["priority"]
        i.priorityReason = row["priority_reason"]
        i.score = row["score"]
        i.patientCare = row["patient_care"]
        i.reportable = row["reportable"]
        i.reportDeadline = row["report_deadline"]
        i.reportedAt = row["reported_at"]
        i.related = JSONText.parseArray(row["related"]).compactMap { Int64($0) }
        return i
    }

    public struct EventRow: Sendable {
        public var event: SecurityEvent
    }

    public func events(incident id: Int64) throws(StoreError) -> [SecurityEvent] {
        try read { db in
            try Row.fetchAll(db, sql: """
                SELECT e.* FROM events e JOIN incident_events l ON l.event_id = e.id WHERE l.incident_id = ? ORDER BY e.first_seen, e.id
                """, arguments: [id]).map { row in
                SecurityEvent(id: row["id"], source: IPAddress(row["src_ip"] as String) ?? .zero, destination: IPAddress(row["dest_ip"] as String) ?? .zero,
                              gid: UInt32(row["gid"] as Int64), sid: UInt32(row["sid"] as Int64), signature: row["signature"],
                              classtype: row["classtype"], severity: row["severity"], origin: row["origin"], firstSeen: row["first_seen"],
                              lastSeen: row["last_seen"], alertCount: row["alert_count"])
            }
        }
    }

    /// An alert as stored, with its evidence.
    public struct StoredAlert: Sendable {
        public var id: Int64
        public var eventID: Int64
        public var timestamp: Int64
        public var sid: Int64
        public var signature: String
        public var severity: Int
        public var origin: String
        public var source: String
        public var sourcePort: Int
        public var destination: String
        public var destinationPort: Int
        public var proto: Int
        public var appProto: String?
        public var metadata: String
        public var captureFile: String?
        public var packetNumber: Int64?
        public var flowID: Int64?
        public var excerpt: [UInt8]?
        public var gid: Int64 = 1
        public var rev: Int64 = 0
        public var classtype: String = ""
        public var category: String = ""
        public var action: String = "allowed"
        /// The segment index the alert was seen on (the configuration's `segments`).
        public var segment: Int? = nil
        /// The sensor that wrote it (nil before schema v2).
        public var sensor: String? = nil
    }

    /// The alerts of an incident's events, oldest first (at most `limit`).
    public func alerts(incident id: Int64, limit: Int = 1000) throws(StoreError) -> [StoredAlert] {
        try read { db in
            try Row.fetchAll(db, sql: """
                SELECT a.*, v.capture_file, v.pcap_cnt, v.flow_id, v.excerpt FROM alerts a
                JOIN incident_events l ON l.event_id = a.event_id LEFT JOIN evidence v ON v.alert_id = a.id
                WHERE l.incident_id = ? ORDER BY a.timestamp, a.id LIMIT ?
                """, arguments: [id, limit]).map { row in
                StoredAlert(id: row["id"], eventID: row["event_id"], timestamp: row["timestamp"], sid: row["sid"], signature: row["signature"],
                            severity: row["severity"], origin: row["origin"], source: row["src_ip"], sourcePort: row["src_port"],
                            destination: row["dest_ip"], destinationPort: row["dest_port"], proto: row["proto"], appProto: row["app_proto"],
                            metadata: row["metadata"], captureFile: row["capture_file"], packetNumber: row["pcap_cnt"], flowID: row["flow_id"],
                            excerpt: (row["excerpt"] as Data?).map { [UInt8]($0) }, gid: row["gid"], rev: row["rev"], classtype: row["classtype"],
                            category: row["category"], action: row["action"], segment: (row["segment"] as String?).flatMap { Int($0) }, sensor: row["sensor"])
            }
        }
    }

    public struct AuditEntry: Sendable {
        public var at: Int64
        public var actor: String
        public var action: String
        public var from: String?
        public var to: String?
        public var note: String?
    }

    public func audit(incident id: Int64) throws(StoreError) -> [AuditEntry] {
        try read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM audit WHERE incident_id = ? ORDER BY id", arguments: [id]).map { row in
                AuditEntry(at: row["at"], actor: row["actor"], action: row["action"], from: row["from_status"], to: row["to_status"], note: row["note"])
            }
        }
    }

    /// An analyst's change: status (checked against the allowed transitions), assignee,
    /// note, reported. Every change is one audit entry.
    public func update(_ id: Int64, status: IncidentStatus?, assignee: String?, note: String?, reported: Bool = false, actor: String,
                       at time: Int64) throws(StoreError) -> Incident {
        try write { db in
            guard let row = try Row.fetchOne(db, sql: "SELECT * FROM incidents WHERE id = ?", arguments: [id]) else {
                throw StoreError("incident \(id) not found in \(path)")
            }
            let current = IncidentStore.incident(row)
            if let status {
                try current.status.checkMove(to: status, incident: id)
                try db.execute(sql: "UPDATE incidents SET status = ? WHERE id = ?", arguments: [status.rawValue, id])
                try db.execute(sql: "INSERT INTO audit(incident_id, at, actor, action, from_status, to_status, note) VALUES (?, ?, ?, 'status', ?, ?, ?)",
                               arguments: [id, time, actor, current.status.rawValue, status.rawValue, note])
            }
            if let assignee {
                try db.execute(sql: "UPDATE incidents SET assignee = ? WHERE id = ?", arguments: [assignee, id])
                try db.execute(sql: "INSERT INTO audit(incident_id, at, actor, action, note) VALUES (?, ?, ?, 'assign', ?)",
                               arguments: [id, time, actor, "assigned to \(assignee)"])
            }
            if reported {
                guard current.reportedAt == nil else { throw StoreError("incident \(id) was already marked reported") }
                try db.execute(sql: "UPDATE incidents SET reported_at = ? WHERE id = ?", arguments: [time, id])
                try db.execute(sql: "INSERT INTO audit(incident_id, at, actor, action, note) VALUES (?, ?, ?, 'reported', ?)",
                               arguments: [id, time, actor, note])
            }
            if status == nil, !reported, let note {
                try db.execute(sql: "INSERT INTO audit(incident_id, at, actor, action, note) VALUES (?, ?, ?, 'note', ?)",
                               arguments: [id, time, actor, note])
            }
            return IncidentStore.incident(try Row.fetchOne(db, sql: "SELECT * FROM incidents WHERE id = ?", arguments: [id])!)
        }
    }

    // MARK: Retention

    public struct PurgeResult: Sendable {
        public var alerts = 0
        public var events = 0
        public var incidents = 0
        public init(alerts: Int = 0, events: Int = 0, incidents: Int = 0) {
            self.alerts = alerts
            self.events = events
            self.incidents = incidents
        }
    }

    /// Removes alerts (with their evidence) older than `cutoff` unless they belong to an open
    /// incident, closed incidents (closed, false positive, duplicate) last seen before it,
    /// and the events left without alerts or incidents. Open incidents are never removed.
    public func purge(before cutoff: Int64) throws(StoreError) -> PurgeResult {
        try write { db in
            var result = PurgeResult()
            try db.execute(sql: """
                DELETE FROM incidents WHERE status IN ('closed', 'false-positive', 'duplicate') AND last_seen < ?
                """, arguments: [cutoff])
            result.incidents = db.changesCount
            try db.execute(sql: """
                DELETE FROM alerts WHERE timestamp < ? AND event_id NOT IN (
                    SELECT l.event_id FROM incident_events l JOIN incidents i ON i.id = l.incident_id
                    WHERE i.status NOT IN ('closed', 'false-positive', 'duplicate'))
                """, arguments: [cutoff])
            result.alerts = db.changesCount
            try db.execute(sql: """
                DELETE FROM events WHERE last_seen < ? AND id NOT IN (SELECT event_id FROM alerts)
                    AND id NOT IN (SELECT event_id FROM incident_events)
                """, arguments: [cutoff])
            result.events = db.changesCount
            return result
        }
    }

    public struct Stats: Sendable {
        public var alerts = 0
        public var events = 0
        public var incidents = 0
        public var byStatus: [(String, Int)] = []
        public var byPriority: [(String, Int)] = []
        public var oldestAlert: Int64? = nil
        public var newestAlert: Int64? = nil
        public var bytes: Int64 = 0
        public var schema: [String] = []
    }

    public func stats() throws(StoreError) -> Stats {
        try read { db in
            var s = Stats()
            s.alerts = try Int.fetchOne(db, sql: "SELECT count(*) FROM alerts") ?? 0
            s.events = try Int.fetchOne(db, sql: "SELECT count(*) FROM events") ?? 0
            s.incidents = try Int.fetchOne(db, sql: "SELECT count(*) FROM incidents") ?? 0
            s.byStatus = try Row.fetchAll(db, sql: "SELECT status, count(*) AS n FROM incidents GROUP BY status ORDER BY status").map { ($0["status"], $0["n"]) }
            s.byPriority = try Row.fetchAll(db, sql: "SELECT priority, count(*) AS n FROM incidents GROUP BY priority ORDER BY priority").map { ("P\($0["priority"] as Int)", $0["n"]) }
            s.oldestAlert = try Int64.fetchOne(db, sql: "SELECT min(timestamp) FROM alerts")
            s.newestAlert = try Int64.fetchOne(db, sql: "SELECT max(timestamp) FROM alerts")
            let pages = try Int64.fetchOne(db, sql: "PRAGMA page_count") ?? 0
            let size = try Int64.fetchOne(db, sql: "PRAGMA page_size") ?? 0
            s.bytes = pages * size
            s.schema = try Schema.migrator.appliedMigrations(db)
            return s
        }
    }

    /// `PRAGMA integrity_check`: "ok" when sound.
    public func integrityCheck() throws(StoreError) -> String {
        try read { db in try String.fetchAll(db, sql: "PRAGMA integrity_check").joined(separator: "; ") }
    }
}

/// JSON text columns: arrays of strings and alert metadata.
public enum JSONText {
    public static func array(_ values: [String]) -> String {
        var out = "["
        for (i, v) in values.enumerated() {
            if i > 0 { out += "," }
            out += quote(v)
        }
        return out + "]"
    }

    public static func metadata(_ m: [(String, [String])]) -> String {
        "{" + m.map { quote($0.0) + ":" + array($0.1) }.joined(separator: ",") + "}"
    }

    public static func quote(_ s: String) -> String {
        var out = "\""
        for u in s.unicodeScalars {
            switch u {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if u.value < 0x20 { out += String(format: "\\u%04x", u.value) } else { out.unicodeScalars.append(u) }
            }
        }
        return out + "\""
    }

    public static func parseArray(_ text: String?) -> [String] {
        guard let text, let data = text.data(using: .utf8),
              let array = try? JSONSerialization.jsonObject(with: data) as? [Any] else { return [] }
        return array.map { "\($0)" }
    }
}

extension IncidentStore.Filter {
    /// `open` (every open phase), or statuses separated by commas; nil when one is unknown.
    public static func statuses(_ text: String) -> [IncidentStatus]? {
        var result: [IncidentStatus] = []
        for part in text.split(separator: ",") {
            let p = part.trimmingCharacters(in: .whitespaces)
            if p == "open" { result += IncidentStatus.allCases.filter(\.isOpen); continue }
            guard let s = IncidentStatus(rawValue: p) else { return nil }
            if !result.contains(s) { result.append(s) }
        }
        return result.isEmpty ? nil : result
    }

    /// `P1`..`P4` (or `p2`) as 1..4.
    public static func priority(_ text: String) -> Int? {
        guard text.count == 2, text.uppercased().first == "P", let n = Int(text.dropFirst()), (1...4).contains(n) else { return nil }
        return n
    }

    /// `2026-11-02` or `2026-11-02T08:00:00` (UTC) in nanoseconds.
    public static func time(_ text: String) -> Int64? {
        let parts = text.split(separator: "T", omittingEmptySubsequences: false)
        guard parts.count <= 2 else { return nil }
        let date = parts[0].split(separator: "-", omittingEmptySubsequences: false).map { Int($0) }
        guard date.count == 3, let y = date[0], let m = date[1], let d = date[2], (1970...9999).contains(y), (1...12).contains(m), (1...31).contains(d) else { return nil }
        var seconds = 0
        if parts.count == 2 {
            let clock = parts[1].split(separator: ":", omittingEmptySubsequences: false).map { Int($0) }
            guard clock.count == 3, let h = clock[0], let mi = clock[1], let s = clock[2], (0...23).contains(h), (0...59).contains(mi), (0...60).contains(s) else { return nil }
            seconds = h * 3600 + mi * 60 + s
        }
        // Days from the civil date (Howard Hinnant's algorithm).
        let yy = m <= 2 ? y - 1 : y
        let era = yy / 400
        let yoe = yy - era * 400
        let doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        let days = era * 146_097 + doe - 719_468
        return Int64(days * 86_400 + seconds) * 1_000_000_000
    }
}

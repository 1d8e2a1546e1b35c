import Foundation
import HNCorrelate
import HNDecode
import HNStore
import PostgresNIO

/// The central CSIRT store in PostgreSQL: what many sensors write and one correlator turns
/// into events and incidents, and what the analysts' CLI and console read. Holds a few
/// connections, each used by one thread at a time.
public final class PostgresStore: CSIRTStore, @unchecked Sendable {
    public let url: StoreURL
    private let lock = NSLock()
    private var idle: [PGLink] = []

    /// Connects and applies the migrations not yet applied.
    /// How long one statement may go unanswered before its connection is given up.
    let statementTimeout: Int64

    public init(url: StoreURL, timeout: Int64 = 10, statementTimeout: Int64 = 60) throws(StoreError) {
        self.url = url
        self.statementTimeout = statementTimeout
        let link = try PGLink.connect(url, timeout: timeout, statementTimeout: statementTimeout)
        do {
            try PGSchema.migrate(link)
        } catch {
            link.close()
            throw error
        }
        idle.append(link)
    }

    deinit {
        for link in idle { link.close() }
    }

    public var location: String { url.description }
    /// A central store has no file to sit beside: the key's default place on every host.
    public var defaultKeyPath: String { "/var/lib/hnsensor/evidence.key" }

    /// Runs `body` on a connection of the store's (a new one when all are busy); a
    /// connection that broke is closed rather than kept.
    func withLink<T>(_ body: (PGLink) throws(StoreError) -> T) throws(StoreError) -> T {
        lock.lock()
        var link = idle.popLast()
        lock.unlock()
        if link == nil || link!.isClosed { link = try PGLink.connect(url, statementTimeout: statementTimeout) }
        let l = link!
        do {
            let value = try body(l)
            lock.lock()
            if !l.isClosed, idle.count < 8 { idle.append(l) } else { l.close() }
            lock.unlock()
            return value
        } catch {
            if l.isClosed { l.close() } else {
                lock.lock()
                idle.append(l)
                lock.unlock()
            }
            throw error
        }
    }

    public func appliedMigrations() throws(StoreError) -> [String] {
        try withLink { l throws(StoreError) in try PGSchema.applied(l) }
    }

    // MARK: Sensors

    /// Records the configured constituents (replacing what was there).
    public func saveConstituents(_ constituents: [ConstituentInfo]) throws(StoreError) {
        try withLink { l throws(StoreError) in
            try l.transaction { () throws(StoreError) in
                try l.execute("DELETE FROM constituents")
                for c in constituents {
                    try l.execute("INSERT INTO constituents(name, type, patient_care, networks) VALUES ($1, $2, $3, $4)",
                                  [.text(c.name), .text(c.type), .bool(c.patientCare), .text(JSONText.array(c.networks.map(\.description)))])
                }
            }
        }
    }

    /// Records a sensor's start (replacing its previous one).
    public func register(sensor: IncidentStore.SensorRecord) throws(StoreError) {
        try withLink { l throws(StoreError) in
            try l.execute("""
                INSERT INTO sensors(name, version, started_at, rules, indicators, correlation_rules) VALUES ($1, $2, $3, $4, $5, $6)
                ON CONFLICT (name) DO UPDATE SET version = excluded.version, started_at = excluded.started_at, rules = excluded.rules,
                    indicators = excluded.indicators, correlation_rules = excluded.correlation_rules
                """, [.text(sensor.name), .text(sensor.version), .int(sensor.startedAt), .int(sensor.rules), .int(sensor.indicators),
                      .int(sensor.correlationRules)])
        }
    }

    /// Partitions known to exist, by day start.
    private var partitions: Set<Int64> = []

    /// Creates the day partitions `timestamps` fall in that do not exist yet.
    func ensurePartitions(_ timestamps: some Sequence<Int64>, _ l: PGLink) throws(StoreError) {
        var days = Set(timestamps.map(PGSchema.dayStart))
        lock.lock()
        days.subtract(partitions)
        lock.unlock()
        guard !days.isEmpty else { return }
        // Concurrent CREATE TABLE … PARTITION OF from two sensors can collide even with IF NOT
        // EXISTS: one lock for all creators.
        try l.transaction { () throws(StoreError) in
            try l.execute("SELECT pg_advisory_xact_lock($1)", [.int(PGSchema.partitionLock)])
            for start in days.sorted() {
                try l.execute("CREATE TABLE IF NOT EXISTS \(PGSchema.partitionName(day: start)) PARTITION OF alerts FOR VALUES FROM (\(start)) TO (\(start + PGSchema.day))")
            }
        }
        lock.lock()
        partitions.formUnion(days)
        lock.unlock()
    }

    /// Stores a batch of a sensor's alerts in one transaction, in order. Alerts already
    /// stored (same sensor, source, seq and time: a batch sent again after a timeout) are
    /// skipped. Returns how many were new. Wakes the correlator.
    @discardableResult
    public func insert(_ alerts: [CentralAlert]) throws(StoreError) -> Int {
        guard !alerts.isEmpty else { return 0 }
        return try withLink { l throws(StoreError) in
            try ensurePartitions(alerts.lazy.map(\.timestamp), l)
            return try l.transaction { () throws(StoreError) in
                // Held (shared) while ids are drawn and rows written: the correlator takes it
                // exclusively before it reads, so it never reads past an insert in flight.
                try l.execute("SELECT pg_advisory_xact_lock_shared($1)", [.int(PGSchema.insertBarrier)])
                let added = try l.execute(PostgresStore.insertAlerts, CentralAlert.columnArrays(alerts))
                // The latest alert time of each sensor in the batch.
                var latest: [String: Int64] = [:]
                for a in alerts { latest[a.sensor] = max(latest[a.sensor] ?? .min, a.timestamp) }
                if added > 0 {
                    for (name, last) in latest {
                        try l.execute("UPDATE sensors SET alerts = alerts + $1, last_alert = greatest(coalesce(last_alert, 0), $2) WHERE name = $3",
                                      [.int(added), .int(last), .text(name)])
                    }
                    try l.execute("NOTIFY hnsensor_alerts")
                }
                return added
            }
        }
    }

    /// One statement for a whole batch: a column array per parameter, unnested into rows
    /// (planned once, whatever the batch's size). Arrays hold no NULL: empty texts and bytes
    /// and `Int64.min` stand for it.
    static let insertAlerts: String = {
        let n = CentralAlert.columns.count
        let types = CentralAlert.columns.map { c -> String in
            switch c {
            case "seq", "timestamp", "gid", "sid", "rev", "severity", "src_port", "dest_port", "proto", "pcap_cnt", "flow_id": return "bigint"
            case "excerpt": return "bytea"
            default: return "text"
            }
        }
        let values = CentralAlert.columns.enumerated().map { i, c -> String in
            switch c {
            case "origin_name", "app_proto", "segment", "target", "capture_file": return "NULLIF(a\(i + 1), '')"
            case "pcap_cnt", "flow_id": return "NULLIF(a\(i + 1), (-9223372036854775807)::bigint - 1)"
            case "excerpt": return "NULLIF(a\(i + 1), ''::bytea)"
            default: return "a\(i + 1)"
            }
        }
        return "INSERT INTO alerts(" + CentralAlert.columns.joined(separator: ", ") + ") SELECT " + values.joined(separator: ", ")
            + " FROM unnest(" + (1...n).map { "$\($0)::\(types[$0 - 1])[]" }.joined(separator: ", ") + ") AS u("
            + (1...n).map { "a\($0)" }.joined(separator: ", ") + ") ON CONFLICT (sensor, source, seq, timestamp) DO NOTHING"
    }()

    // MARK: Incidents

    static func incident(_ row: PostgresRandomAccessRow) -> Incident {
        var i = Incident(id: row.int("id"), ruleID: row.text("rule_id"), groupKey: row.text("group_key"), title: row.text("title"),
                         taxonomy: row.text("taxonomy"), type: row.text("type"), firstSeen: row.int("first_seen"), lastSeen: row.int("last_seen"),
                         severity: Int(row.int("severity")))
        i.status = IncidentStatus(rawValue: row.text("status")) ?? .new
        i.assignee = row.optionalText("assignee")
        i.sources = JSONText.parseArray(row.text("sources"))
        i.targets = JSONText.parseArray(row.text("targets"))
        i.segments = JSONText.parseArray(row.text("segments"))
        i.constituents = JSONText.parseArray(row.text("constituents"))
        i.alertCount = Int(row.int("alert_count"))
        i.eventCount = Int(row.int("event_count"))
        i.priority = Int(row.int("priority"))
        i.priorityReason = row.text("priority_reason")
        i.score = Int(row.int("score"))
        i.patientCare = row.bool("patient_care")
        i.reportable = row.bool("reportable")
        i.reportDeadline = row.optionalInt("report_deadline")
        i.reportedAt = row.optionalInt("reported_at")
        i.related = JSONText.parseArray(row.text("related")).compactMap { Int64($0) }
        return i
    }

    /// The filter as a WHERE clause with `$n` parameters from `first`.
    static func whereClause(_ filter: IncidentStore.Filter, withStatus: Bool = true, first: Int = 1) -> (String, [PGValue]) {
        var clauses: [String] = []
        var values: [PGValue] = []
        func next(_ v: PGValue) -> String {
            values.append(v)
            return "$\(first + values.count - 1)"
        }
        if withStatus, !filter.status.isEmpty {
            clauses.append("status IN (" + filter.status.map { next(.text($0.rawValue)) }.joined(separator: ", ") + ")")
        }
        if let p = filter.priority { clauses.append("priority <= " + next(.int(p))) }
        if let since = filter.since { clauses.append("last_seen >= " + next(.int(since))) }
        if let c = filter.classification, !c.isEmpty {
            clauses.append((c.contains("/") ? "taxonomy || '/' || type = " : "taxonomy = ") + next(.text(c)))
        }
        // JSON arrays of quoted names: a name matches as a whole element.
        if let c = filter.constituent, !c.isEmpty { clauses.append("strpos(constituents, \(next(.text(JSONText.quote(c))))) > 0") }
        if let g = filter.segment, !g.isEmpty { clauses.append("strpos(segments, \(next(.text(JSONText.quote(g))))) > 0") }
        if let a = filter.assignee, !a.isEmpty {
            clauses.append(a == "-" ? "assignee IS NULL" : "assignee = " + next(.text(a)))
        }
        if let t = filter.text?.trimmingCharacters(in: .whitespaces), !t.isEmpty {
            for word in t.split(separator: " ") {
                let lower = next(.text(word.lowercased())), exact = next(.text(String(word)))
                clauses.append("(strpos(lower(title), \(lower)) > 0 OR strpos(sources, \(exact)) > 0 OR strpos(targets, \(exact)) > 0)")
            }
        }
        return (clauses.isEmpty ? "" : " WHERE " + clauses.joined(separator: " AND "), values)
    }

    public func incidents(_ filter: IncidentStore.Filter) throws(StoreError) -> [Incident] {
        var (clause, values) = PostgresStore.whereClause(filter)
        var sql = "SELECT * FROM incidents" + clause + " ORDER BY priority ASC, last_seen DESC, id ASC"
        if let limit = filter.limit {
            sql += " LIMIT $\(values.count + 1) OFFSET $\(values.count + 2)"
            values += [.int(limit), .int(filter.offset)]
        }
        let query = sql, binds = values
        return try withLink { l throws(StoreError) in try l.query(query, binds).map(PostgresStore.incident) }
    }

    public func count(_ filter: IncidentStore.Filter) throws(StoreError) -> Int {
        let (clause, values) = PostgresStore.whereClause(filter)
        return try withLink { l throws(StoreError) in Int(try l.query("SELECT count(*) AS n FROM incidents" + clause, values).first?.int("n") ?? 0) }
    }

    public func countsByStatus(_ filter: IncidentStore.Filter) throws(StoreError) -> [IncidentStatus: Int] {
        let (clause, values) = PostgresStore.whereClause(filter, withStatus: false)
        return try withLink { l throws(StoreError) in
            var result: [IncidentStatus: Int] = [:]
            for row in try l.query("SELECT status, count(*) AS n FROM incidents" + clause + " GROUP BY status", values) {
                if let s = IncidentStatus(rawValue: row.text("status")) { result[s] = Int(row.int("n")) }
            }
            return result
        }
    }

    public func unreported(_ filter: IncidentStore.Filter, now: Int64) throws(StoreError) -> (count: Int, overdue: Int) {
        var open = filter
        open.status = IncidentStatus.allCases.filter(\.isOpen)
        let (clause, values) = PostgresStore.whereClause(open, first: 2)
        let sql = "SELECT count(*) AS n, count(*) FILTER (WHERE coalesce(report_deadline, first_seen) < $1) AS late FROM incidents" + clause
            + (clause.isEmpty ? " WHERE " : " AND ") + "reportable AND reported_at IS NULL"
        return try withLink { l throws(StoreError) in
            guard let row = try l.query(sql, [.int(now)] + values).first else { return (0, 0) }
            return (Int(row.int("n")), Int(row.int("late")))
        }
    }

    public func incident(_ id: Int64) throws(StoreError) -> Incident? {
        try withLink { l throws(StoreError) in try l.query("SELECT * FROM incidents WHERE id = $1", [.int(id)]).first.map(PostgresStore.incident) }
    }

    public func events(incident id: Int64) throws(StoreError) -> [SecurityEvent] {
        try withLink { l throws(StoreError) in
            try l.query("""
                SELECT e.* FROM events e JOIN incident_events l ON l.event_id = e.id WHERE l.incident_id = $1 ORDER BY e.first_seen, e.id
                """, [.int(id)]).map(PostgresStore.event)
        }
    }

    static func event(_ row: PostgresRandomAccessRow) -> SecurityEvent {
        SecurityEvent(id: row.int("id"), source: IPAddress(row.text("src_ip")) ?? .zero, destination: IPAddress(row.text("dest_ip")) ?? .zero,
                      gid: UInt32(clamping: row.int("gid")), sid: UInt32(clamping: row.int("sid")), signature: row.text("signature"),
                      classtype: row.text("classtype"), severity: Int(row.int("severity")), origin: row.text("origin"),
                      firstSeen: row.int("first_seen"), lastSeen: row.int("last_seen"), alertCount: Int(row.int("alert_count")))
    }

    public func alerts(incident id: Int64, limit: Int) throws(StoreError) -> [IncidentStore.StoredAlert] {
        try withLink { l throws(StoreError) in
            try l.query("""
                SELECT a.*, ae.event_id FROM incident_events l JOIN alert_events ae ON ae.event_id = l.event_id
                JOIN alerts a ON a.id = ae.alert_id AND a.timestamp = ae.timestamp
                WHERE l.incident_id = $1 ORDER BY a.timestamp, a.id LIMIT $2
                """, [.int(id), .int(limit)]).map { row in
                IncidentStore.StoredAlert(id: row.int("id"), eventID: row.int("event_id"), timestamp: row.int("timestamp"), gid: row.int("gid"),
                                          sid: row.int("sid"), rev: row.int("rev"), signature: row.text("signature"), classtype: row.text("classtype"),
                                          category: row.text("category"), severity: Int(row.int("severity")), origin: row.text("origin"),
                                          source: row.text("src_ip"), sourcePort: Int(row.int("src_port")), destination: row.text("dest_ip"),
                                          destinationPort: Int(row.int("dest_port")), proto: Int(row.int("proto")), appProto: row.optionalText("app_proto"),
                                          action: row.text("action"), metadata: row.text("metadata"), captureFile: row.optionalText("capture_file"),
                                          packetNumber: row.optionalInt("pcap_cnt"), flowID: row.optionalInt("flow_id"), excerpt: row.bytes("excerpt"),
                                          sensor: row.text("sensor"))
            }
        }
    }

    public func audit(incident id: Int64) throws(StoreError) -> [IncidentStore.AuditEntry] {
        try withLink { l throws(StoreError) in
            try l.query("SELECT * FROM audit WHERE incident_id = $1 ORDER BY id", [.int(id)]).map { row in
                IncidentStore.AuditEntry(at: row.int("at"), actor: row.text("actor"), action: row.text("action"), fromStatus: row.optionalText("from_status"),
                                         toStatus: row.optionalText("to_status"), note: row.optionalText("note"))
            }
        }
    }

    public func update(_ id: Int64, status: IncidentStatus?, assignee: String?, note: String?, reported: Bool, actor: String,
                       at time: Int64) throws(StoreError) -> Incident {
        try withLink { l throws(StoreError) in
            try l.transaction { () throws(StoreError) in
                guard let row = try l.query("SELECT * FROM incidents WHERE id = $1 FOR UPDATE", [.int(id)]).first else {
                    throw StoreError("incident \(id) not found in \(location)")
                }
                let current = PostgresStore.incident(row)
                if let status {
                    try current.status.checkMove(to: status, incident: id)
                    try l.execute("UPDATE incidents SET status = $1 WHERE id = $2", [.text(status.rawValue), .int(id)])
                    try l.execute("INSERT INTO audit(incident_id, at, actor, action, from_status, to_status, note) VALUES ($1, $2, $3, 'status', $4, $5, $6)",
                                  [.int(id), .int(time), .text(actor), .text(current.status.rawValue), .text(status.rawValue), .text(note)])
                }
                if let assignee {
                    try l.execute("UPDATE incidents SET assignee = $1 WHERE id = $2", [.text(assignee), .int(id)])
                    try l.execute("INSERT INTO audit(incident_id, at, actor, action, note) VALUES ($1, $2, $3, 'assign', $4)",
                                  [.int(id), .int(time), .text(actor), .text("assigned to \(assignee)")])
                }
                if reported {
                    guard current.reportedAt == nil else { throw StoreError("incident \(id) was already marked reported") }
                    try l.execute("UPDATE incidents SET reported_at = $1 WHERE id = $2", [.int(time), .int(id)])
                    try l.execute("INSERT INTO audit(incident_id, at, actor, action, note) VALUES ($1, $2, $3, 'reported', $4)",
                                  [.int(id), .int(time), .text(actor), .text(note)])
                }
                if status == nil, !reported, let note {
                    try l.execute("INSERT INTO audit(incident_id, at, actor, action, note) VALUES ($1, $2, $3, 'note', $4)",
                                  [.int(id), .int(time), .text(actor), .text(note)])
                }
                return PostgresStore.incident(try l.query("SELECT * FROM incidents WHERE id = $1", [.int(id)])[0])
            }
        }
    }

    public func sensors(incident id: Int64) throws(StoreError) -> [String] {
        try sensors(incidents: [id])[id] ?? []
    }

    public func sensors(incidents ids: [Int64]) throws(StoreError) -> [Int64: [String]] {
        guard !ids.isEmpty else { return [:] }
        let list = ids.map(String.init).joined(separator: ",")
        return try withLink { l throws(StoreError) in
            var result: [Int64: [String]] = [:]
            for row in try l.query("""
                SELECT DISTINCT l.incident_id, a.sensor FROM incident_events l JOIN alert_events ae ON ae.event_id = l.event_id
                JOIN alerts a ON a.id = ae.alert_id AND a.timestamp = ae.timestamp
                WHERE l.incident_id IN (\(list)) ORDER BY l.incident_id, a.sensor
                """) {
                result[row.int("incident_id"), default: []].append(row.text("sensor"))
            }
            return result
        }
    }

    public func refreshStatistics() throws(StoreError) {
        try withLink { l throws(StoreError) in
            try l.execute("ANALYZE incidents")
            try l.execute("ANALYZE incident_events")
        }
    }

    public func sensors() throws(StoreError) -> [IncidentStore.SensorRecord] {
        try withLink { l throws(StoreError) in
            try l.query("SELECT * FROM sensors ORDER BY name").map { row in
                var s = IncidentStore.SensorRecord(name: row.text("name"), version: row.text("version"), startedAt: row.int("started_at"),
                                                   rules: Int(row.int("rules")), indicators: Int(row.int("indicators")),
                                                   correlationRules: Int(row.int("correlation_rules")))
                s.alerts = Int(row.int("alerts"))
                s.lastAlert = row.optionalInt("last_alert")
                return s
            }
        }
    }

    public func constituents() throws(StoreError) -> [ConstituentInfo] {
        try withLink { l throws(StoreError) in
            try l.query("SELECT * FROM constituents ORDER BY name").map { row in
                ConstituentInfo(name: row.text("name"), type: row.text("type"), networks: JSONText.parseArray(row.text("networks")).compactMap { CIDR($0) },
                                patientCare: row.bool("patient_care"))
            }
        }
    }

    // MARK: Accounts

    static func account(_ row: PostgresRandomAccessRow) -> IncidentStore.Account {
        IncidentStore.Account(name: row.text("name"), role: row.text("role"), passwordHash: row.text("password_hash"), disabled: row.bool("disabled"),
                              created: row.int("created_at"), changed: row.int("changed_at"))
    }

    public func accounts() throws(StoreError) -> [IncidentStore.Account] {
        try withLink { l throws(StoreError) in try l.query("SELECT * FROM accounts ORDER BY name").map(PostgresStore.account) }
    }

    public func account(_ name: String) throws(StoreError) -> IncidentStore.Account? {
        try withLink { l throws(StoreError) in try l.query("SELECT * FROM accounts WHERE name = $1", [.text(name)]).first.map(PostgresStore.account) }
    }

    public func addAccount(name: String, role: String, passwordHash: String, actor: String, at time: Int64) throws(StoreError) {
        try withLink { l throws(StoreError) in
            try l.transaction { () throws(StoreError) in
                let added = try l.execute("""
                    INSERT INTO accounts(name, role, password_hash, disabled, created_at, changed_at) VALUES ($1, $2, $3, false, $4, $4)
                    ON CONFLICT (name) DO NOTHING
                    """, [.text(name), .text(role), .text(passwordHash), .int(time)])
                guard added == 1 else { throw StoreError("account '\(name)' exists already in \(location)") }
                try l.execute("INSERT INTO account_audit(at, actor, action, account, note) VALUES ($1, $2, 'created', $3, $4)",
                              [.int(time), .text(actor), .text(name), .text("role \(role)")])
            }
        }
    }

    public func changeAccount(_ name: String, passwordHash: String?, role: String?, disabled: Bool?, actor: String, at time: Int64) throws(StoreError) {
        try withLink { l throws(StoreError) in
            try l.transaction { () throws(StoreError) in
                guard let row = try l.query("SELECT * FROM accounts WHERE name = $1 FOR UPDATE", [.text(name)]).first else {
                    throw StoreError("no account '\(name)' in \(location)")
                }
                let current = PostgresStore.account(row)
                if let passwordHash {
                    try l.execute("UPDATE accounts SET password_hash = $1, changed_at = $2 WHERE name = $3", [.text(passwordHash), .int(time), .text(name)])
                    try l.execute("INSERT INTO account_audit(at, actor, action, account) VALUES ($1, $2, 'password', $3)", [.int(time), .text(actor), .text(name)])
                }
                if let role, role != current.role {
                    try l.execute("UPDATE accounts SET role = $1, changed_at = $2 WHERE name = $3", [.text(role), .int(time), .text(name)])
                    try l.execute("INSERT INTO account_audit(at, actor, action, account, note) VALUES ($1, $2, 'role', $3, $4)",
                                  [.int(time), .text(actor), .text(name), .text("\(current.role) -> \(role)")])
                }
                if let disabled, disabled != current.disabled {
                    try l.execute("UPDATE accounts SET disabled = $1, changed_at = $2 WHERE name = $3", [.bool(disabled), .int(time), .text(name)])
                    try l.execute("INSERT INTO account_audit(at, actor, action, account) VALUES ($1, $2, $3, $4)",
                                  [.int(time), .text(actor), .text(disabled ? "disabled" : "enabled"), .text(name)])
                }
            }
        }
    }

    public func accountAudit(limit: Int) throws(StoreError) -> [IncidentStore.AccountAuditEntry] {
        try withLink { l throws(StoreError) in
            try l.query("SELECT * FROM account_audit ORDER BY id DESC LIMIT $1", [.int(limit)]).map { row in
                IncidentStore.AccountAuditEntry(at: row.int("at"), actor: row.text("actor"), action: row.text("action"), account: row.text("account"),
                                                remark: row.optionalText("note"))
            }
        }
    }

    // MARK: Upkeep

    public func stats() throws(StoreError) -> IncidentStore.Stats {
        try withLink { l throws(StoreError) in
            var s = IncidentStore.Stats(alerts: Int(try l.query("SELECT count(*) AS n FROM alerts")[0].int("n")),
                                        events: Int(try l.query("SELECT count(*) AS n FROM events")[0].int("n")),
                                        incidents: Int(try l.query("SELECT count(*) AS n FROM incidents")[0].int("n")))
            s.byStatus = try l.query("SELECT status, count(*) AS n FROM incidents GROUP BY status ORDER BY status").map { ($0.text("status"), Int($0.int("n"))) }
            s.byPriority = try l.query("SELECT priority, count(*) AS n FROM incidents GROUP BY priority ORDER BY priority").map {
                ("P\($0.int("priority"))", Int($0.int("n")))
            }
            let range = try l.query("SELECT min(timestamp) AS a, max(timestamp) AS b FROM alerts")[0]
            s.oldestAlert = range.optionalInt("a")
            s.newestAlert = range.optionalInt("b")
            s.bytes = try l.query("SELECT pg_database_size(current_database()) AS n")[0].int("n")
            s.schema = try PGSchema.applied(l)
            return s
        }
    }

    /// The alert partitions, oldest first: (name, first nanosecond of its day).
    func alertPartitions(_ l: PGLink) throws(StoreError) -> [(String, Int64)] {
        try l.query("""
            SELECT c.relname AS name FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
            JOIN pg_class p ON p.oid = i.inhparent WHERE p.relname = 'alerts' ORDER BY c.relname
            """).compactMap { row in
            let name = row.text("name")
            guard name.hasPrefix("alerts_"), let date = IncidentStore.Filter.time(String(name.dropFirst(7)).dashedDate) else { return nil }
            return (name, date)
        }
    }

    /// Retention: closed incidents last seen before `cutoff` go; whole days of alerts
    /// before it are dropped (a partition is dropped, not emptied row by row), except days
    /// that still hold alerts of an open incident, which stay until it closes; then the
    /// events left without alerts or incidents.
    public func purge(before cutoff: Int64) throws(StoreError) -> IncidentStore.PurgeResult {
        try withLink { l throws(StoreError) in
            var result = IncidentStore.PurgeResult(alerts: 0, events: 0, incidents: 0)
            result.incidents = try l.execute("""
                DELETE FROM incidents WHERE status IN ('closed', 'false-positive', 'duplicate') AND last_seen < $1
                """, [.int(cutoff)])
            for (name, start) in try alertPartitions(l) where start + PGSchema.day <= cutoff {
                let held = try l.query("""
                    SELECT 1 FROM \(name) a JOIN alert_events ae ON ae.alert_id = a.id JOIN incident_events ie ON ie.event_id = ae.event_id
                    JOIN incidents i ON i.id = ie.incident_id WHERE i.status NOT IN ('closed', 'false-positive', 'duplicate') LIMIT 1
                    """)
                guard held.isEmpty else { continue }
                try l.transaction { () throws(StoreError) in
                    result.alerts += Int(try l.query("SELECT count(*) AS n FROM \(name)")[0].int("n"))
                    try l.execute("DELETE FROM alert_events WHERE timestamp >= $1 AND timestamp < $2", [.int(start), .int(start + PGSchema.day)])
                    try l.execute("DROP TABLE \(name)")
                }
                lock.lock()
                partitions.remove(start)
                lock.unlock()
            }
            result.events = try l.execute("""
                DELETE FROM events e WHERE last_seen < $1 AND NOT EXISTS (SELECT 1 FROM alert_events ae WHERE ae.event_id = e.id)
                    AND NOT EXISTS (SELECT 1 FROM incident_events ie WHERE ie.event_id = e.id)
                """, [.int(cutoff)])
            return result
        }
    }

    /// PostgreSQL checks its own pages; this checks what the schema promises: every
    /// migration applied, and no alert assigned to an event that does not exist.
    public func integrityCheck() throws(StoreError) -> String {
        try withLink { l throws(StoreError) in
            let applied = try PGSchema.applied(l)
            guard applied == PGSchema.versions else { return "schema \(applied.joined(separator: ",")) (expected \(PGSchema.versions.joined(separator: ",")))" }
            let orphans = try l.query("""
                SELECT count(*) AS n FROM alert_events ae WHERE NOT EXISTS (SELECT 1 FROM events e WHERE e.id = ae.event_id)
                """)[0].int("n")
            return orphans == 0 ? "ok" : "\(orphans) alerts assigned to missing events"
        }
    }
}

extension String {
    /// `20261207` as `2026-12-07`.
    var dashedDate: String {
        guard count == 8 else { return self }
        let a = Array(self)
        return String(a[0..<4]) + "-" + String(a[4..<6]) + "-" + String(a[6..<8])
    }
}

import GRDB
import HNCorrelate
import HNDecode

/// What the analysts' tools (the CLI's `incidents` and `store` commands, the console) read and
/// change in a CSIRT store, whichever engine keeps it: the embedded SQLite store of one sensor
/// (`IncidentStore`) or the central PostgreSQL store many sensors write (`PostgresStore`).
/// Every call blocks its thread until the engine answers; the console calls it from its thread
/// pool, never from an event loop.
public protocol CSIRTStore: AnyObject, Sendable {
    /// Where the store is, for messages: a file path, or a URL without its password.
    var location: String { get }
    /// The file an evidence key sits beside by default (`store.key_file` overrides it).
    var defaultKeyPath: String { get }

    // Incidents
    func incidents(_ filter: IncidentStore.Filter) throws(StoreError) -> [Incident]
    func count(_ filter: IncidentStore.Filter) throws(StoreError) -> Int
    func countsByStatus(_ filter: IncidentStore.Filter) throws(StoreError) -> [IncidentStatus: Int]
    func unreported(_ filter: IncidentStore.Filter, now: Int64) throws(StoreError) -> (count: Int, overdue: Int)
    func incident(_ id: Int64) throws(StoreError) -> Incident?
    func events(incident id: Int64) throws(StoreError) -> [SecurityEvent]
    func alerts(incident id: Int64, limit: Int) throws(StoreError) -> [IncidentStore.StoredAlert]
    func audit(incident id: Int64) throws(StoreError) -> [IncidentStore.AuditEntry]
    func update(_ id: Int64, status: IncidentStatus?, assignee: String?, note: String?, reported: Bool, actor: String,
                at time: Int64) throws(StoreError) -> Incident
    /// The names of the sensors whose alerts an incident holds.
    func sensors(incident id: Int64) throws(StoreError) -> [String]
    /// The same for several incidents at once (the queue, `incidents list`).
    func sensors(incidents ids: [Int64]) throws(StoreError) -> [Int64: [String]]
    func refreshStatistics() throws(StoreError)

    // Sensors and constituents
    func sensors() throws(StoreError) -> [IncidentStore.SensorRecord]
    func constituents() throws(StoreError) -> [ConstituentInfo]

    // Accounts
    func accounts() throws(StoreError) -> [IncidentStore.Account]
    func account(_ name: String) throws(StoreError) -> IncidentStore.Account?
    func addAccount(name: String, role: String, passwordHash: String, actor: String, at time: Int64) throws(StoreError)
    func changeAccount(_ name: String, passwordHash: String?, role: String?, disabled: Bool?, actor: String, at time: Int64) throws(StoreError)
    func accountAudit(limit: Int) throws(StoreError) -> [IncidentStore.AccountAuditEntry]

    // Upkeep
    func stats() throws(StoreError) -> IncidentStore.Stats
    func purge(before cutoff: Int64) throws(StoreError) -> IncidentStore.PurgeResult
    func integrityCheck() throws(StoreError) -> String
}

extension CSIRTStore {
    public func incidents() throws(StoreError) -> [Incident] { try incidents(IncidentStore.Filter()) }
    public func alerts(incident id: Int64) throws(StoreError) -> [IncidentStore.StoredAlert] { try alerts(incident: id, limit: 1000) }
    public func accountAudit() throws(StoreError) -> [IncidentStore.AccountAuditEntry] { try accountAudit(limit: 200) }
    public func update(_ id: Int64, status: IncidentStatus?, assignee: String?, note: String?, actor: String,
                       at time: Int64) throws(StoreError) -> Incident {
        try update(id, status: status, assignee: assignee, note: note, reported: false, actor: actor, at: time)
    }
}

extension IncidentStatus {
    /// Refuses a move an analyst may not make from this status (the same words on every
    /// store engine).
    public func checkMove(to status: IncidentStatus, incident id: Int64) throws(StoreError) {
        guard status != self else { throw StoreError("incident \(id) is already \(status.rawValue)") }
        guard next.contains(status) else {
            throw StoreError("incident \(id): cannot go from \(rawValue) to \(status.rawValue) (allowed: \(next.map(\.rawValue).joined(separator: ", ")))")
        }
    }
}

extension IncidentStore: CSIRTStore {
    public var location: String { path }
    public var defaultKeyPath: String { path + ".key" }

    public func sensors(incidents ids: [Int64]) throws(StoreError) -> [Int64: [String]] {
        guard !ids.isEmpty else { return [:] }
        return try read { db in
            var result: [Int64: [String]] = [:]
            let marks = ids.map { _ in "?" }.joined(separator: ",")
            for row in try Row.fetchAll(db, sql: """
                SELECT DISTINCT l.incident_id, a.sensor FROM incident_events l JOIN alerts a ON a.event_id = l.event_id
                WHERE l.incident_id IN (\(marks)) AND a.sensor IS NOT NULL ORDER BY l.incident_id, a.sensor
                """, arguments: StatementArguments(ids)) {
                result[row["incident_id"], default: []].append(row["sensor"])
            }
            return result
        }
    }
}

// Public initialisers, for the stores of other engines.
extension IncidentStore.Stats {
    public init(alerts: Int, events: Int, incidents: Int) {
        self.init()
        self.alerts = alerts
        self.events = events
        self.incidents = incidents
    }
}

extension IncidentStore.AuditEntry {
    public init(at: Int64, actor: String, action: String, fromStatus: String?, toStatus: String?, note: String?) {
        self.init(at: at, actor: actor, action: action, from: fromStatus, to: toStatus, note: note)
    }
}

extension IncidentStore.Account {
    public init(name: String, role: String, passwordHash: String, disabled: Bool, created: Int64, changed: Int64) {
        self.init(name: name, role: role, passwordHash: passwordHash, disabled: disabled, createdAt: created, changedAt: changed)
    }
}

extension IncidentStore.AccountAuditEntry {
    public init(at: Int64, actor: String, action: String, account: String, remark: String?) {
        self.init(at: at, actor: actor, action: action, account: account, note: remark)
    }
}

extension IncidentStore.StoredAlert {
    /// An alert as a store of another engine read it (identifiers, tuple, signature, evidence).
    public init(id: Int64, eventID: Int64, timestamp: Int64, gid: Int64, sid: Int64, rev: Int64, signature: String, classtype: String,
                category: String, severity: Int, origin: String, source: String, sourcePort: Int, destination: String, destinationPort: Int,
                proto: Int, appProto: String?, action: String, metadata: String, captureFile: String?, packetNumber: Int64?, flowID: Int64?,
                excerpt: [UInt8]?, sensor: String?) {
        self.init(id: id, eventID: eventID, timestamp: timestamp, sid: sid, signature: signature, severity: severity, origin: origin,
                  source: source, sourcePort: sourcePort, destination: destination, destinationPort: destinationPort, proto: proto,
                  appProto: appProto, metadata: metadata, captureFile: captureFile, packetNumber: packetNumber, flowID: flowID,
                  excerpt: excerpt, gid: gid, rev: rev, classtype: classtype, category: category, action: action, segment: nil, sensor: sensor)
    }
}

import Foundation
import GRDB
import HNCorrelate
import HNDecode

/// The tables the console and the sensors' registration add to the store (schema v2): the
/// analysts' accounts with their own audit trail, and the sensors that write alerts.
extension IncidentStore {
    // MARK: Accounts

    /// A console account. The password is kept only as its hash.
    public struct Account: Sendable, Equatable {
        public var name: String
        public var role: String
        public var passwordHash: String
        public var disabled: Bool
        public var createdAt: Int64
        public var changedAt: Int64
    }

    public struct AccountAuditEntry: Sendable {
        public var at: Int64
        public var actor: String
        public var action: String
        public var account: String
        public var note: String?
    }

    static func account(_ row: Row) -> Account {
        Account(name: row["name"], role: row["role"], passwordHash: row["password_hash"], disabled: row["disabled"],
                createdAt: row["created_at"], changedAt: row["changed_at"])
    }

    public func accounts() throws(StoreError) -> [Account] {
        try read { db in try Row.fetchAll(db, sql: "SELECT * FROM accounts ORDER BY name").map(IncidentStore.account) }
    }

    public func account(_ name: String) throws(StoreError) -> Account? {
        try read { db in try Row.fetchOne(db, sql: "SELECT * FROM accounts WHERE name = ?", arguments: [name]).map(IncidentStore.account) }
    }

    /// Adds an account; an existing name is refused. One audit entry.
    public func addAccount(name: String, role: String, passwordHash: String, actor: String, at time: Int64) throws(StoreError) {
        try write { db in
            guard try Row.fetchOne(db, sql: "SELECT name FROM accounts WHERE name = ?", arguments: [name]) == nil else {
                throw StoreError("account '\(name)' exists already in \(path)")
            }
            try db.execute(sql: "INSERT INTO accounts(name, role, password_hash, disabled, created_at, changed_at) VALUES (?, ?, ?, 0, ?, ?)",
                           arguments: [name, role, passwordHash, time, time])
            try db.execute(sql: "INSERT INTO account_audit(at, actor, action, account, note) VALUES (?, ?, 'created', ?, ?)",
                           arguments: [time, actor, name, "role \(role)"])
        }
    }

    /// Changes an account: a new password hash, a role, disabled or enabled. One audit entry
    /// per change (never the password or its hash).
    public func changeAccount(_ name: String, passwordHash: String? = nil, role: String? = nil, disabled: Bool? = nil, actor: String,
                              at time: Int64) throws(StoreError) {
        try write { db in
            guard let row = try Row.fetchOne(db, sql: "SELECT * FROM accounts WHERE name = ?", arguments: [name]) else {
                throw StoreError("no account '\(name)' in \(path)")
            }
            let current = IncidentStore.account(row)
            if let passwordHash {
                try db.execute(sql: "UPDATE accounts SET password_hash = ?, changed_at = ? WHERE name = ?", arguments: [passwordHash, time, name])
                try db.execute(sql: "INSERT INTO account_audit(at, actor, action, account) VALUES (?, ?, 'password', ?)", arguments: [time, actor, name])
            }
            if let role, role != current.role {
                try db.execute(sql: "UPDATE accounts SET role = ?, changed_at = ? WHERE name = ?", arguments: [role, time, name])
                try db.execute(sql: "INSERT INTO account_audit(at, actor, action, account, note) VALUES (?, ?, 'role', ?, ?)",
                               arguments: [time, actor, name, "\(current.role) -> \(role)"])
            }
            if let disabled, disabled != current.disabled {
                try db.execute(sql: "UPDATE accounts SET disabled = ?, changed_at = ? WHERE name = ?", arguments: [disabled, time, name])
                try db.execute(sql: "INSERT INTO account_audit(at, actor, action, account) VALUES (?, ?, ?, ?)",
                               arguments: [time, actor, disabled ? "disabled" : "enabled", name])
            }
        }
    }

    public func accountAudit(limit: Int = 200) throws(StoreError) -> [AccountAuditEntry] {
        try read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM account_audit ORDER BY id DESC LIMIT ?", arguments: [limit]).map { row in
                AccountAuditEntry(at: row["at"], actor: row["actor"], action: row["action"], account: row["account"], note: row["note"])
            }
        }
    }

    // MARK: Sensors

    /// A sensor that writes this store, as it registered at its start.
    public struct SensorRecord: Sendable, Equatable {
        public var name: String
        public var version: String
        public var startedAt: Int64
        public var rules: Int
        public var indicators: Int
        public var correlationRules: Int
        public var alerts: Int = 0
        public var lastAlert: Int64? = nil
        public init(name: String, version: String, startedAt: Int64, rules: Int, indicators: Int, correlationRules: Int) {
            self.name = name
            self.version = version
            self.startedAt = startedAt
            self.rules = rules
            self.indicators = indicators
            self.correlationRules = correlationRules
        }
    }

    /// Records the sensor (replacing its previous start) and names it on every alert this
    /// store object writes from now on.
    public func register(sensor: SensorRecord) throws(StoreError) {
        try write { db in
            try db.execute(sql: """
                INSERT INTO sensors(name, version, started_at, rules, indicators, correlation_rules) VALUES (?, ?, ?, ?, ?, ?)
                ON CONFLICT(name) DO UPDATE SET version = excluded.version, started_at = excluded.started_at, rules = excluded.rules,
                    indicators = excluded.indicators, correlation_rules = excluded.correlation_rules
                """, arguments: [sensor.name, sensor.version, sensor.startedAt, sensor.rules, sensor.indicators, sensor.correlationRules])
        }
        sensorName = sensor.name
    }

    public func sensors() throws(StoreError) -> [SensorRecord] {
        try read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM sensors ORDER BY name").map { row in
                var s = SensorRecord(name: row["name"], version: row["version"], startedAt: row["started_at"], rules: row["rules"],
                                     indicators: row["indicators"], correlationRules: row["correlation_rules"])
                s.alerts = row["alerts"]
                s.lastAlert = row["last_alert"]
                return s
            }
        }
    }

    /// The names of the sensors whose alerts an incident holds.
    public func sensors(incident id: Int64) throws(StoreError) -> [String] {
        try read { db in
            try String.fetchAll(db, sql: """
                SELECT DISTINCT a.sensor FROM alerts a JOIN incident_events l ON l.event_id = a.event_id
                WHERE l.incident_id = ? AND a.sensor IS NOT NULL ORDER BY a.sensor
                """, arguments: [id])
        }
    }

    /// The constituents the sensor recorded (name, type, networks).
    public func constituents() throws(StoreError) -> [ConstituentInfo] {
        try read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM constituents ORDER BY name").map { row in
                ConstituentInfo(name: row["name"], type: row["type"],
                                networks: JSONText.parseArray(row["networks"]).compactMap { CIDR($0) }, patientCare: row["patient_care"])
            }
        }
    }
}

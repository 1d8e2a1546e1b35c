import GRDB

/// The store's schema, as versioned migrations. Once shipped a migration never changes:
/// new versions append.
enum Schema {
    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1") { db in
            try db.execute(sql: """
                CREATE TABLE constituents (
                    name TEXT PRIMARY KEY NOT NULL,
                    type TEXT NOT NULL,
                    patient_care INTEGER NOT NULL DEFAULT 0,
                    networks TEXT NOT NULL DEFAULT '[]'
                );
                CREATE TABLE events (
                    id INTEGER PRIMARY KEY NOT NULL,
                    src_ip TEXT NOT NULL,
                    dest_ip TEXT NOT NULL,
                    gid INTEGER NOT NULL,
                    sid INTEGER NOT NULL,
                    signature TEXT NOT NULL,
                    classtype TEXT NOT NULL,
                    severity INTEGER NOT NULL,
                    origin TEXT NOT NULL,
                    first_seen INTEGER NOT NULL,
                    last_seen INTEGER NOT NULL,
                    alert_count INTEGER NOT NULL
                );
                CREATE INDEX events_last_seen ON events(last_seen);
                CREATE TABLE alerts (
                    id INTEGER PRIMARY KEY NOT NULL,
                    event_id INTEGER NOT NULL REFERENCES events(id) ON DELETE CASCADE,
                    timestamp INTEGER NOT NULL,
                    gid INTEGER NOT NULL,
                    sid INTEGER NOT NULL,
                    rev INTEGER NOT NULL,
                    signature TEXT NOT NULL,
                    classtype TEXT NOT NULL,
                    category TEXT NOT NULL,
                    severity INTEGER NOT NULL,
                    origin TEXT NOT NULL,
                    origin_name TEXT,
                    src_ip TEXT NOT NULL,
                    src_port INTEGER NOT NULL,
                    dest_ip TEXT NOT NULL,
                    dest_port INTEGER NOT NULL,
                    proto INTEGER NOT NULL,
                    app_proto TEXT,
                    segment TEXT,
                    action TEXT NOT NULL,
                    metadata TEXT NOT NULL DEFAULT '{}'
                );
                CREATE INDEX alerts_timestamp ON alerts(timestamp);
                CREATE INDEX alerts_event ON alerts(event_id);
                CREATE TABLE evidence (
                    alert_id INTEGER PRIMARY KEY NOT NULL REFERENCES alerts(id) ON DELETE CASCADE,
                    capture_file TEXT,
                    pcap_cnt INTEGER,
                    flow_id INTEGER,
                    excerpt BLOB
                );
                CREATE TABLE incidents (
                    id INTEGER PRIMARY KEY NOT NULL,
                    rule_id TEXT NOT NULL,
                    group_key TEXT NOT NULL,
                    title TEXT NOT NULL,
                    taxonomy TEXT NOT NULL,
                    type TEXT NOT NULL,
                    status TEXT NOT NULL DEFAULT 'new',
                    assignee TEXT,
                    sources TEXT NOT NULL,
                    targets TEXT NOT NULL,
                    segments TEXT NOT NULL,
                    constituents TEXT NOT NULL,
                    first_seen INTEGER NOT NULL,
                    last_seen INTEGER NOT NULL,
                    alert_count INTEGER NOT NULL,
                    event_count INTEGER NOT NULL,
                    severity INTEGER NOT NULL,
                    priority INTEGER NOT NULL,
                    priority_reason TEXT NOT NULL,
                    score INTEGER NOT NULL,
                    patient_care INTEGER NOT NULL,
                    reportable INTEGER NOT NULL,
                    report_deadline INTEGER,
                    reported_at INTEGER,
                    related TEXT NOT NULL DEFAULT '[]'
                );
                CREATE INDEX incidents_queue ON incidents(status, priority, last_seen);
                CREATE INDEX incidents_last_seen ON incidents(last_seen);
                CREATE INDEX incidents_rule_group ON incidents(rule_id, group_key);
                CREATE TABLE incident_events (
                    incident_id INTEGER NOT NULL REFERENCES incidents(id) ON DELETE CASCADE,
                    event_id INTEGER NOT NULL REFERENCES events(id) ON DELETE CASCADE,
                    PRIMARY KEY (incident_id, event_id)
                ) WITHOUT ROWID;
                CREATE INDEX incident_events_event ON incident_events(event_id);
                CREATE TABLE audit (
                    id INTEGER PRIMARY KEY NOT NULL,
                    incident_id INTEGER NOT NULL REFERENCES incidents(id) ON DELETE CASCADE,
                    at INTEGER NOT NULL,
                    actor TEXT NOT NULL,
                    action TEXT NOT NULL,
                    from_status TEXT,
                    to_status TEXT,
                    note TEXT
                );
                CREATE INDEX audit_incident ON audit(incident_id);
                -- The audit trail is append-only: rows are never changed (retention may delete
                -- them with their incident).
                CREATE TRIGGER audit_append_only BEFORE UPDATE ON audit
                BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only'); END;
                """)
        }
        // v2: the console's accounts and their audit trail, the sensors that write the store,
        // the sensor of each alert, and an index for the analysts' queue.
        migrator.registerMigration("v2") { db in
            try db.execute(sql: """
                CREATE TABLE accounts (
                    name TEXT PRIMARY KEY NOT NULL,
                    role TEXT NOT NULL,
                    password_hash TEXT NOT NULL,
                    disabled INTEGER NOT NULL DEFAULT 0,
                    created_at INTEGER NOT NULL,
                    changed_at INTEGER NOT NULL
                );
                CREATE TABLE account_audit (
                    id INTEGER PRIMARY KEY NOT NULL,
                    at INTEGER NOT NULL,
                    actor TEXT NOT NULL,
                    action TEXT NOT NULL,
                    account TEXT NOT NULL,
                    note TEXT
                );
                CREATE TRIGGER account_audit_append_only BEFORE UPDATE ON account_audit
                BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only'); END;
                CREATE TABLE sensors (
                    name TEXT PRIMARY KEY NOT NULL,
                    version TEXT NOT NULL,
                    started_at INTEGER NOT NULL,
                    rules INTEGER NOT NULL,
                    indicators INTEGER NOT NULL,
                    correlation_rules INTEGER NOT NULL,
                    alerts INTEGER NOT NULL DEFAULT 0,
                    last_alert INTEGER
                );
                ALTER TABLE alerts ADD COLUMN sensor TEXT;
                -- The queue's order, walked from the top and stopped at the page's end; and
                -- the reporting banner's few rows.
                CREATE INDEX incidents_order ON incidents(priority, last_seen DESC, id);
                CREATE INDEX incidents_unreported ON incidents(status, report_deadline, first_seen)
                    WHERE reportable = 1 AND reported_at IS NULL;
                """)
        }
        return migrator
    }

    /// The schema versions, oldest first.
    static let versions = ["v1", "v2"]
}

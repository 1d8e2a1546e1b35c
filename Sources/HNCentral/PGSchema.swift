import HNOutput
import HNStore

/// The central store's schema, as versioned, forward-only migrations (the embedded store's
/// tables, in PostgreSQL's types). A migration never changes once shipped: new versions
/// append. Each runs in its own transaction under an advisory lock, so sensors, correlator
/// and console starting together migrate once.
///
/// Alerts are partitioned by day of alert time (declarative range partitioning on the
/// nanosecond timestamp): retention drops whole days. A sensor's alert has a stable key,
/// (sensor, source, seq), unique with its timestamp (a partitioned table's unique keys hold
/// its partition key), so a batch sent twice is stored once. The correlator's assignment of
/// alerts to security events lives beside them in `alert_events`.
enum PGSchema {
    static let migrations: [(name: String, statements: [String])] = [
        ("v1", [
            """
            CREATE TABLE constituents (
                name text PRIMARY KEY,
                type text NOT NULL,
                patient_care boolean NOT NULL DEFAULT false,
                networks text NOT NULL DEFAULT '[]'
            )
            """,
            """
            CREATE TABLE sensors (
                name text PRIMARY KEY,
                version text NOT NULL,
                started_at bigint NOT NULL,
                rules integer NOT NULL,
                indicators integer NOT NULL,
                correlation_rules integer NOT NULL,
                alerts bigint NOT NULL DEFAULT 0,
                last_alert bigint
            )
            """,
            "CREATE SEQUENCE alerts_id_seq",
            """
            CREATE TABLE alerts (
                id bigint NOT NULL DEFAULT nextval('alerts_id_seq'),
                sensor text NOT NULL,
                source text NOT NULL,
                seq bigint NOT NULL,
                timestamp bigint NOT NULL,
                gid bigint NOT NULL,
                sid bigint NOT NULL,
                rev bigint NOT NULL,
                signature text NOT NULL,
                classtype text NOT NULL,
                category text NOT NULL,
                severity integer NOT NULL,
                origin text NOT NULL,
                origin_name text,
                src_ip text NOT NULL,
                src_port integer NOT NULL,
                dest_ip text NOT NULL,
                dest_port integer NOT NULL,
                proto integer NOT NULL,
                app_proto text,
                segment text,
                target text,
                action text NOT NULL,
                metadata text NOT NULL DEFAULT '{}',
                capture_file text,
                pcap_cnt bigint,
                flow_id bigint,
                excerpt bytea
            ) PARTITION BY RANGE (timestamp)
            """,
            "CREATE UNIQUE INDEX alerts_key ON alerts (sensor, source, seq, timestamp)",
            "CREATE INDEX alerts_id ON alerts (id)",
            """
            CREATE TABLE events (
                id bigint PRIMARY KEY,
                src_ip text NOT NULL,
                dest_ip text NOT NULL,
                gid bigint NOT NULL,
                sid bigint NOT NULL,
                signature text NOT NULL,
                classtype text NOT NULL,
                severity integer NOT NULL,
                origin text NOT NULL,
                first_seen bigint NOT NULL,
                last_seen bigint NOT NULL,
                alert_count bigint NOT NULL
            )
            """,
            "CREATE INDEX events_last_seen ON events (last_seen)",
            """
            CREATE TABLE alert_events (
                alert_id bigint PRIMARY KEY,
                event_id bigint NOT NULL,
                timestamp bigint NOT NULL
            )
            """,
            "CREATE INDEX alert_events_event ON alert_events (event_id)",
            "CREATE INDEX alert_events_timestamp ON alert_events (timestamp)",
            """
            CREATE TABLE incidents (
                id bigint PRIMARY KEY,
                rule_id text NOT NULL,
                group_key text NOT NULL,
                title text NOT NULL,
                taxonomy text NOT NULL,
                type text NOT NULL,
                status text NOT NULL DEFAULT 'new',
                assignee text,
                sources text NOT NULL,
                targets text NOT NULL,
                segments text NOT NULL,
                constituents text NOT NULL,
                first_seen bigint NOT NULL,
                last_seen bigint NOT NULL,
                alert_count bigint NOT NULL,
                event_count bigint NOT NULL,
                severity integer NOT NULL,
                priority integer NOT NULL,
                priority_reason text NOT NULL,
                score integer NOT NULL,
                patient_care boolean NOT NULL,
                reportable boolean NOT NULL,
                report_deadline bigint,
                reported_at bigint,
                related text NOT NULL DEFAULT '[]'
            )
            """,
            "CREATE INDEX incidents_order ON incidents (priority, last_seen DESC, id)",
            "CREATE INDEX incidents_status ON incidents (status, priority, last_seen)",
            "CREATE INDEX incidents_last_seen ON incidents (last_seen)",
            "CREATE INDEX incidents_unreported ON incidents (status, report_deadline, first_seen) WHERE reportable AND reported_at IS NULL",
            """
            CREATE TABLE incident_events (
                incident_id bigint NOT NULL REFERENCES incidents(id) ON DELETE CASCADE,
                event_id bigint NOT NULL REFERENCES events(id) ON DELETE CASCADE,
                PRIMARY KEY (incident_id, event_id)
            )
            """,
            "CREATE INDEX incident_events_event ON incident_events (event_id)",
            """
            CREATE TABLE audit (
                id bigserial PRIMARY KEY,
                incident_id bigint NOT NULL REFERENCES incidents(id) ON DELETE CASCADE,
                at bigint NOT NULL,
                actor text NOT NULL,
                action text NOT NULL,
                from_status text,
                to_status text,
                note text
            )
            """,
            "CREATE INDEX audit_incident ON audit (incident_id)",
            """
            CREATE FUNCTION hn_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN RAISE EXCEPTION 'the audit trail is append-only'; END $$
            """,
            "CREATE TRIGGER audit_append_only BEFORE UPDATE ON audit FOR EACH ROW EXECUTE FUNCTION hn_append_only()",
            """
            CREATE TABLE accounts (
                name text PRIMARY KEY,
                role text NOT NULL,
                password_hash text NOT NULL,
                disabled boolean NOT NULL DEFAULT false,
                created_at bigint NOT NULL,
                changed_at bigint NOT NULL
            )
            """,
            """
            CREATE TABLE account_audit (
                id bigserial PRIMARY KEY,
                at bigint NOT NULL,
                actor text NOT NULL,
                action text NOT NULL,
                account text NOT NULL,
                note text
            )
            """,
            "CREATE TRIGGER account_audit_append_only BEFORE UPDATE ON account_audit FOR EACH ROW EXECUTE FUNCTION hn_append_only()",
            // The central correlator's progress: every alert with an id at or below `floor`
            // is correlated, and `state` holds the rule windows in progress (JSON).
            """
            CREATE TABLE correlator_state (
                id integer PRIMARY KEY CHECK (id = 1),
                floor bigint NOT NULL,
                state text NOT NULL,
                holder text NOT NULL,
                updated_at bigint NOT NULL
            )
            """,
        ]),
    ]

    /// The schema versions, oldest first.
    static var versions: [String] { migrations.map(\.name) }

    /// The advisory lock keys: migrations, partition creation, the correlator's lease and
    /// the barrier between sensors' inserts and the correlator's reads.
    static let migrationLock: Int64 = 0x686E_7365_6E01
    static let partitionLock: Int64 = 0x686E_7365_6E02
    static let correlatorLock: Int64 = 0x686E_7365_6E03
    static let insertBarrier: Int64 = 0x686E_7365_6E04

    /// Applies the migrations not yet applied, in order; returns their names.
    @discardableResult
    static func migrate(_ link: PGLink) throws(StoreError) -> [String] {
        try link.execute("SELECT pg_advisory_lock($1)", [.int(migrationLock)])
        defer { _ = try? link.execute("SELECT pg_advisory_unlock($1)", [.int(migrationLock)]) }
        try link.execute("CREATE TABLE IF NOT EXISTS hn_schema_migrations (name text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())")
        let applied = Set(try link.query("SELECT name FROM hn_schema_migrations").map { $0.text("name") })
        if let unknown = applied.subtracting(versions).sorted().first {
            throw StoreError("\(link.url): the schema has migration \(unknown), which this hnsensor does not know (a newer version made it)")
        }
        var done: [String] = []
        for (name, statements) in migrations where !applied.contains(name) {
            try link.transaction { () throws(StoreError) in
                for sql in statements { try link.execute(sql) }
                try link.execute("INSERT INTO hn_schema_migrations(name) VALUES ($1)", [.text(name)])
            }
            done.append(name)
        }
        return done
    }

    static func applied(_ link: PGLink) throws(StoreError) -> [String] {
        try link.query("SELECT name FROM hn_schema_migrations ORDER BY name").map { $0.text("name") }
    }

    static let day: Int64 = 86_400_000_000_000

    /// The partition holding a day of alerts: `alerts_YYYYMMDD`.
    static func partitionName(day start: Int64) -> String {
        let (y, m, d) = EVETime.civil(fromDays: start / day)
        func digits(_ n: Int64, _ width: Int) -> String {
            let text = String(max(0, n))
            return String(repeating: "0", count: max(0, width - text.count)) + text
        }
        return "alerts_" + digits(y, 4) + digits(m, 2) + digits(d, 2)
    }

    /// The start of the day holding `timestamp` (nanoseconds; days begin at 00:00 UTC).
    static func dayStart(_ timestamp: Int64) -> Int64 {
        timestamp >= 0 ? timestamp / day * day : (timestamp - day + 1) / day * day
    }
}

import Foundation
import Testing
@testable import HNCentral
import HNAlert
import HNCorrelate
import HNDecode
import HNSensor
import HNStore

/// A synthetic alert from `source` to `destination` at `seconds` past 2026-11-02T08:00:00Z.
func testAlert(seconds: Int64, sid: UInt32 = 9_100_001, source: String = "198.51.100.23", destination: String = "10.20.2.80",
               classtype: String = "web-application-attack") -> SecurityAlert {
    SecurityAlert(timestamp: (1_793_606_400 + seconds) * 1_000_000_000, packetNumber: UInt64(seconds + 1), flowID: 77, segment: 0,
                  source: IPAddress(source)!, destination: IPAddress(destination)!, sourcePort: 40_000, destinationPort: 80, ipProto: 6,
                  appProto: "http", toServer: true, sid: sid, signature: "HNS TEST \(sid)", classtype: classtype,
                  category: "Web Application Attack", severity: 1)
}

func centralRows(_ alerts: [SecurityAlert], sensor: String = "s1", source: String = "test#1") -> [CentralAlert] {
    alerts.enumerated().map { i, a in CentralAlert(a, sensor: sensor, source: source, seq: Int64(i + 1), segmentName: nil, captureFile: "t.pcap", sealedExcerpt: nil) }
}

@Suite(.enabled(if: PGCluster.available, PGCluster.unavailableReason))
struct PostgresStoreTests {
    @Test func migrationsRunOnceWhenSeveralProcessesOpenTheStoreTogether() async throws {
        let cluster = try #require(PGCluster.shared)
        let url = try StoreURL(parsing: try cluster.newDatabase())
        try await withThrowingTaskGroup(of: [String].self) { group in
            for _ in 0..<4 { group.addTask { try PostgresStore(url: url).appliedMigrations() } }
            for try await applied in group { #expect(applied == ["v1"]) }
        }
        #expect(try cluster.scalar(url.database, "SELECT count(*) FROM hn_schema_migrations") == "1")
    }

    @Test func aBatchSentTwiceIsStoredOnce() throws {
        let cluster = try #require(PGCluster.shared)
        let store = try PostgresStore(url: try StoreURL(parsing: try cluster.newDatabase()))
        let rows = centralRows((0..<250).map { testAlert(seconds: Int64($0)) })
        #expect(try store.insert(rows) == 250)
        // The answer was lost (a timeout): the sensor sends the same batch again.
        #expect(try store.insert(rows) == 0)
        #expect(try store.insert(Array(rows[200...]) + centralRows([testAlert(seconds: 999)], source: "test#2")) == 1)
        #expect(try store.stats().alerts == 251)
    }

    @Test func alertsLandInThePartitionOfTheirUTCDay() throws {
        let cluster = try #require(PGCluster.shared)
        let url = try StoreURL(parsing: try cluster.newDatabase())
        let store = try PostgresStore(url: url)
        try store.insert(centralRows([testAlert(seconds: 0), testAlert(seconds: 86_400), testAlert(seconds: 86_400 + 5), testAlert(seconds: 3 * 86_400)]))
        let names = try cluster.scalar(url.database, """
            SELECT string_agg(c.relname || ':' || (SELECT count(*) FROM alerts a WHERE a.tableoid = c.oid), ',' ORDER BY c.relname)
            FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = 'alerts'::regclass
            """)
        #expect(names == "alerts_20261102:1,alerts_20261103:2,alerts_20261105:1")
    }

    static let rules = """
        rules:
          - id: t-web
            title: Web attacks
            type: event_count
            selection: {classtype: [web-application-attack]}
            group-by: [src_ip]
            timespan: 1h
            condition: {gte: 2}
            classification: {taxonomy: intrusion-attempts, type: exploit}
        """

    func correlate(_ url: StoreURL, _ store: PostgresStore) throws -> CentralCorrelator {
        var config = SensorConfig()
        config.homeNet = [CIDR("10.20.0.0/16")!]
        let c = try CentralCorrelator(settings: .init(url: url), rules: try CorrelationRuleLoader.parse(PostgresStoreTests.rules, file: "t.yaml"),
                                      config: config, store: store)
        #expect(try c.tryAcquire())
        try c.runOnce()
        c.release()
        return c
    }

    @Test func retentionDropsWholeDaysButKeepsTheDaysOfAnOpenIncident() throws {
        let cluster = try #require(PGCluster.shared)
        let url = try StoreURL(parsing: try cluster.newDatabase())
        let store = try PostgresStore(url: url)
        // Day 1: an attack (two alerts, an incident); day 2: one alert of another source.
        try store.insert(centralRows([testAlert(seconds: 0), testAlert(seconds: 60),
                                      testAlert(seconds: 86_400 + 10, source: "192.0.2.9", classtype: "misc-activity")]))
        _ = try correlate(url, store)
        let incidents = try store.incidents()
        #expect(incidents.count == 1)
        let cutoff = (1_793_606_400 + 10 * 86_400) * 1_000_000_000 as Int64
        var r = try store.purge(before: cutoff)
        #expect(r.alerts == 1 && r.incidents == 0)
        #expect(try store.stats().alerts == 2)
        #expect(try cluster.scalar(url.database, "SELECT count(*) FROM pg_inherits WHERE inhparent = 'alerts'::regclass") == "1")
        // Closed, the incident and its day go.
        for s in [IncidentStatus.qualification, .closed] {
            _ = try store.update(incidents[0].id, status: s, assignee: nil, note: nil, actor: "test", at: 1)
        }
        r = try store.purge(before: cutoff)
        #expect(r.alerts == 2 && r.incidents == 1 && r.events >= 1)
        #expect(try store.stats().alerts == 0)
        #expect(try store.integrityCheck() == "ok")
    }

    @Test func analystChangesAreAuditedAndTheAuditTrailIsAppendOnly() throws {
        let cluster = try #require(PGCluster.shared)
        let url = try StoreURL(parsing: try cluster.newDatabase())
        let store = try PostgresStore(url: url)
        try store.insert(centralRows([testAlert(seconds: 0), testAlert(seconds: 1)]))
        _ = try correlate(url, store)
        let id = try #require(try store.incidents().first?.id)
        #expect(throws: StoreError.self) { try store.update(id, status: .closed, assignee: nil, note: nil, actor: "ana", at: 5) }
        let updated = try store.update(id, status: .qualification, assignee: "ana", note: "looking", actor: "ana", at: 5)
        #expect(updated.status == .qualification && updated.assignee == "ana")
        #expect(try store.audit(incident: id).map(\.action) == ["opened", "status", "assign"])
        #expect(try store.sensors(incident: id) == ["s1"])
        let tamper = try run(cluster.bin + "/psql", ["-h", "127.0.0.1", "-p", "\(cluster.port)", "-U", "hn", "-d", url.database, "-c",
                                                     "UPDATE audit SET actor = 'mallory'"])
        #expect(tamper.status != 0 && tamper.err.contains("append-only"))
    }

    @Test func accountsWorkAsInTheEmbeddedStore() throws {
        let cluster = try #require(PGCluster.shared)
        let store = try PostgresStore(url: try StoreURL(parsing: try cluster.newDatabase()))
        try store.addAccount(name: "ana", role: "analyst", passwordHash: "$2b$hash", actor: "cli:root", at: 1)
        #expect(throws: StoreError.self) { try store.addAccount(name: "ana", role: "viewer", passwordHash: "x", actor: "cli:root", at: 2) }
        try store.changeAccount("ana", passwordHash: nil, role: "admin", disabled: true, actor: "cli:root", at: 3)
        let a = try #require(try store.account("ana"))
        #expect(a.role == "admin" && a.disabled && a.changedAt == 3)
        #expect(try store.accountAudit().map(\.action) == ["disabled", "role", "created"])
    }
}

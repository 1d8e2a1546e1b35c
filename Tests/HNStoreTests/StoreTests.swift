import Foundation
import HNCorrelate
import HNDecode
import HNAlert
@testable import HNStore
import Testing

let second: Int64 = 1_000_000_000
let t0: Int64 = 1_793_606_400 * second

func scratch(_ name: String = "store.db") throws -> String {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("hnstore-\(getpid())-\(UUID().uuidString.prefix(8))")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    return dir.appendingPathComponent(name).path
}

/// A correlator with one rule: every attempted-recon alert, grouped by source, opens or grows
/// an incident.
func correlator() throws -> Correlator {
    let rules = try CorrelationRuleLoader.parse("""
        - id: scan
          title: Scan
          type: event_count
          selection: {classtype: [attempted-recon]}
          group-by: [src_ip]
          timespan: 1h
          condition: {gte: 1}
          classification: {taxonomy: information-gathering, type: scanner}
        """, file: "test.yaml")
    return Correlator(rules: rules, policy: PriorityPolicy(), homeNet: [CIDR("10.0.0.0/8")!], constituents: [], segmentNames: [], segmentNetworks: [])
}

func alert(_ src: String, _ dst: String, at time: Int64, sid: UInt32 = 1) -> SecurityAlert {
    SecurityAlert(timestamp: time, packetNumber: 7, flowID: 99, segment: 0, source: IPAddress(src)!, destination: IPAddress(dst)!,
                  sourcePort: 40_000, destinationPort: 22, ipProto: 6, appProto: nil, toServer: true, sid: sid, signature: "scan",
                  classtype: "attempted-recon", category: "Attempted Information Leak", severity: 2)
}

@Suite struct StoreTests {
    @Test func anEmptyFileMigratesToTheCurrentSchemaWithRestrictiveMode() throws {
        let path = try scratch()
        let store = try IncidentStore(path: path)
        #expect(try store.appliedMigrations() == Schema.versions)
        #expect(try store.integrityCheck() == "ok")
        let mode = try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int
        #expect(mode == 0o640)
        // Opening again is a no-op migration.
        let again = try IncidentStore(path: path)
        #expect(try again.appliedMigrations() == Schema.versions)
    }

    @Test func everyEarlierSchemaVersionMigratesForward() throws {
        // Each prefix of the migration list stands for a store written by an earlier release.
        for count in 1...Schema.versions.count {
            let path = try scratch()
            let queue = try DatabaseQueueForTests(path: path)
            try queue.migrate(upTo: Schema.versions[count - 1])
            let store = try IncidentStore(path: path)
            #expect(try store.appliedMigrations() == Schema.versions)
        }
    }

    @Test func batchesCommitAndReadBackInPriorityOrder() throws {
        let store = try IncidentStore(path: try scratch())
        let c = try correlator()
        c.ingest(alert("198.51.100.1", "10.1.0.5", at: t0))
        c.ingest(alert("198.51.100.1", "10.1.0.6", at: t0 + second))
        c.ingest(alert("198.51.100.2", "10.1.0.7", at: t0 + 2 * second))
        try store.commit(c.takeBatch(), actor: "hnsensor:test")
        let incidents = try store.incidents()
        // Incident 1 reached two hosts (P3), incident 2 one (P4): most urgent first.
        #expect(incidents.map(\.id) == [1, 2])
        #expect(incidents.map(\.priority) == [3, 4])
        #expect(incidents[0].alertCount == 2)
        #expect(incidents[0].targets == ["10.1.0.5", "10.1.0.6"])
        #expect(try store.events(incident: 1).count == 2)
        let alerts = try store.alerts(incident: 1)
        #expect(alerts.map(\.packetNumber) == [7, 7])
        #expect(try store.audit(incident: 1).map(\.action) == ["opened"])
        // A later batch grows incident 1 and keeps its identity.
        c.ingest(alert("198.51.100.1", "10.1.0.8", at: t0 + 3 * second))
        try store.commit(c.takeBatch(), actor: "hnsensor:test")
        #expect(try store.incident(1)?.alertCount == 3)
        #expect(try store.stats().alerts == 4)
    }

    @Test func aBatchWhoseEventWindowEndsInsideItIsStoredWhole() throws {
        // An indicator looked up every 301 s: each lookup starts a new event (the window is
        // 5 minutes) inside the same batch. The store used to refuse it (FOREIGN KEY).
        let store = try IncidentStore(path: try scratch())
        let c = try correlator()
        for k in 0..<4 { c.ingest(alert("198.51.100.1", "10.1.0.5", at: t0 + Int64(k) * 301 * second)) }
        try store.commit(c.takeBatch(), actor: "hnsensor:test")
        #expect(try store.stats().alerts == 4)
        #expect(try store.stats().events == 4)
        #expect(try store.incident(1)?.eventCount == 4)
        #expect(try store.events(incident: 1).map(\.alertCount) == [1, 1, 1, 1])
    }

    @Test func aFailedCommitNamesTheRowAndKeepsTheBatchesBefore() throws {
        let path = try scratch()
        let store = try IncidentStore(path: path)
        let c = try correlator()
        c.ingest(alert("198.51.100.1", "10.1.0.5", at: t0))
        try store.commit(c.takeBatch(), actor: "hnsensor:test")
        // A batch with an alert whose event is nowhere: the whole batch is refused.
        c.ingest(alert("198.51.100.1", "10.1.0.6", at: t0 + second))
        var bad = c.takeBatch()
        bad.alerts[0].eventID = 999
        bad.events = []
        do {
            try store.commit(bad, actor: "hnsensor:test")
            Issue.record("an alert without its event must be refused")
        } catch {
            #expect(error.description.hasPrefix("\(path): cannot write alert 2 (event 999): FOREIGN KEY constraint failed"))
            #expect(error.description.contains("rolled back, earlier batches are kept"))
        }
        let stats = try store.stats()
        #expect(stats.alerts == 1)
        #expect(stats.incidents == 1)
        #expect(try store.incident(1)?.alertCount == 1)
    }

    @Test func statusChangesFollowThePhasesAndAreAudited() throws {
        let store = try IncidentStore(path: try scratch())
        let c = try correlator()
        c.ingest(alert("198.51.100.1", "10.1.0.5", at: t0))
        try store.commit(c.takeBatch(), actor: "hnsensor:test")
        #expect(throws: StoreError.self) { try store.update(1, status: .remediation, assignee: nil, note: nil, actor: "ana", at: t0) }
        _ = try store.update(1, status: .qualification, assignee: "ana", note: "looks real", actor: "ana", at: t0 + second)
        _ = try store.update(1, status: .containment, assignee: nil, note: nil, actor: "ana", at: t0 + 2 * second)
        _ = try store.update(1, status: .investigation, assignee: nil, note: nil, actor: "ana", at: t0 + 3 * second)
        _ = try store.update(1, status: .closed, assignee: nil, note: "blocked at the firewall", actor: "ana", at: t0 + 4 * second)
        do {
            _ = try store.update(1, status: .closed, assignee: nil, note: nil, actor: "ana", at: t0)
            Issue.record("closing twice must fail")
        } catch {
            #expect(error.description == "incident 1 is already closed")
        }
        let trail = try store.audit(incident: 1)
        #expect(trail.map(\.action) == ["opened", "status", "assign", "status", "status", "status"])
        #expect(trail.compactMap(\.to) == ["new", "qualification", "containment", "investigation", "closed"])
        // The trail is append-only.
        #expect(throws: (any Error).self) {
            try store.pool.write { db in try db.execute(sql: "UPDATE audit SET note = 'changed'") }
        }
    }

    @Test func theSensorNeverOverwritesAnAnalystsStatus() throws {
        let store = try IncidentStore(path: try scratch())
        let c = try correlator()
        c.ingest(alert("198.51.100.1", "10.1.0.5", at: t0))
        try store.commit(c.takeBatch(), actor: "hnsensor:test")
        _ = try store.update(1, status: .qualification, assignee: nil, note: nil, actor: "ana", at: t0)
        c.ingest(alert("198.51.100.1", "10.1.0.6", at: t0 + second))
        try store.commit(c.takeBatch(), actor: "hnsensor:test")
        let i = try #require(try store.incident(1))
        #expect(i.status == .qualification)
        #expect(i.alertCount == 2)
    }

    @Test func purgeKeepsOpenIncidentsAndTheirAlerts() throws {
        let store = try IncidentStore(path: try scratch())
        let c = try correlator()
        c.ingest(alert("198.51.100.1", "10.1.0.5", at: t0))
        c.ingest(alert("198.51.100.2", "10.1.0.5", at: t0))
        try store.commit(c.takeBatch(), actor: "hnsensor:test")
        _ = try store.update(2, status: .falsePositive, assignee: nil, note: nil, actor: "ana", at: t0)
        let result = try store.purge(before: t0 + 86_400 * second)
        #expect(result.incidents == 1)
        #expect(result.alerts == 1)
        #expect(try store.incidents().map(\.id) == [1])
        #expect(try store.alerts(incident: 1).count == 1)
        #expect(try store.integrityCheck() == "ok")
    }

    @Test func resumeStateContinuesIdentifiersAndOpenIncidents() throws {
        let path = try scratch()
        let store = try IncidentStore(path: path)
        let c = try correlator()
        c.ingest(alert("198.51.100.1", "10.1.0.5", at: t0))
        c.ingest(alert("198.51.100.2", "10.1.0.5", at: t0))
        try store.commit(c.takeBatch(), actor: "hnsensor:test")
        _ = try store.update(2, status: .duplicate, assignee: nil, note: nil, actor: "ana", at: t0)
        let state = try IncidentStore(path: path).resumeState()
        #expect(state.alert == 3)
        #expect(state.incident == 3)
        #expect(state.open.map(\.0.id) == [1])
        #expect(state.open[0].1 == [1])
        #expect(state.closed.map(\.id) == [2])
    }
}

import HNAlert
import Foundation
import GRDB
import HNConfig
import HNCorrelate
import HNDecode
import HNDetect
@testable import HNSensor
@testable import HNStore
import Testing

/// The correlation stage between the correlator and the store: what happens to batches
/// when a commit fails.
@Suite struct CorrelationStageTests {
    static let second: Int64 = 1_000_000_000
    static let t0: Int64 = 1_793_606_400 * second

    static func alert(_ k: Int) -> SecurityAlert {
        // One scanner, one target: one incident of hn-recon-scanner absorbing every alert.
        var a = SecurityAlert(timestamp: t0 + Int64(k) * second, packetNumber: UInt64(k), flowID: UInt64(k), segment: 0,
                              source: IPAddress("198.51.100.23")!, destination: IPAddress("10.20.2.80")!, sourcePort: 40_000,
                              destinationPort: UInt16(1 + k), ipProto: 6, appProto: nil, toServer: true, sid: 9_200_010,
                              signature: "port scan", classtype: "attempted-recon", category: "Attempted Information Leak", severity: 2)
        a.origin = .detector(name: "port-scan")
        return a
    }

    static func stage(_ path: String) throws -> CorrelationStage {
        let config = try SensorConfig.load(path: shippedConfig)
        let rules = try CorrelationRuleLoader.load(folder: repositoryRoot.appendingPathComponent("Rules/correlation").path)
        return try CorrelationStage.make(rules: rules, config: config, storePath: path, eve: nil, captureSegments: false)
    }

    /// Makes every later alert insert fail, as a full disk or a broken schema would.
    /// A second connection, waiting while the stage's writer holds the database.
    static func connection(_ path: String) throws -> DatabaseQueue {
        var config = Configuration()
        config.busyMode = .timeout(10)
        return try DatabaseQueue(path: path, configuration: config)
    }

    static func breakAlerts(_ path: String) throws {
        let q = try connection(path)
        try q.write { db in
            try db.execute(sql: "CREATE TRIGGER test_fail BEFORE INSERT ON alerts BEGIN SELECT RAISE(ABORT, 'disk on fire'); END")
        }
    }

    static func repair(_ path: String) throws {
        let q = try connection(path)
        try q.write { db in try db.execute(sql: "DROP TRIGGER test_fail") }
    }

    /// Three alerts committed, then the store breaks and four more come in two batches.
    static func breakingAfterThree(_ path: String, retry: Bool) throws -> CorrelationStage {
        let s = try stage(path)
        s.retryFailedBatches = retry
        for k in 0..<3 { s.ingest(alert(k)) }
        s.boundary()
        s.boundary()  // waits for the first batch's commit
        try breakAlerts(path)
        for k in 3..<5 { s.ingest(alert(k)) }
        s.boundary()
        for k in 5..<7 { s.ingest(alert(k)) }
        return s
    }

    @Test func aReplayStopsAtAFailedCommitNamingTheRowAndKeepsWhatWasCommitted() throws {
        let path = try scratchFolder().appendingPathComponent("incidents.db").path
        let s = try CorrelationStageTests.breakingAfterThree(path, retry: false)
        s.finish(at: CorrelationStageTests.t0 + 10 * CorrelationStageTests.second)
        #expect(s.stopped)
        let failure = try #require(s.failure)
        #expect(failure.contains("\(path): cannot write alert 4 (event 1): disk on fire"), "\(failure)")
        #expect(failure.hasSuffix("(not written: 4 alerts of this run, from alert 4)"), "\(failure)")
        let store = try IncidentStore(path: path)
        #expect(try store.stats().alerts == 3)
        #expect(try store.incident(1)?.alertCount == 3)
    }

    @Test func aLiveSensorRetriesWhatTheStoreRefusedAndLosesNothing() throws {
        let path = try scratchFolder().appendingPathComponent("incidents.db").path
        let s = try CorrelationStageTests.stage(path)
        s.retryFailedBatches = true
        for k in 0..<3 { s.ingest(CorrelationStageTests.alert(k)) }
        s.boundary()
        s.boundary()  // waits for the first batch's commit
        try CorrelationStageTests.breakAlerts(path)
        for k in 3..<5 { s.ingest(CorrelationStageTests.alert(k)) }
        s.boundary()
        for k in 5..<7 { s.ingest(CorrelationStageTests.alert(k)) }
        s.boundary()
        s.boundary()
        #expect(s.failure?.contains("disk on fire") == true)
        #expect(s.hasPending)
        #expect(s.failedCommits >= 2)
        try CorrelationStageTests.repair(path)
        s.boundary()
        s.finish(at: CorrelationStageTests.t0 + 10 * CorrelationStageTests.second)
        #expect(s.failure == nil)
        let store = try IncidentStore(path: path)
        #expect(try store.stats().alerts == 7)
        let incident = try #require(try store.incident(1))
        #expect(incident.alertCount == 7)
        #expect(try store.alerts(incident: 1).map(\.packetNumber) == (0..<7).map { Int64($0) })
        #expect(try store.stats().incidents == 1)
    }
}

import Foundation
import Testing
@testable import HNCentral
import HNCorrelate
import HNSensor
import HNStore

/// Replays `files` as sensor `name` into the central store at `url`; returns the alerts the
/// pipeline raised.
@discardableResult
func replayCentral(_ files: [String], url: StoreURL, config: SensorConfig, spool: String, name: String? = nil, batch: Int = 512) throws -> UInt64 {
    var config = config
    if let name { config.sensorName = name }
    var settings = CentralForwarder.Settings(url: url, spoolPath: spool, spoolMax: 1 << 30, sensorName: config.sensorName)
    settings.constituents = config.constituentInfos
    settings.batch = batch
    let forwarder = try CentralForwarder(settings: settings)
    defer { forwarder.stop() }
    let summary = try Replay.run(files: files, config: config, evePath: nil, rulesPath: shippedRules, workers: 1, forwarder: forwarder)
    guard forwarder.drain(timeout: 60) else { throw TestFailure("the spool did not drain: \(forwarder.snapshot())") }
    return summary.alerts
}

func correlateOnce(_ url: StoreURL, config: SensorConfig) throws -> CentralCorrelator {
    let rules = try CorrelationRuleLoader.load(folder: shippedRules + "/correlation")
    let c = try CentralCorrelator(settings: .init(url: url), rules: rules, config: config, store: try PostgresStore(url: url))
    guard try c.tryAcquire() else { throw TestFailure("the lease is held") }
    defer { c.release() }
    try c.runOnce()
    return c
}

@Suite(.enabled(if: PGCluster.available, PGCluster.unavailableReason))
struct CentralParityTests {
    static let labelled = ["attacks", "benign-day", "benign-small", "demo", "protocols", "revisits", "upgrades"]

    @Test(arguments: labelled)
    func aCaptureCorrelatedCentrallyGivesTheIncidentsOfTheEmbeddedStore(name: String) throws {
        let cluster = try #require(PGCluster.shared)
        let dir = try scratchFolder()
        defer { try? FileManager.default.removeItem(at: dir) }
        let config = try SensorConfig.load(path: shippedConfig)
        let capture = capturesFolder.appendingPathComponent("\(name).pcap").path

        let embedded = dir.appendingPathComponent("incidents.db").path
        let reference = try Replay.run(files: [capture], config: config, evePath: nil, rulesPath: shippedRules, storePath: embedded, workers: 1)
        let expected = Set(try IncidentStore(path: embedded).incidents().map(IncidentFacts.init))

        let url = try StoreURL(parsing: try cluster.newDatabase())
        let raised = try replayCentral([capture], url: url, config: config, spool: dir.appendingPathComponent("spool.db").path)
        #expect(raised == reference.alerts)
        let central = try correlateOnce(url, config: config)
        #expect(central.counters.correlated == raised)
        let store = try PostgresStore(url: url)
        let got = Set(try store.incidents().map(IncidentFacts.init))
        #expect(got == expected, "only central: \(got.subtracting(expected)); only embedded: \(expected.subtracting(got))")
        #expect(try store.stats().alerts == Int(raised))
        // Every incident names the one sensor.
        for i in try store.incidents() { #expect(try store.sensors(incident: i.id) == [config.sensorName]) }
    }

    @Test func correlatingAgainAddsNothing() throws {
        let cluster = try #require(PGCluster.shared)
        let dir = try scratchFolder()
        defer { try? FileManager.default.removeItem(at: dir) }
        let config = try SensorConfig.load(path: shippedConfig)
        let url = try StoreURL(parsing: try cluster.newDatabase())
        try replayCentral([capturesFolder.appendingPathComponent("demo.pcap").path], url: url, config: config, spool: dir.appendingPathComponent("s.db").path)
        _ = try correlateOnce(url, config: config)
        let store = try PostgresStore(url: url)
        let before = try store.incidents().map(IncidentFacts.init)
        let again = try correlateOnce(url, config: config)
        #expect(again.counters.correlated == 0)
        #expect(try store.incidents().map(IncidentFacts.init) == before)
    }
}

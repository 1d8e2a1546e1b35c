import Foundation
import Testing
@testable import HNCentral
import HNCapGen
import HNCorrelate
import HNSensor
import HNStore

#if canImport(Glibc)
import Glibc
#endif

/// The shipped configuration as sensor `name` (written into `dir`).
func sensorConfig(_ name: String, in dir: URL, lateness: String? = nil) throws -> String {
    var text = try String(contentsOfFile: shippedConfig, encoding: .utf8).replacingOccurrences(of: "name: dmz-sensor-1", with: "name: \(name)")
    if let lateness { text = text.replacingOccurrences(of: "  event_window: 5m", with: "  event_window: 5m\n  max_lateness: \(lateness)") }
    let path = dir.appendingPathComponent("\(name).yaml").path
    try text.write(toFile: path, atomically: true, encoding: .utf8)
    return path
}

/// A started hnsensor process; its output collected when it ends.
final class Running: @unchecked Sendable {
    let process = Process()
    let out = Pipe(), err = Pipe()
    init(_ arguments: [String]) throws {
        guard let binary = hnsensorBinary else { throw TestFailure("the hnsensor binary is not built (swift build)") }
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = arguments
        process.standardOutput = out
        process.standardError = err
        process.standardInput = FileHandle.nullDevice
        try process.run()
    }
    func kill() { Glibc.kill(process.processIdentifier, SIGKILL) }
    func wait() -> (status: Int32, out: String, err: String) {
        let o = out.fileHandleForReading.readDataToEndOfFile(), e = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: o, as: UTF8.self), String(decoding: e, as: UTF8.self))
    }
}

/// The incidents of a central store: rule, class, priority, hosts, alert counts (and event
/// counts unless `events: false`: after a restart an alert may start an event of its own
/// where an uninterrupted correlator grouped it with an earlier one; see the README).
func facts(_ url: String, events: Bool = true) throws -> Set<IncidentFacts> {
    Set(try PostgresStore(url: try StoreURL(parsing: url)).incidents().map { IncidentFacts($0, events: events) })
}

@Suite(.enabled(if: PGCluster.available, PGCluster.unavailableReason))
struct ManySensorsTests {
    @Test func oneAttackerSeenByTwoSensorsIsOneIncidentNamingBoth() throws {
        let cluster = try #require(PGCluster.shared)
        let dir = try scratchFolder()
        defer { try? FileManager.default.removeItem(at: dir) }
        let demo = capturesFolder.appendingPathComponent("demo.pcap").path
        // The VPN sensor sees the C2 traffic, the DMZ sensor the rest.
        let vpn = dir.appendingPathComponent("vpn.pcap").path, dmz = dir.appendingPathComponent("dmz.pcap").path
        #expect(try run("/usr/bin/tcpdump", ["-r", demo, "-w", vpn, "host 203.0.113.66"]).status == 0)
        #expect(try run("/usr/bin/tcpdump", ["-r", demo, "-w", dmz, "not host 203.0.113.66"]).status == 0)
        let url = try cluster.newDatabase()
        let sensors = try [("vpn-sensor", vpn), ("dmz-sensor", dmz)].map { name, capture in
            try Running(["replay", "--config", try sensorConfig(name, in: dir), "--rules", shippedRules, "--store", url,
                         "--spool", dir.appendingPathComponent("\(name).spool").path, "--eve", dir.appendingPathComponent("\(name).json").path, capture])
        }
        for s in sensors {
            let r = s.wait()
            #expect(r.status == 0, "\(r.err)")
        }
        let c = try hnsensor(["correlate", "--config", shippedConfig, "--rules", shippedRules, "--store", url, "--once"])
        #expect(c.status == 0, "\(c.err)")
        let list = try hnsensor(["incidents", "list", "--store", url, "--format", "json"])
        let incidents = try #require(try JSONSerialization.jsonObject(with: Data(list.out.utf8)) as? [[String: Any]])
        let chains = incidents.filter { $0["rule"] as? String == "hn-kill-chain" }
        #expect(chains.count == 1)
        #expect(chains.first?["sensors"] as? [String] == ["dmz-sensor", "vpn-sensor"])
        // The same incidents as one sensor seeing everything.
        let whole = try cluster.newDatabase()
        let one = try hnsensor(["replay", "--config", shippedConfig, "--rules", shippedRules, "--store", whole,
                                "--spool", dir.appendingPathComponent("whole.spool").path, "--eve", dir.appendingPathComponent("w.json").path, demo])
        #expect(one.status == 0, "\(one.err)")
        #expect(try hnsensor(["correlate", "--config", shippedConfig, "--rules", shippedRules, "--store", whole, "--once"]).status == 0)
        #expect(try facts(url) == facts(whole))
    }

    @Test func theDatabaseStoppedInTheMiddleOfAReplayLosesNoAlertAndDoublesNone() throws {
        let cluster = try PGCluster()
        defer { cluster.destroy() }
        let dir = try scratchFolder()
        defer { try? FileManager.default.removeItem(at: dir) }
        let capture = dir.appendingPathComponent("flows.pcap")
        var bytes: [UInt8] = []
        let flows = 6000
        _ = BenchFlows.write(count: flows) { bytes += $0 }
        try Data(bytes).write(to: capture)
        let rules = dir.appendingPathComponent("syn.rules").path
        try "alert tcp any any -> any any (msg:\"TEST SYN\"; flags:S; classtype:misc-activity; sid:9990001; rev:1;)\n"
            .write(toFile: rules, atomically: true, encoding: .utf8)
        let url = try cluster.newDatabase()
        let replay = try Running(["replay", "--rules", rules, "--store", url, "--spool", dir.appendingPathComponent("spool.db").path,
                                  "--workers", "1", "--drain-timeout", "120", capture.path])
        // Wait for the first alerts to arrive, then take the database away for two seconds.
        var stored = 0
        for _ in 0..<600 where stored == 0 {
            stored = Int((try? cluster.scalar(url.databaseName, "SELECT count(*) FROM alerts")) ?? "") ?? 0
            if stored == 0 { usleep(20_000) }
        }
        try cluster.stop(immediate: true)
        sleep(2)
        try cluster.start()
        let r = replay.wait()
        #expect(r.status == 0, "\(r.err)")
        #expect(r.out.contains("central store: "))
        #expect(stored > 0 && stored < flows, "the database went away after \(stored) of \(flows) alerts")
        #expect(try cluster.scalar(url.databaseName, "SELECT count(*) FROM alerts") == "\(flows)")
        #expect(try cluster.scalar(url.databaseName, "SELECT count(DISTINCT (sensor, source, seq)) FROM alerts") == "\(flows)")
    }

    @Test func aSensorStartedWhileTheDatabaseIsAwayForwardsItsSpoolWhenItComesBack() throws {
        let cluster = try PGCluster()
        defer { cluster.destroy() }
        let dir = try scratchFolder()
        defer { try? FileManager.default.removeItem(at: dir) }
        let url = try StoreURL(parsing: try cluster.newDatabase())
        try cluster.stop()
        var settings = CentralForwarder.Settings(url: url, spoolPath: dir.appendingPathComponent("spool.db").path, spoolMax: 1 << 30, sensorName: "s1")
        settings.batch = 50
        let forwarder = try CentralForwarder(settings: settings)
        defer { forwarder.stop() }
        forwarder.source = "t.pcap"
        for i in 0..<300 {
            forwarder.add(testAlert(seconds: Int64(i)))
            forwarder.afterPacket()
        }
        #expect(!forwarder.drain(timeout: 1))
        let waiting = forwarder.snapshot()
        #expect(waiting.spoolAlerts == 300 && waiting.forwarded == 0 && waiting.failures > 0 && !waiting.connected)
        try cluster.start()
        #expect(forwarder.drain(timeout: 30))
        let done = forwarder.snapshot()
        #expect(done.forwarded == 300 && done.spoolAlerts == 0 && done.dropped == 0 && done.connected)
        #expect(try cluster.scalar(url.database, "SELECT count(DISTINCT seq) FROM alerts") == "300")
    }

    @Test func aCorrelatorKilledAnywhereAndRestartedLosesAndDoublesNoIncident() throws {
        let cluster = try #require(PGCluster.shared)
        let dir = try scratchFolder()
        defer { try? FileManager.default.removeItem(at: dir) }
        let config = try SensorConfig.load(path: shippedConfig)
        let captures = ["attacks", "demo", "revisits"].map { capturesFolder.appendingPathComponent("\($0).pcap").path }
        let killed = try cluster.newDatabase(), reference = try cluster.newDatabase()
        for (i, url) in [killed, reference].enumerated() {
            for (n, capture) in captures.enumerated() {
                try replayCentral([capture], url: try StoreURL(parsing: url), config: config, spool: dir.appendingPathComponent("s\(i)-\(n).db").path,
                                  name: "sensor-\(n)")
            }
        }
        _ = try correlateOnce(try StoreURL(parsing: reference), config: config)
        // Small commits: many to land in.
        let lateConfig = try sensorConfig("correlator", in: dir, lateness: "10m")
        var random = SystemRandomNumberGenerator()
        for _ in 0..<6 {
            let c = try Running(["correlate", "--config", lateConfig, "--rules", shippedRules, "--store", killed, "--read-batch", "7", "--commit-batch", "3", "--idle", "0.2"])
            usleep(UInt32.random(in: 50_000...700_000, using: &random))
            c.kill()
            _ = c.wait()
        }
        let last = try hnsensor(["correlate", "--config", shippedConfig, "--rules", shippedRules, "--store", killed, "--once"])
        #expect(last.status == 0, "\(last.err)")
        let got = try facts(killed), expected = try facts(reference)
        #expect(got == expected, "only after kills: \(got.subtracting(expected)); only in one run: \(expected.subtracting(got))")
        let db = killed.databaseName
        #expect(try cluster.scalar(db, "SELECT count(*) FROM alert_events") == cluster.scalar(db, "SELECT count(*) FROM alerts"))
        #expect(try cluster.scalar(db, "SELECT count(*) FROM audit WHERE action = 'opened'") == cluster.scalar(db, "SELECT count(*) FROM incidents"))
    }

    @Test func threeSensorsAndACorrelatorKilledAtRandomEndWithTheIncidentsOfOneQuietRun() throws {
        let cluster = try #require(PGCluster.shared)
        let dir = try scratchFolder()
        defer { try? FileManager.default.removeItem(at: dir) }
        let captures = ["attacks", "demo", "upgrades"].map { capturesFolder.appendingPathComponent("\($0).pcap").path }
        let url = try cluster.newDatabase(), reference = try cluster.newDatabase()
        func sensors(_ store: String, _ tag: String) throws -> [Running] {
            try captures.enumerated().map { n, capture in
                try Running(["replay", "--config", try sensorConfig("sensor-\(n)", in: dir, lateness: "24h"), "--rules", shippedRules, "--store", store,
                             "--spool", dir.appendingPathComponent("\(tag)-\(n).spool").path, "--eve", dir.appendingPathComponent("\(tag)-\(n).json").path,
                             capture])
            }
        }
        // Concurrently: three sensors, and correlators (the second waits for the first's lease)
        // killed at random while the sensors write.
        let running = try sensors(url, "k")
        // A sensor the correlator has not heard from is not waited for (README): start the
        // correlators once each sensor has stored alerts, while they go on writing.
        for _ in 0..<1000 where (try? cluster.scalar(url.databaseName, "SELECT count(DISTINCT sensor) FROM alerts")) != "3" { usleep(5_000) }
        var random = SystemRandomNumberGenerator()
        let lateConfig = try sensorConfig("correlator", in: dir, lateness: "10m")
        for _ in 0..<4 {
            let a = try Running(["correlate", "--config", lateConfig, "--rules", shippedRules, "--store", url, "--read-batch", "5", "--commit-batch", "4", "--idle", "30"])
            let b = try Running(["correlate", "--config", lateConfig, "--rules", shippedRules, "--store", url, "--read-batch", "5", "--commit-batch", "4", "--idle", "30"])
            usleep(UInt32.random(in: 100_000...600_000, using: &random))
            a.kill()
            usleep(UInt32.random(in: 100_000...400_000, using: &random))
            b.kill()
            _ = a.wait()
            _ = b.wait()
        }
        for s in running {
            let r = s.wait()
            #expect(r.status == 0, "\(r.err)")
        }
        #expect(try hnsensor(["correlate", "--config", lateConfig, "--rules", shippedRules, "--store", url, "--once"]).status == 0)
        for s in try sensors(reference, "r") { #expect(s.wait().status == 0) }
        #expect(try hnsensor(["correlate", "--config", lateConfig, "--rules", shippedRules, "--store", reference, "--once"]).status == 0)
        let got = try facts(url), expected = try facts(reference)
        #expect(!expected.isEmpty)
        #expect(got == expected, "only after kills: \(got.subtracting(expected)); only in the quiet run: \(expected.subtracting(got))")
        let db = url.databaseName
        #expect(try cluster.scalar(db, "SELECT count(*) FROM alert_events") == cluster.scalar(db, "SELECT count(*) FROM alerts"))
    }
}

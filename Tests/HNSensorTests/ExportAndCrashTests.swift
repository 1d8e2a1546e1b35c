import Foundation
import HNCapGen
import HNCorrelate
import HNStore
import HNReport
import Testing
@testable import HNSensor

/// Runs a program, returning its exit status and standard output.
@discardableResult
func run(_ program: String, _ arguments: [String], stdout: URL? = nil) throws -> (Int32, String) {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: program)
    p.arguments = arguments
    let pipe = Pipe()
    if let stdout {
        _ = FileManager.default.createFile(atPath: stdout.path, contents: nil)
        p.standardOutput = try FileHandle(forWritingTo: stdout)
    } else {
        p.standardOutput = pipe
    }
    p.standardError = FileHandle.nullDevice
    try p.run()
    let data = stdout == nil ? pipe.fileHandleForReading.readDataToEndOfFile() : Data()
    p.waitUntilExit()
    return (p.terminationStatus, String(decoding: data, as: UTF8.self))
}

/// The hnsensor binary built with the tests.
let hnsensorBinary: String? = {
    for dir in [".build/debug", ".build/x86_64-unknown-linux-gnu/debug", ".build/release"] {
        let path = repositoryRoot.appendingPathComponent(dir).appendingPathComponent("hnsensor").path
        if FileManager.default.isExecutableFile(atPath: path) { return path }
    }
    return nil
}()

@Suite struct ExportTests {
    func material(_ rule: String) throws -> IncidentExport.Material {
        let dir = try scratchFolder()
        let (_, _, storePath) = try replayWithShippedRules(capturesFolder.appendingPathComponent("attacks.pcap").path, in: dir)
        let store = try IncidentStore(path: storePath)
        let incident = try #require(try store.incidents().first { $0.ruleID == rule })
        let config = try SensorConfig.load(path: shippedConfig)
        return IncidentExport.Material(incident: incident, events: try store.events(incident: incident.id),
                                       alerts: try store.alerts(incident: incident.id), audit: try store.audit(incident: incident.id),
                                       sensorName: config.sensorName, homeNet: config.homeNet)
    }

    /// The STIX bundle passes the OASIS validator (stix2-validator, strict), when `make deps`
    /// installed it.
    @Test(arguments: ["hn-malware-c2", "hn-recon-scanner", "hn-indicator"])
    func stixBundlesPassTheOASISValidator(rule: String) throws {
        let validator = repositoryRoot.appendingPathComponent(".build/venv/bin/stix2_validator").path
        let bundle = IncidentExport.stix(try material(rule))
        let object = try #require(try JSONSerialization.jsonObject(with: Data(bundle.utf8)) as? [String: Any])
        let types = Set((object["objects"] as? [[String: Any]] ?? []).compactMap { $0["type"] as? String })
        #expect(types.isSuperset(of: ["identity", "incident", "observed-data", "indicator", "sighting"]))
        guard FileManager.default.isExecutableFile(atPath: validator) else {
            print("stixBundlesPassTheOASISValidator: skipped the OASIS validator: \(validator) is missing (run `make deps`)")
            return
        }
        let file = try scratchFolder().appendingPathComponent("bundle.json")
        try Data(bundle.utf8).write(to: file)
        let (status, output) = try run(validator, ["--strict", file.path])
        #expect(status == 0, "\(output)")
        #expect(output.contains("STIX JSON: Valid"))
    }

    /// The MISP event carries the fields of MISP's event schema, the RSIT class as an `rsit:`
    /// machine tag, and marks only external addresses for IDS use.
    @Test func mispEventFollowsTheEventSchema() throws {
        let m = try material("hn-malware-c2")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(IncidentExport.misp(m).utf8)) as? [String: Any])
        let event = try #require(object["Event"] as? [String: Any])
        for key in ["uuid", "info", "date", "timestamp", "threat_level_id", "analysis", "distribution", "Attribute", "Tag", "Orgc"] {
            #expect(event[key] != nil, "missing \(key)")
        }
        #expect((event["uuid"] as? String).flatMap(UUID.init(uuidString:)) != nil)
        #expect((event["date"] as? String)?.count == 10)
        #expect(["1", "2", "3", "4"].contains(event["threat_level_id"] as? String ?? ""))
        let tags = (event["Tag"] as? [[String: Any]] ?? []).compactMap { $0["name"] as? String }
        #expect(tags.contains("rsit:malicious-code=\"infected-system\""))
        let attributes = event["Attribute"] as? [[String: Any]] ?? []
        let types = ["ip-src": "Network activity", "ip-dst": "Network activity", "text": "Other"]
        for a in attributes {
            let type = a["type"] as? String ?? ""
            #expect(types[type] == a["category"] as? String, "\(a)")
            #expect((a["uuid"] as? String).flatMap(UUID.init(uuidString:)) != nil)
        }
        let ids = attributes.filter { $0["to_ids"] as? Bool == true }.compactMap { $0["value"] as? String }
        #expect(ids == ["203.0.113.66"])
    }

    @Test func notificationReportAnswersTheReportingForm() throws {
        let report = IncidentExport.report(try material("hn-data-leak"))
        for heading in ["# Incident notification:", "Reported by", "## What happened", "## When", "## Systems and members affected",
                        "## Impact", "## Actions taken"] {
            #expect(report.contains(heading), "missing \(heading)")
        }
        #expect(report.contains("Hopital Demo Nord"))
        #expect(report.contains("Patient care: at stake"))
    }

    @Test func exportsAreReproducible() throws {
        let a = try material("hn-indicator"), b = try material("hn-indicator")
        #expect(IncidentExport.stix(a) == IncidentExport.stix(b))
        #expect(IncidentExport.misp(a) == IncidentExport.misp(b))
    }
}

/// Kills a replay with SIGKILL at seeded random moments: after each kill the store opens,
/// passes `PRAGMA integrity_check`, and holds every incident EVE reported before the kill
/// (EVE reports an incident only once it is committed).
@Suite(.serialized) struct CrashConsistencyTests {
    @Test func sigkillDuringReplayLosesNoReportedIncident() throws {
        guard let binary = hnsensorBinary else {
            Issue.record("the hnsensor binary is not built (swift build)")
            return
        }
        let dir = try scratchFolder()
        // A storm: a rule alerting on every TCP SYN, one incident per target.
        let rules = dir.appendingPathComponent("rules")
        try FileManager.default.createDirectory(at: rules.appendingPathComponent("signatures"), withIntermediateDirectories: true)
        try FileManager.default.createDirectory(at: rules.appendingPathComponent("correlation"), withIntermediateDirectories: true)
        try "alert tcp any any -> any any (msg:\"storm\"; flags:S; classtype:attempted-recon; sid:1; rev:1;)\n"
            .write(to: rules.appendingPathComponent("signatures/storm.rules"), atomically: true, encoding: .utf8)
        try """
            - id: storm
              title: Storm
              type: event_count
              selection: {sid: [1]}
              group-by: [dest_ip]
              timespan: 1h
              condition: {gte: 1}
              classification: {taxonomy: information-gathering, type: scanner}
            """.write(to: rules.appendingPathComponent("correlation/storm.yaml"), atomically: true, encoding: .utf8)
        let capture = dir.appendingPathComponent("storm.pcap")
        var bytes: [UInt8] = []
        _ = BenchCapture.write(targetBytes: 24 << 20) { bytes += $0 }
        try Data(bytes).write(to: capture)

        var random = SeededRandom(seed: 0x5EED)
        let kills = 20
        var checked = 0
        for round in 0..<kills {
            let store = dir.appendingPathComponent("store-\(round).db").path
            let eve = dir.appendingPathComponent("eve-\(round).json")
            let p = Process()
            p.executableURL = URL(fileURLWithPath: binary)
            p.arguments = ["replay", "--rules", rules.path, "--store", store, "--eve", "-", capture.path]
            _ = FileManager.default.createFile(atPath: eve.path, contents: nil)
            p.standardOutput = try FileHandle(forWritingTo: eve)
            p.standardError = FileHandle.nullDevice
            try p.run()
            usleep(useconds_t(100_000 + random.next() % 1_400_000))
            kill(p.processIdentifier, SIGKILL)
            p.waitUntilExit()
            guard FileManager.default.fileExists(atPath: store) else { continue }
            let opened = try IncidentStore(path: store)
            #expect(try opened.integrityCheck() == "ok")
            let stored = Dictionary(uniqueKeysWithValues: try opened.incidents().map { ($0.id, $0.alertCount) })
            let text = (try? String(contentsOf: eve, encoding: .utf8)) ?? ""
            for line in text.split(separator: "\n") where line.contains("\"event_type\":\"incident\"") {
                guard let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
                      let incident = object["incident"] as? [String: Any], let id = incident["id"] as? Int else { continue }  // a torn last line
                let count = incident["alert_count"] as? Int ?? 0
                #expect((stored[Int64(id)] ?? -1) >= count, "incident \(id) reported with \(count) alerts, stored: \(String(describing: stored[Int64(id)]))")
                checked += 1
            }
            // The store takes a new replay after the crash, and no incident is duplicated.
            let (status, _) = try run(binary, ["replay", "--rules", rules.path, "--store", store, capture.path])
            #expect(status == 0)
            let after = try IncidentStore(path: store).incidents()
            #expect(Set(after.map(\.groupKey)).count == after.count)
        }
        print("sigkillDuringReplayLosesNoReportedIncident: \(kills) kills, \(checked) reported incidents checked against the store")
    }
}

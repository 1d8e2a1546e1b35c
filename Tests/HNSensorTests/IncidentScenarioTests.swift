import Foundation
import HNCapGen
import HNCorrelate
import HNStore
import Testing
@testable import HNSensor

let shippedConfig = repositoryRoot.appendingPathComponent("Config/hnsensor.yaml").path
let shippedRules = repositoryRoot.appendingPathComponent("Rules").path

/// Replays a capture with the shipped configuration and rules into a fresh store.
func replayWithShippedRules(_ pcap: String, in dir: URL) throws -> (summary: ReplaySummary, eve: [[String: Any]], store: String) {
    let config = try SensorConfig.load(path: shippedConfig)
    let eve = dir.appendingPathComponent("eve.json").path
    let store = dir.appendingPathComponent("incidents.db").path
    let summary = try Replay.run(files: [pcap], config: config, evePath: eve, rulesPath: shippedRules, storePath: store)
    return (summary, try readEVE(eve), store)
}

@Suite struct IncidentScenarioTests {
    /// Every labelled capture raises exactly the alerts its label lists (sid, source,
    /// destination, count; nothing more) and opens exactly the incidents it lists (rule,
    /// RSIT class, priority, sources, targets). The benign capture raises and opens nothing.
    @Test(arguments: ReplayTests.scenarios)
    func alertsAndIncidentsMatchTheLabels(scenario: String) throws {
        let dir = try scratchFolder()
        let pcap = capturesFolder.appendingPathComponent("\(scenario).pcap").path
        let (summary, eve, storePath) = try replayWithShippedRules(pcap, in: dir)
        let labels = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: capturesFolder.appendingPathComponent("\(scenario).labels.json"))) as? [String: Any])

        var expectedAlerts: [String: Int] = [:]
        for a in labels["alerts"] as? [[String: Any]] ?? [] {
            expectedAlerts["\(a["sid"]!) \(a["src_ip"]!) -> \(a["dest_ip"]!)", default: 0] += a["count"] as? Int ?? 0
        }
        var alerts: [String: Int] = [:]
        for r in eve where r["event_type"] as? String == "alert" {
            let a = r["alert"] as? [String: Any] ?? [:]
            alerts["\(a["signature_id"]!) \(r["src_ip"]!) -> \(r["dest_ip"]!)", default: 0] += 1
        }
        #expect(alerts == expectedAlerts)

        func key(_ rule: Any?, _ taxonomy: Any?, _ type: Any?, _ priority: Any?, _ sources: Any?, _ targets: Any?) -> String {
            let s = (sources as? [String] ?? []).sorted().joined(separator: ","), t = (targets as? [String] ?? []).sorted().joined(separator: ",")
            return "\(rule ?? "") \(taxonomy ?? "")/\(type ?? "") \(priority ?? "") \(s) -> \(t)"
        }
        let expectedIncidents = (labels["incidents"] as? [[String: Any]] ?? []).map {
            key($0["rule"], $0["taxonomy"], $0["type"], $0["priority"], $0["sources"], $0["targets"])
        }.sorted()
        let store = try IncidentStore(path: storePath)
        let stored = try store.incidents().map { key($0.ruleID, $0.taxonomy, $0.type, $0.priorityName, $0.sources, $0.targets) }.sorted()
        #expect(stored == expectedIncidents)
        #expect(summary.incidents == UInt64(expectedIncidents.count))
        // The EVE incident records name the same incidents, in their final state last.
        var last: [Int: [String: Any]] = [:]
        for r in eve where r["event_type"] as? String == "incident" {
            let i = r["incident"] as? [String: Any] ?? [:]
            last[i["id"] as? Int ?? 0] = i
        }
        let fromEVE = last.values.map {
            key($0["rule"], ($0["classification"] as? [String: Any])?["taxonomy"], ($0["classification"] as? [String: Any])?["type"],
                $0["priority"], $0["sources"], $0["targets"])
        }.sorted()
        #expect(fromEVE == expectedIncidents)
    }

    /// A store changes nothing about what is found: the same incidents (rule, class,
    /// priority, hosts, alert and event counts) with and without one, with 1 and 2 workers,
    /// and the store holds every alert the replay raised.
    @Test(arguments: ReplayTests.scenarios)
    func theSameIncidentsWithAndWithoutAStore(scenario: String) throws {
        let config = try SensorConfig.load(path: shippedConfig)
        let pcap = capturesFolder.appendingPathComponent("\(scenario).pcap").path
        func key(_ i: Incident) -> String {
            "\(i.id) \(i.ruleID) \(i.taxonomy)/\(i.type) \(i.priorityName) \(i.sources) -> \(i.targets) \(i.alertCount)/\(i.eventCount) \(i.related)"
        }
        let memory = try Replay.run(files: [pcap], config: config, evePath: nil, rulesPath: shippedRules)
        for workers in [1, 2] {
            let store = try scratchFolder().appendingPathComponent("incidents.db").path
            let stored = try Replay.run(files: [pcap], config: config, evePath: nil, rulesPath: shippedRules, storePath: store, workers: workers)
            #expect(stored.incidentList.map(key) == memory.incidentList.map(key), "\(workers) workers")
            let s = try IncidentStore(path: store)
            #expect(try s.incidents().map(key) == memory.incidentList.map(key), "\(workers) workers")
            #expect(try s.stats().alerts == Int(memory.alerts))
        }
    }

    /// A benign morning of about 440 hosts (mail relaying with STARTTLS, resolvers recursing,
    /// lab uploads and IT-provider monitoring every 60 s, SMB, NTP, admin SSH) opens no
    /// incident and raises no detector alert with the shipped Config/ and Rules/, with 1 and
    /// 2 workers; every detector's counters are read, not only brute force's.
    @Test func aBenignDayOpensNoIncidentAndRaisesNoAlert() throws {
        let pcap = capturesFolder.appendingPathComponent("benign-day.pcap").path
        let labels = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: capturesFolder.appendingPathComponent("benign-day.labels.json"))) as? [String: Any])
        let flows = labels["flows"] as? [[String: Any]] ?? []
        let hosts = Set(flows.flatMap { [$0["src_ip"] as? String ?? "", $0["dest_ip"] as? String ?? ""] })
        #expect(hosts.count >= 440)
        #expect(flows.filter { $0["app_proto_orig"] as? String == "smtp" }.count == 40)
        #expect(flows.allSatisfy { $0["label"] as? String == "benign" })
        let config = try SensorConfig.load(path: shippedConfig)
        for workers in [1, 2] {
            let dir = try scratchFolder()
            let store = dir.appendingPathComponent("incidents.db").path
            let eve = dir.appendingPathComponent("eve.json").path
            let summary = try Replay.run(files: [pcap], config: config, evePath: eve, rulesPath: shippedRules, storePath: store, workers: workers)
            let alerts = try readEVE(eve).filter { $0["event_type"] as? String == "alert" }
            #expect(alerts.isEmpty, "\(workers) workers: \(alerts.prefix(3))")
            #expect(summary.incidents == 0)
            #expect(try IncidentStore(path: store).stats().incidents == 0)
            #expect(summary.stats.value("anomaly.alerts") == 0)
        }
    }

    /// No behaviour detector fires on the benign traffic of any capture.
    @Test(arguments: ReplayTests.scenarios)
    func detectorsStayQuietOnBenignFlows(scenario: String) throws {
        let dir = try scratchFolder()
        let (_, eve, _) = try replayWithShippedRules(capturesFolder.appendingPathComponent("\(scenario).pcap").path, in: dir)
        let labels = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: capturesFolder.appendingPathComponent("\(scenario).labels.json"))) as? [String: Any])
        var benignHosts = Set<String>(), attackHosts = Set<String>()
        for f in labels["flows"] as? [[String: Any]] ?? [] {
            let hosts = [f["src_ip"] as? String ?? "", f["dest_ip"] as? String ?? ""]
            if f["label"] as? String == "benign" { benignHosts.formUnion(hosts) } else { attackHosts.formUnion(hosts) }
        }
        let onlyBenign = benignHosts.subtracting(attackHosts)
        let noisy = eve.filter { r in
            r["event_type"] as? String == "alert" && (r["alert"] as? [String: Any])?["origin"] != nil
                && (onlyBenign.contains(r["src_ip"] as? String ?? "") || onlyBenign.contains(r["dest_ip"] as? String ?? ""))
        }
        #expect(noisy.isEmpty, "\(noisy.prefix(3))")
    }

    /// The same capture gives byte-identical EVE output, incidents included.
    @Test func replayWithIncidentsIsDeterministic() throws {
        let pcap = capturesFolder.appendingPathComponent("attacks.pcap").path
        let a = try scratchFolder(), b = try scratchFolder()
        _ = try replayWithShippedRules(pcap, in: a)
        _ = try replayWithShippedRules(pcap, in: b)
        let x = try Data(contentsOf: a.appendingPathComponent("eve.json")), y = try Data(contentsOf: b.appendingPathComponent("eve.json"))
        #expect(x == y)
    }

    /// A second replay into the same store grows the open incidents instead of opening new
    /// ones, and links a new incident to a closed one of the same rule and group.
    @Test func aSecondReplayGrowsOpenIncidentsAndLinksClosedOnes() throws {
        let dir = try scratchFolder()
        let pcap = capturesFolder.appendingPathComponent("attacks.pcap").path
        let (first, _, storePath) = try replayWithShippedRules(pcap, in: dir)
        let store = try IncidentStore(path: storePath)
        let before = try store.incidents()
        let scan = try #require(before.first { $0.ruleID == "hn-recon-scanner" && $0.sources == ["198.51.100.50"] })
        _ = try store.update(scan.id, status: .qualification, assignee: nil, note: nil, actor: "test", at: 0)
        _ = try store.update(scan.id, status: .closed, assignee: nil, note: nil, actor: "test", at: 0)
        let config = try SensorConfig.load(path: shippedConfig)
        let second = try Replay.run(files: [pcap], config: config, evePath: nil, rulesPath: shippedRules, storePath: storePath)
        let after = try store.incidents()
        #expect(after.count == before.count + 1)
        let reopened = try #require(after.first { $0.related == [scan.id] })
        #expect(reopened.ruleID == "hn-recon-scanner")
        for incident in before where incident.id != scan.id {
            let grown = try #require(after.first { $0.id == incident.id })
            #expect(grown.alertCount == 2 * incident.alertCount)
        }
        #expect(second.alerts == first.alerts)
        #expect(try store.integrityCheck() == "ok")
    }

    /// The kill chain escalates: it names the incidents of its stages as related.
    @Test func theDemoKillChainLinksTheIncidentsItEscalates() throws {
        let dir = try scratchFolder()
        let (_, _, storePath) = try replayWithShippedRules(capturesFolder.appendingPathComponent("demo.pcap").path, in: dir)
        let incidents = try IncidentStore(path: storePath).incidents()
        let chain = try #require(incidents.first { $0.ruleID == "hn-kill-chain" })
        let related = Set(incidents.filter { chain.related.contains($0.id) }.map(\.ruleID))
        #expect(related.isSuperset(of: ["hn-recon-scanner", "hn-web-exploit"]))
        #expect(chain.reportable)
        #expect(chain.patientCare)
    }
}

import Foundation
import HNCapGen
import Testing
@testable import HNSensor

@Suite struct ReplayTests {
    static let scenarios = ["benign-small", "demo", "protocols", "attacks", "upgrades", "benign-day", "revisits"]

    /// Replaying a generated capture reports exactly the flows its generator labelled:
    /// tuple, packets and bytes per direction, flow state and TCP state.
    @Test(arguments: scenarios)
    func flowRecordsMatchTheGroundTruthLabels(scenario: String) throws {
        let dir = try scratchFolder()
        let eve = dir.appendingPathComponent("eve.json").path
        let pcap = capturesFolder.appendingPathComponent("\(scenario).pcap").path
        let summary = try Replay.run(files: [pcap], config: SensorConfig(), evePath: eve)
        let records = try readEVE(eve)
        let flows = records.filter { $0["event_type"] as? String == "flow" }.map(FlowFacts.init(eve:))
        let labelsData = try Data(contentsOf: capturesFolder.appendingPathComponent("\(scenario).labels.json"))
        let labels = try #require(try JSONSerialization.jsonObject(with: labelsData) as? [String: Any])
        let expected = (labels["flows"] as? [[String: Any]] ?? []).map(FlowFacts.init(label:))
        #expect(flows.count == expected.count)
        let missing = Set(expected).subtracting(flows), extra = Set(flows).subtracting(expected)
        #expect(missing.isEmpty, "labelled but not reported: \(missing.sorted { $0.description < $1.description }.prefix(5))")
        #expect(extra.isEmpty, "reported but not labelled: \(extra.sorted { $0.description < $1.description }.prefix(5))")
        // Every application-layer record the generator expects is written exactly once, on its
        // flow, with the expected values.
        for label in labels["flows"] as? [[String: Any]] ?? [] {
            let ports = Set([label["src_port"] as? Int ?? -1, label["dest_port"] as? Int ?? -1])
            let hosts = Set([label["src_ip"] as? String ?? "", label["dest_ip"] as? String ?? ""])
            for expected in label["records"] as? [[String: Any]] ?? [] {
                let matching = records.filter { r in
                    Set([r["src_port"] as? Int ?? -2, r["dest_port"] as? Int ?? -2]) == ports
                        && Set([r["src_ip"] as? String ?? "", r["dest_ip"] as? String ?? ""]) == hosts
                        && expected.allSatisfy { Conformance.equal(Conformance.value(r, $0.key), $0.value) }
                }
                #expect(matching.count == 1, "\(scenario): expected once, found \(matching.count): \(expected)")
            }
        }
        #expect(summary.packets == UInt64(labels["packets"] as? Int ?? -1))
        #expect(summary.rejected == 0)
        #expect(summary.flows == UInt64(expected.count))
        // The last record is the stats record, and its counters agree with the summary.
        let stats = try #require(records.last?["stats"] as? [String: Any])
        let decoder = try #require(stats["decoder"] as? [String: Any])
        #expect(decoder["pkts"] as? Int == Int(summary.packets))
    }

    @Test func replayIsByteIdenticalRunToRun() throws {
        let dir = try scratchFolder()
        let pcap = capturesFolder.appendingPathComponent("demo.pcap").path
        let a = dir.appendingPathComponent("a.json").path, b = dir.appendingPathComponent("b.json").path
        _ = try Replay.run(files: [pcap], config: SensorConfig(), evePath: a)
        _ = try Replay.run(files: [pcap], config: SensorConfig(), evePath: b)
        #expect(try Data(contentsOf: URL(fileURLWithPath: a)) == Data(contentsOf: URL(fileURLWithPath: b)))
    }

    /// The same packets in pcap (µs), pcap (ns) and pcapng give the same EVE output.
    @Test func captureFormatDoesNotChangeTheOutput() throws {
        let dir = try scratchFolder()
        let scenario = Scenarios.benignSmall()
        var outputs: [Data] = []
        for (name, format) in [("micro.pcap", CaptureWriter.Format.pcapMicro), ("nano.pcap", .pcapNano), ("ng.pcapng", .pcapng)] {
            let pcap = dir.appendingPathComponent(name)
            try Data(scenario.capture(format: format)).write(to: pcap)
            let eve = dir.appendingPathComponent(name + ".json").path
            _ = try Replay.run(files: [pcap.path], config: SensorConfig(), evePath: eve)
            outputs.append(try Data(contentsOf: URL(fileURLWithPath: eve)))
        }
        #expect(outputs[0] == outputs[1] && outputs[1] == outputs[2])
    }

    /// Captures/ holds exactly what the generator writes today.
    @Test(arguments: scenarios)
    func committedCapturesAreRegenerable(scenario: String) throws {
        let make = try #require(Scenarios.all[scenario])
        let s = make()
        let pcap = try Data(contentsOf: capturesFolder.appendingPathComponent("\(scenario).pcap"))
        let labels = try String(contentsOf: capturesFolder.appendingPathComponent("\(scenario).labels.json"), encoding: .utf8)
        #expect(pcap == Data(s.capture()), "run `make captures` and commit the result")
        #expect(labels == s.labelsJSON())
    }

    /// Rules on TLS buffers and `alert tls` headers apply to sessions upgraded with STARTTLS,
    /// AUTH TLS, STLS or a CONNECT tunnel, as on TLS from the first byte.
    @Test func tlsRulesApplyToUpgradedSessions() throws {
        let dir = try scratchFolder()
        let rules = dir.appendingPathComponent("tls.rules")
        try """
        alert tls any any -> any any (msg:"healthnet SNI"; tls.sni; content:".healthnet.lu"; endswith; sid:1;)
        alert tls any any -> any any (msg:"update SNI"; tls.sni; content:"updates.example.com"; sid:2;)

        """.write(to: rules, atomically: true, encoding: .utf8)
        let eve = dir.appendingPathComponent("eve.json").path
        _ = try Replay.run(files: [capturesFolder.appendingPathComponent("upgrades.pcap").path], config: SensorConfig(), evePath: eve,
                           rulesPath: rules.path)
        var hits: [String] = []
        for r in try readEVE(eve) where r["event_type"] as? String == "alert" {
            let sid = (r["alert"] as? [String: Any])?["signature_id"] as? Int ?? 0
            hits.append("\(sid) \(r["dest_port"] as? Int ?? 0) \(r["app_proto"] as? String ?? "-")")
        }
        // SMTP relay (25), FTP (21), IMAP (143), POP3 (110) for the first rule; the CONNECT
        // tunnel to the update server (3128) for the second.
        #expect(hits.sorted() == ["1 110 tls", "1 143 tls", "1 21 tls", "1 25 tls", "2 3128 tls"])
    }

    @Test func missingCaptureFailsBeforeAnyOutput() throws {
        let dir = try scratchFolder()
        let eve = dir.appendingPathComponent("eve.json").path
        let good = capturesFolder.appendingPathComponent("benign-small.pcap").path
        #expect {
            _ = try Replay.run(files: [good, dir.appendingPathComponent("absent.pcap").path], config: SensorConfig(), evePath: eve)
        } throws: { error in
            "\(error)".contains("absent.pcap")
        }
        #expect(!FileManager.default.fileExists(atPath: eve))
        #expect(!FileManager.default.fileExists(atPath: eve + ".tmp"))
    }

    @Test func unwritableEVEFailsWithItsPath() throws {
        let good = capturesFolder.appendingPathComponent("benign-small.pcap").path
        #expect {
            _ = try Replay.run(files: [good], config: SensorConfig(), evePath: "/nonexistent-dir/eve.json")
        } throws: { error in
            "\(error)".hasPrefix("/nonexistent-dir/eve.json:")
        }
    }

    @Test func multipleCapturesAreOneStream() throws {
        let pcap = capturesFolder.appendingPathComponent("benign-small.pcap").path
        let one = try Replay.run(files: [pcap], config: SensorConfig(), evePath: nil)
        let two = try Replay.run(files: [pcap, pcap], config: SensorConfig(), evePath: nil)
        #expect(two.packets == 2 * one.packets)
        #expect(two.files == 2)
    }

    /// Alerts carry no payload unless `eve.payload` is set (health data stays out of logs).
    @Test func alertPayloadIsOffByDefaultAndOnWhenConfigured() throws {
        let dir = try scratchFolder()
        let pcap = capturesFolder.appendingPathComponent("demo.pcap").path
        let rules = repositoryRoot.appendingPathComponent("Rules").path
        let quiet = dir.appendingPathComponent("quiet.json").path, loud = dir.appendingPathComponent("loud.json").path
        let summary = try Replay.run(files: [pcap], config: SensorConfig(), evePath: quiet, rulesPath: rules)
        #expect(summary.alerts > 0)
        #expect(try readEVE(quiet).filter { $0["event_type"] as? String == "alert" }.allSatisfy { $0["payload"] == nil })
        var config = SensorConfig()
        config.eve.alertPayload = true
        config.eve.alertPayloadPrintable = true
        _ = try Replay.run(files: [pcap], config: config, evePath: loud, rulesPath: rules)
        let withPayload = try readEVE(loud).filter { $0["event_type"] as? String == "alert" && $0["payload"] != nil }
        #expect(!withPayload.isEmpty)
        let first = try #require(withPayload.first?["payload"] as? String)
        #expect(Data(base64Encoded: first) != nil)
        // With payloads, each alert says whether it matched a stream or transaction (1) or
        // the packet alone (0), as Suricata's `stream` field.
        let alerts = try readEVE(loud).filter { $0["event_type"] as? String == "alert" }
        #expect(alerts.allSatisfy { ($0["stream"] as? Int).map { [0, 1].contains($0) } ?? false })
        #expect(try readEVE(quiet).allSatisfy { $0["stream"] == nil })
    }

    @Test func flowMemcapIsHonouredAndEvictionsCounted() throws {
        var config = SensorConfig()
        config.flowMemcap = 64 * 200  // room for a few dozen flows
        let pcap = capturesFolder.appendingPathComponent("demo.pcap").path
        let summary = try Replay.run(files: [pcap], config: config, evePath: nil)
        let evicted = try #require(summary.stats.value("flow.evicted_memcap"))
        let peak = try #require(summary.stats.value("flow.peak_active"))
        let max = try #require(summary.stats.value("flow.max_flows"))
        #expect(evicted > 0)
        #expect(peak <= max)
    }
}

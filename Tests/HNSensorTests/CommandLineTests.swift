import Foundation
import Testing

/// Runs the hnsensor binary; returns exit status, standard output and standard error.
func hnsensor(_ arguments: [String], input: URL? = nil) throws -> (status: Int32, out: String, err: String) {
    let binary = try #require(hnsensorBinary, "the hnsensor binary is not built (swift build)")
    let p = Process()
    p.executableURL = URL(fileURLWithPath: binary)
    p.arguments = arguments
    if let input { p.standardInput = try FileHandle(forReadingFrom: input) }
    let out = Pipe(), err = Pipe()
    p.standardOutput = out
    p.standardError = err
    try p.run()
    let o = out.fileHandleForReading.readDataToEndOfFile(), e = err.fileHandleForReading.readDataToEndOfFile()
    p.waitUntilExit()
    return (p.terminationStatus, String(decoding: o, as: UTF8.self), String(decoding: e, as: UTF8.self))
}

@Suite(.serialized) struct CommandLineTests {
    func demoStore() throws -> String {
        let dir = try scratchFolder()
        let store = dir.appendingPathComponent("incidents.db").path
        let r = try hnsensor(["replay", "--config", shippedConfig, "--rules", shippedRules, "--eve", dir.appendingPathComponent("eve.json").path,
                              "--store", store, capturesFolder.appendingPathComponent("demo.pcap").path])
        #expect(r.status == 0, "\(r.err)")
        #expect(r.out.contains("PRI ID STATUS"))
        return store
    }

    /// `-` reads the capture from standard input, as tcpdump and libpcap do.
    @Test func replayReadsACaptureFromStandardInput() throws {
        let demo = capturesFolder.appendingPathComponent("demo.pcap")
        let piped = try hnsensor(["replay", "--workers", "1", "-"], input: demo)
        let named = try hnsensor(["replay", "--workers", "1", demo.path])
        #expect(piped.status == 0, "\(piped.err)")
        func counts(_ s: String) -> [String] { s.split(separator: "\n").filter { $0.hasPrefix("packets") || $0.hasPrefix("flows") }.map(String.init) }
        #expect(counts(piped.out) == counts(named.out) && counts(named.out).count == 2)
    }

    @Test func listAsJSONCarriesTheContractFieldsInPriorityOrder() throws {
        let store = try demoStore()
        let r = try hnsensor(["incidents", "list", "--store", store, "--format", "json"])
        #expect(r.status == 0)
        let list = try #require(try JSONSerialization.jsonObject(with: Data(r.out.utf8)) as? [[String: Any]])
        #expect(list.count == 6)
        for i in list {
            for key in ["id", "title", "priority", "priority_reason", "status", "classification", "first_seen", "last_seen", "sources",
                        "targets", "segments", "constituents", "alert_count", "event_count", "reportable"] {
                #expect(i[key] != nil, "missing \(key)")
            }
        }
        let priorities = list.compactMap { $0["priority"] as? String }
        #expect(priorities == priorities.sorted())
        let p2 = try hnsensor(["incidents", "list", "--store", store, "--priority", "P2", "--format", "json"])
        #expect((try JSONSerialization.jsonObject(with: Data(p2.out.utf8)) as? [Any])?.count == 1)
    }

    @Test func updatesFollowThePhasesAndRefuseOthersWithTheAllowedList() throws {
        let store = try demoStore()
        let bad = try hnsensor(["incidents", "update", "1", "--store", store, "--status", "closed"])
        #expect(bad.status == 1)
        #expect(bad.err == "hnsensor: error: incident 1: cannot go from new to closed (allowed: qualification, false-positive, duplicate)\n")
        let good = try hnsensor(["incidents", "update", "1", "--store", store, "--status", "qualification", "--assignee", "ana", "--actor", "ana"])
        #expect(good.status == 0)
        let show = try hnsensor(["incidents", "show", "1", "--store", store, "--format", "json"])
        let object = try #require(try JSONSerialization.jsonObject(with: Data(show.out.utf8)) as? [String: Any])
        let audit = object["audit"] as? [[String: Any]] ?? []
        #expect(audit.map { $0["action"] as? String } == ["opened", "status", "assign"])
        #expect(audit[1]["actor"] as? String == "ana")
        let unknown = try hnsensor(["incidents", "update", "1", "--store", store, "--status", "done"])
        #expect(unknown.status == 2)
        #expect(unknown.err.contains("unknown status 'done'"))
        let missing = try hnsensor(["incidents", "show", "99", "--store", store])
        #expect(missing.status == 1)
        #expect(missing.err.contains("incident 99 not found"))
    }

    @Test func storeStatsAndPurge() throws {
        let store = try demoStore()
        let stats = try hnsensor(["store", "stats", "--store", store])
        #expect(stats.out.contains("integrity         ok"))
        #expect(stats.out.contains("incidents         6"))
        // The demo's alerts are from 2026-11-02: nothing is older than 10,000 days.
        let kept = try hnsensor(["store", "purge", "--store", store, "--older-than", "10000"])
        #expect(kept.out.hasPrefix("purged 0 alerts"))
        let noStore = try hnsensor(["store", "stats", "--store", "/nonexistent/x.db"])
        #expect(noStore.status == 1)
        #expect(noStore.err == "hnsensor: error: /nonexistent/x.db: no such store\n")
    }

    @Test func evidenceExcerptsAreOffByDefaultAndEncryptedWhenOn() throws {
        let dir = try scratchFolder()
        let pcap = capturesFolder.appendingPathComponent("attacks.pcap").path
        // Default: no excerpt stored, no key file made.
        let plain = dir.appendingPathComponent("plain.db").path
        #expect(try hnsensor(["replay", "--rules", shippedRules, "--store", plain, pcap]).status == 0)
        #expect(!FileManager.default.fileExists(atPath: plain + ".key"))
        #expect(!(try hnsensor(["incidents", "show", "1", "--store", plain]).out.contains("payload:")))
        // On: sealed in the store, readable with the key, credentials redacted.
        let config = dir.appendingPathComponent("c.yaml")
        try "store: {evidence_payload: true}\nhome_net: [10.20.0.0/16]\n".write(to: config, atomically: true, encoding: .utf8)
        let sealed = dir.appendingPathComponent("sealed.db").path
        #expect(try hnsensor(["replay", "--config", config.path, "--rules", shippedRules, "--store", sealed, pcap]).status == 0)
        let list = try hnsensor(["incidents", "list", "--store", sealed, "--format", "json"])
        let incidents = try #require(try JSONSerialization.jsonObject(with: Data(list.out.utf8)) as? [[String: Any]])
        let ftp = try #require(incidents.first { $0["rule"] as? String == "hn-cleartext-credentials" && ($0["targets"] as? [String]) == ["10.20.2.21"] })
        let id = String(ftp["id"] as? Int ?? 0)
        #expect(try hnsensor(["incidents", "show", id, "--store", sealed]).out.contains("encrypted (show --evidence with the key file)"))
        let shown = try hnsensor(["incidents", "show", id, "--store", sealed, "--config", config.path, "--evidence"])
        #expect(shown.out.contains("payload: PASS [redacted]"), "\(shown.out)\(shown.err)")
        #expect(!shown.out.contains("guess"))
        try FileManager.default.removeItem(atPath: sealed + ".key")
        let noKey = try hnsensor(["incidents", "show", id, "--store", sealed, "--evidence"])
        #expect(noKey.status == 1)
        #expect(noKey.err.contains("no evidence key"))
    }
}

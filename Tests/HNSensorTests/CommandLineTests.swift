import Foundation
import Testing

/// Runs the hnsensor binary; returns exit status, standard output and standard error.
func hnsensor(_ arguments: [String]) throws -> (status: Int32, out: String, err: String) {
    let binary = try #require(hnsensorBinary, "the hnsensor binary is not built (swift build)")
    let p = Process()
    p.executableURL = URL(fileURLWithPath: binary)
    p.arguments = arguments
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
}

import Foundation
import HNCapGen
import HNStore
import Testing
@testable import HNSensor

#if canImport(Glibc)
import Glibc
#endif

@Suite struct WorkerTests {
    /// The EVE records of a replay without the final `stats` record, whose `flow.max_flows`
    /// is the sum of each worker's share of the memcap (rounded per worker).
    static func recordsWithoutStats(_ path: String) throws -> [Substring] {
        let text = try String(contentsOfFile: path, encoding: .utf8)
        return text.split(separator: "\n").filter { !$0.contains("\"event_type\":\"stats\"") }
    }

    /// Sharding flows over workers changes nothing in the output: every labelled capture,
    /// with the shipped configuration, rules and a store, gives byte-identical EVE records
    /// (alerts, app-layer records, flows, security events, incidents, in the same order),
    /// the same incidents in the store and the same counters with 1, 2 and 3 workers.
    @Test(arguments: ReplayTests.scenarios)
    func outputIsTheSameWhateverTheNumberOfWorkers(scenario: String) throws {
        let config = try SensorConfig.load(path: shippedConfig)
        let pcap = capturesFolder.appendingPathComponent("\(scenario).pcap").path
        var outputs: [[Substring]] = []
        var incidents: [[String]] = []
        var stats: [[String: UInt64]] = []
        for workers in [1, 2, 3] {
            let dir = try scratchFolder()
            let eve = dir.appendingPathComponent("eve.json").path
            let store = dir.appendingPathComponent("incidents.db").path
            let summary = try Replay.run(files: [pcap], config: config, evePath: eve, rulesPath: shippedRules, storePath: store,
                                         workers: workers)
            #expect(summary.workers == workers)
            outputs.append(try WorkerTests.recordsWithoutStats(eve))
            incidents.append(try IncidentStore(path: store).incidents().map { "\($0.id) \($0.ruleID) \($0.priorityName) \($0.sources) \($0.targets)" })
            var counters: [String: UInt64] = [:]
            for path in ["decoder.pkts", "decoder.decoded", "flow.total", "flow.timeout", "flow.shutdown", "stream.segments",
                         "app_layer.transactions", "detect.matches", "detect.alerts", "detect.thresholded", "anomaly.alerts",
                         "intel.hits", "correlation.alerts", "correlation.events"] {
                counters[path] = summary.stats.value(path)
            }
            stats.append(counters)
        }
        #expect(!outputs[0].isEmpty)
        for i in 1..<outputs.count {
            #expect(outputs[i].count == outputs[0].count)
            let firstDifference = outputs[0].indices.first { $0 < outputs[i].count && outputs[0][$0] != outputs[i][$0] }
            #expect(firstDifference == nil, "\(scenario), \(i + 1) workers: first different record \(firstDifference.map { String(outputs[i][$0].prefix(300)) } ?? "")")
            #expect(incidents[i] == incidents[0])
            #expect(stats[i] == stats[0])
        }
    }

    /// The ring between stages is bounded and keeps order: a producer far ahead of a slow
    /// consumer waits, and every element arrives once, in order.
    @Test func batchRingIsBoundedAndKeepsOrder() {
        let ring = BatchRing<Int>(capacity: 3)
        let received = BatchRing<[Int]>(capacity: 1)
        let consumer = startThread(name: "test-consumer") {
            var got: [Int] = []
            for _ in 0..<1000 {
                got.append(ring.pop())
                if got.count % 100 == 0 { usleep(1000) }
            }
            received.push(got)
        }
        for i in 0..<1000 { ring.push(i) }
        let got = received.pop()
        pthread_join(consumer, nil)
        #expect(got == Array(0..<1000))
        #expect(ring.tryPop() == nil)
        ring.tryPush(1); ring.tryPush(2); ring.tryPush(3); ring.tryPush(4)
        #expect([ring.tryPop(), ring.tryPop(), ring.tryPop(), ring.tryPop()] == [1, 2, 3, nil])
    }

    /// A worker that produces nothing for a long stretch (every packet goes to the other one,
    /// whose rings fill) does not stall the merge: it once waited for the idle worker's last
    /// batch while the busy one could not hand on its own.
    @Test(arguments: [InspectionDepth.decode, .flows, .full])
    func oneBusyWorkerDoesNotStallTheMerge(depth: InspectionDepth) throws {
        let dir = try scratchFolder()
        var writer = CaptureWriter(linkType: 101)
        let src: [UInt8] = [10, 0, 0, 1], dst: [UInt8] = [10, 0, 0, 2]
        for i in 0..<20_000 {
            let udp = Frames.udp(src: src, dst: dst, sport: 5000, dport: 6000, payload: [UInt8](repeating: 0x41, count: 32))
            writer.append(Frames.ipv4Header(src: src, dst: dst, proto: 17, id: UInt16(i & 0xFFFF), ttl: 64, payloadLength: udp.count) + udp,
                          at: 1_700_000_000_000_000_000 + Int64(i) * 100_000)
        }
        let pcap = dir.appendingPathComponent("one-pair.pcap").path
        try Data(writer.bytes).write(to: URL(fileURLWithPath: pcap))
        // Run aside with a deadline, so a stall fails the test instead of hanging the suite.
        final class Result: @unchecked Sendable { var summary: ReplaySummary? }
        let result = Result(), done = DispatchSemaphore(value: 0)
        Thread.detachNewThread {
            result.summary = try? Replay.run(files: [pcap], config: SensorConfig(), evePath: nil, workers: 2, depth: depth)
            done.signal()
        }
        guard done.wait(timeout: .now() + 60) == .success else {
            Issue.record("the replay with two workers did not finish within 60 s")
            return
        }
        let summary = try #require(result.summary)
        #expect(summary.packets == 20_000)
        #expect(summary.flows == (depth == .decode ? 0 : 1))
    }

    /// Threshold state lives in the output stage: a `limit` rule by source over flows that
    /// land on different workers alerts as often as with one worker.
    @Test func thresholdsCountAcrossWorkers() throws {
        let dir = try scratchFolder()
        // One source, 40 destinations (hashed over the workers), one SYN each.
        var writer = CaptureWriter(linkType: 101)
        for i in 0..<40 {
            let src: [UInt8] = [10, 0, 0, 5], dst: [UInt8] = [192, 0, 2, UInt8(i + 1)]
            let tcp = Frames.tcp(src: src, dst: dst, sport: UInt16(40000 + i), dport: 80, seq: 1, ack: 0, flags: 0x02)
            writer.append(Frames.ipv4Header(src: src, dst: dst, proto: 6, id: UInt16(i), ttl: 64, payloadLength: tcp.count) + tcp,
                          at: 1_700_000_000_000_000_000 + Int64(i) * 1_000_000)
        }
        let pcap = dir.appendingPathComponent("syns.pcap").path
        try Data(writer.bytes).write(to: URL(fileURLWithPath: pcap))
        let rules = dir.appendingPathComponent("limit.rules").path
        try "alert tcp any any -> any 80 (msg:\"SYN limited\"; flags:S; threshold: type limit, track by_src, count 3, seconds 60; sid:1; rev:1;)\n"
            .write(toFile: rules, atomically: true, encoding: .utf8)
        for workers in [1, 2, 3] {
            let summary = try Replay.run(files: [pcap], config: SensorConfig(), evePath: nil, rulesPath: rules, workers: workers)
            #expect(summary.alerts == 3, "\(workers) workers")
            #expect(summary.stats.value("detect.thresholded") == 37)
        }
    }
}

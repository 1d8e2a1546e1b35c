import Foundation
import Testing
@testable import HNSensor

/// Every capture of tcpdump's test suite (hundreds of small, often malformed files) is read
/// to the end without a crash or hang, through the whole sensor (shipped rules, detectors,
/// correlation, two workers), and every packet is accounted for: decoded or rejected with a
/// reason, and as many as the file holds.
@Suite struct TcpdumpCapturesTests {
    @Test func everyCaptureIsReadAndEveryPacketAccountedFor() throws {
        let folder = sharedFolder.appendingPathComponent("conformance/tcpdump-captures")
        guard let manifest = try? String(contentsOf: folder.appendingPathComponent("MANIFEST.tsv"), encoding: .utf8) else {
            print("skipped everyCaptureIsReadAndEveryPacketAccountedFor: \(folder.path) is missing")
            return
        }
        var rows: [(file: String, records: Int)] = []
        for line in manifest.split(separator: "\n").dropFirst() {
            let columns = line.split(separator: "\t", omittingEmptySubsequences: false)
            guard columns.count >= 6, let records = Int(columns[5]) else { continue }
            rows.append((String(columns[0]), records))
        }
        #expect(rows.count > 800)
        var refused = 0, packets: UInt64 = 0, rejected: UInt64 = 0, countMismatch: [String] = []
        for row in rows {
            let path = folder.appendingPathComponent(row.file).path
            do {
                let s = try Replay.run(files: [path], config: SensorConfig(), evePath: nil, rulesPath: shippedRules, workers: 2)
                #expect(s.decoded + s.rejected == s.packets, "\(row.file)")
                let reasons = s.stats.value("decoder.invalid") ?? 0
                #expect(reasons == s.rejected, "\(row.file)")
                packets += s.packets
                rejected += s.rejected
                if s.packets != UInt64(row.records) && s.warnings.isEmpty { countMismatch.append("\(row.file): \(s.packets)/\(row.records)") }
            } catch {
                // A file refused as a whole must say which file and why, in one line.
                refused += 1
                #expect("\(error)".hasPrefix(path), "\(error)")
                #expect(!"\(error)".contains("\n"))
            }
        }
        print("tcpdump captures: \(rows.count) files, \(packets) packets, \(rejected) rejected by the decoders, \(refused) files refused as a whole, \(countMismatch.count) with fewer packets than records")
        #expect(countMismatch.count <= rows.count / 20, "\(countMismatch.prefix(10))")
    }
}

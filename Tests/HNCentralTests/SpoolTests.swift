import Foundation
import Testing
@testable import HNCentral
import HNStore

@Suite struct SpoolTests {
    @Test func alertsComeOutOldestFirstAndStayAcrossAReopen() throws {
        let dir = try scratchFolder()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("spool.db").path
        let rows = centralRows((0..<10).map { testAlert(seconds: Int64($0)) })
        do {
            let spool = try Spool(path: path, maxBytes: 1 << 20)
            try spool.append(Array(rows[..<6]), queuedAt: 1)
            try spool.append(Array(rows[6...]), queuedAt: 2)
            let first = try spool.oldest(4)
            #expect(first.map(\.1) == Array(rows[..<4]))
            try spool.remove(upTo: first.last!.0)
            #expect(spool.count == 6)
        }
        let again = try Spool(path: path, maxBytes: 1 << 20)
        #expect(again.count == 6)
        #expect(try again.oldest(100).map(\.1) == Array(rows[4...]))
        #expect(again.oldestQueuedAt() == 1)
    }

    @Test func overItsBoundTheSpoolDropsTheOldestAndCountsThem() throws {
        let dir = try scratchFolder()
        defer { try? FileManager.default.removeItem(at: dir) }
        let rows = centralRows((0..<100).map { testAlert(seconds: Int64($0)) })
        let each = Int64(rows[0].spoolBytes)
        let spool = try Spool(path: dir.appendingPathComponent("spool.db").path, maxBytes: each * 30)
        for chunk in stride(from: 0, to: 100, by: 10) { try spool.append(Array(rows[chunk..<chunk + 10]), queuedAt: Int64(chunk)) }
        #expect(spool.count == 30)
        #expect(spool.dropped == 70)
        #expect(spool.bytes <= each * 30)
        #expect(try spool.oldest(1).first?.1 == rows[70])
    }

    @Test func anUnwritableSpoolIsAOneLineErrorNamingTheFile() {
        #expect {
            _ = try Spool(path: "/nonexistent-dir/spool.db", maxBytes: 1 << 20)
        } throws: { error in
            "\(error)".hasPrefix("/nonexistent-dir/spool.db: cannot create the spool") && !"\(error)".contains("\n")
        }
    }
}

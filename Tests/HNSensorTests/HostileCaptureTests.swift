import Foundation
import HNCapGen
import Testing
@testable import HNSensor

/// Mutated copies of tcpdump's test captures (fixed seed): truncated at random points, bits
/// flipped, record lengths broken, absurd snaplen fields. Each replay finishes without a trap
/// or a hang, and every packet read is decoded or rejected with a reason; a file refused as a
/// whole gets one line naming it.
@Suite struct HostileCaptureTests {
    enum Mutation: CaseIterable { case truncate, flipBits, recordLength, snaplen }

    static func mutate(_ bytes: [UInt8], _ m: Mutation, _ random: inout SeededRandom) -> [UInt8] {
        var b = bytes
        guard b.count > 40 else { return b }
        switch m {
        case .truncate:
            b.removeLast(Int(random.next() % UInt64(b.count - 24)) + 1)
        case .flipBits:
            for _ in 0..<12 {
                let i = 24 + Int(random.next() % UInt64(b.count - 24))
                b[i] ^= UInt8(1 << (random.next() % 8))
            }
        case .recordLength:
            // The first record header of a pcap file starts at 24: caplen at 32, len at 36.
            let values: [UInt32] = [0xFFFF_FFF0, 0x7FFF_FFFF, 0, 1_048_576]
            let value: UInt32 = values[Int(random.next() % 4)]
            for k in 0..<4 where 32 + k < b.count {
                let shifted: UInt32 = value >> UInt32(8 * k)
                b[32 + k] = UInt8(truncatingIfNeeded: shifted)
            }
        case .snaplen:
            for k in 0..<4 where 16 + k < b.count { b[16 + k] = 0xFF }
        }
        return b
    }

    @Test func mutatedCapturesAreReadWithoutTrapAndAccountedFor() throws {
        let folder = sharedFolder.appendingPathComponent("conformance/tcpdump-captures")
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: folder.path)
            .filter({ $0.hasSuffix(".pcap") || $0.hasSuffix(".pcapng") }).sorted(), !names.isEmpty else {
            print("skipped mutatedCapturesAreReadWithoutTrapAndAccountedFor: \(folder.path) is missing")
            return
        }
        var random = SeededRandom(seed: 0x4D55_7441)
        let dir = try scratchFolder()
        var files = 0, refused = 0, packets: UInt64 = 0, rejected: UInt64 = 0
        for (n, name) in names.enumerated() where n % 3 == 0 {
            guard let original = FileManager.default.contents(atPath: folder.appendingPathComponent(name).path) else { continue }
            for m in Mutation.allCases {
                let mutated = Self.mutate([UInt8](original), m, &random)
                let path = dir.appendingPathComponent("m.pcap").path
                try Data(mutated).write(to: URL(fileURLWithPath: path))
                files += 1
                do {
                    // Every tenth file also goes through the shipped rules, detectors and correlation.
                    let withRules = files % 10 == 0 ? repositoryRoot.appendingPathComponent("Rules").path : nil
                    let s = try Replay.run(files: [path], config: SensorConfig(), evePath: nil, rulesPath: withRules)
                    #expect(s.decoded + s.rejected == s.packets, "\(name) \(m)")
                    #expect((s.stats.value("decoder.invalid") ?? 0) == s.rejected, "\(name) \(m)")
                    packets += s.packets
                    rejected += s.rejected
                } catch {
                    refused += 1
                    #expect("\(error)".hasPrefix(path), "\(error)")
                    #expect(!"\(error)".contains("\n"))
                }
            }
        }
        print("mutated tcpdump captures: \(files) files, \(packets) packets read, \(rejected) rejected with a reason, \(refused) refused as a whole")
        #expect(files > 1000)
    }
}

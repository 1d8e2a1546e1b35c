import Testing
@testable import HNDecode
@testable import HNDetect

/// The prefilter must report a rule's fast pattern wherever it sits in the buffer and wherever
/// the buffer sits in memory: a packet's bytes start at a different address in libpcap's
/// buffer and in each worker's batch copy. Vectorscan 5.4.9's AVX-512 scan code missed
/// literals depending on that address (see `ScanPath`); these cases failed with it.
@Suite struct PrefilterTests {
    typealias Literal = (bytes: [UInt8], nocase: Bool, id: UInt32)

    static let sets: [[Literal]] = [
        [([0x11], false, 0)],
        [(Array("403".utf8), false, 0), (Array("302".utf8), false, 1)],
        [(Array("40".utf8), false, 0), (Array("30".utf8), false, 1)],
        [([0x61], true, 0)],
        [(Array("GET".utf8), false, 0), ([0x00, 0x01], false, 1), (Array("user-agent:".utf8), true, 2), ([0x7f], false, 3),
         (Array("/cgi-bin/".utf8), true, 4), (Array("|%00|".utf8), false, 5), ([0xff, 0xfe, 0x00], false, 6),
         (Array("SSH-2.0-dropbear_2016.74".utf8), false, 7), ([0x11], false, 8), (Array("cmd.exe".utf8), true, 9)],
    ]

    @Test(arguments: sets.indices)
    func plantedLiteralsAreFoundAtEveryAlignment(set index: Int) throws {
        let literals = PrefilterTests.sets[index]
        let database = try PrefilterDatabase(literals: literals)
        let scratch = PrefilterScratch(databases: [database])
        let candidates = CandidateSet(ruleCount: literals.count)
        let memory = UnsafeMutableRawPointer.allocate(byteCount: 512, alignment: 64)
        defer { memory.deallocate() }
        let bytes = memory.assumingMemoryBound(to: UInt8.self)
        var misses: [String] = []
        for literal in literals {
            for length in stride(from: literal.bytes.count, through: 200, by: 7) {
                let last = length - literal.bytes.count
                for position in Set([0, last / 2, max(0, last - 1), last, min(last, 63)]) {
                    for alignment in 0..<64 {
                        (bytes + alignment).update(repeating: UInt8(ascii: "x"), count: length)
                        for (i, b) in literal.bytes.enumerated() { bytes[alignment + position + i] = b }
                        let view = ByteView(base: UnsafeRawPointer(bytes + alignment), count: length)
                        candidates.reset()
                        database.scan(view, scratch: scratch, into: candidates)
                        let expected = literals.filter { occurs($0, in: view) }.map { Int32($0.id) }
                        if candidates.list.sorted() != expected.sorted() {
                            misses.append("literal \(literal.id) at \(position) of \(length) bytes, alignment \(alignment): got \(candidates.list.sorted()), want \(expected.sorted())")
                        }
                    }
                }
            }
        }
        #expect(misses.isEmpty, "\(misses.count) wrong scans, first: \(misses.prefix(3))")
    }

    @Test func scanPathPassesItsKnownAnswerCheck() {
        #expect(ScanPath.selected.verified, "\(ScanPath.selected.summary)")
    }

    /// A plain search: whether `literal` occurs in `view` (ASCII case folded when nocase).
    func occurs(_ literal: Literal, in view: ByteView) -> Bool {
        let n = literal.bytes.count
        guard n <= view.count else { return false }
        func fold(_ b: UInt8) -> UInt8 { literal.nocase && b >= 0x41 && b <= 0x5a ? b | 0x20 : b }
        for start in 0...(view.count - n) {
            var all = true
            for i in 0..<n where fold(view.u8(start + i)!) != fold(literal.bytes[i]) { all = false; break }
            if all { return true }
        }
        return false
    }
}

import Testing
@testable import HNAppLayer

@Suite struct LineReaderTests {
    func read(_ reader: inout LineReader, _ text: String) -> [(line: [UInt8], cut: Bool)] {
        Array(text.utf8).withUnsafeBytes { reader.markedLines($0) }
    }

    @Test func aLineWhoseEndComesPastTheLimitIsCutAndKeepsItsCR() {
        var r = LineReader(maxLine: 8)
        let lines = read(&r, "HELO abc\r\nok\r\n")
        #expect(lines.map(\.line) == [Array("HELO abc".utf8), Array("ok".utf8)])
        #expect(lines.map(\.cut) == [true, false] && r.overlong)
        var s = LineReader(maxLine: 8)
        #expect(read(&s, "HELO ab\r\n").map(\.line) == [Array("HELO ab\r".utf8)])
        var t = LineReader(maxLine: 9)
        #expect(read(&t, "HELO ab\r\n").map { $0.line } == [Array("HELO ab".utf8)])
    }

    @Test func splittingHandsALongLineOnInPieces() {
        var r = LineReader(maxLine: 4)
        r.splitting = true
        let lines = read(&r, "abcdefghij\r\nxy\r\n")
        #expect(lines.map { String(decoding: $0.line, as: UTF8.self) } == ["abcd", "efgh", "ij", "xy"])
        #expect(lines.map(\.cut) == [true, true, false, false])
        // A CR at a piece's end waits: it begins the line end, which closes the line bare.
        var s = LineReader(maxLine: 4)
        s.splitting = true
        let ended = read(&s, "abc\r\n")
        #expect(ended.map { String(decoding: $0.line, as: UTF8.self) } == ["abc", ""] && ended.map(\.cut) == [true, false])
    }
}

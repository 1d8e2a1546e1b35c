import Testing
@testable import HNAppLayer
@testable import HNDecode

@Suite struct SMBParserTests {
    @Test func smb2NegotiateDialects() throws {
        var header = [UInt8](repeating: 0, count: 64)
        header[0] = 0xFE; header[1] = 0x53; header[2] = 0x4D; header[3] = 0x42
        // NEGOTIATE request: structure size 36, dialect count 2, …, dialects at body offset 36.
        var body = [UInt8](repeating: 0, count: 36)
        body[0] = 36; body[2] = 2
        body += [0x02, 0x02, 0x11, 0x03]
        let message = header + body
        let frame: [UInt8] = [0, 0, UInt8(message.count >> 8), UInt8(message.count & 0xFF)] + message
        frame.withUnsafeBytes { #expect(SMBParser.looksLikeSMB(ByteView($0))) }
        let p = SMBParser()
        var events: [AppEvent] = []
        feed(splits(frame)[1]) { p.receive($0, toServer: true, events: &events) }
        #expect(p.dialects == ["2.02", "3.11"])
        // The response picks 3.11.
        var response = header
        response += [65, 0, 0, 0, 0x11, 0x03] + [UInt8](repeating: 0, count: 58)
        let rframe: [UInt8] = [0, 0, UInt8(response.count >> 8), UInt8(response.count & 0xFF)] + response
        feed([rframe]) { p.receive($0, toServer: false, events: &events) }
        #expect(p.dialect == "3.11")
        p.flush(&events)
        #expect(records(events).count == 1)
    }

    @Test func oversizedMessagesAreSkippedNotBuffered() {
        let p = SMBParser()
        var events: [AppEvent] = []
        let frame: [UInt8] = [0, 0x20, 0, 0] + [UInt8](repeating: 0, count: 1000)  // claims 2 MiB
        feed([frame]) { p.receive($0, toServer: true, events: &events) }
        #expect(p.buffers[0].isEmpty)
        #expect(p.skip[0] > 0)
    }
}

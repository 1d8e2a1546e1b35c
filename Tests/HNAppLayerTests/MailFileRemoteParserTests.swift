import Testing
@testable import HNAppLayer
@testable import HNDecode

@Suite struct SMTPParserTests {
    let session = Array("EHLO ws15.chl.lu\r\nAUTH LOGIN\r\ndXNlcg==\r\ncGFzc3dvcmQ=\r\nMAIL FROM:<dr.x@chl.lu> SIZE=100\r\nRCPT TO:<lab@lns.lu>\r\nRCPT TO:<b@lns.lu>\r\nDATA\r\nSubject: results\r\n\r\nbody\r\n.\r\nQUIT\r\n".utf8)

    @Test func sessionIsLoggedWithoutCredentials() throws {
        for chunks in splits(session) {
            let p = SMTPParser()
            var events: [AppEvent] = []
            feed(chunks) { p.receive($0, toServer: true, events: &events) }
            #expect(buffer(events, .smtpHelo) == "ws15.chl.lu")
            #expect(buffer(events, .smtpMailFrom) == "<dr.x@chl.lu>")
            let log = try #require(records(events).first)
            guard case .array(let rcpt)? = log["rcpt_to"], case .string(let mech)? = log["auth_mechanism"],
                  case .bool(let clear)? = log["credentials_in_clear"] else { Issue.record("fields: \(log)"); return }
            #expect(rcpt.count == 2 && mech == "LOGIN" && clear)
            // Neither the base64 user nor the password appears anywhere.
            let text = "\(events.map { $0.record.map { "\($0)" } ?? "" })"
            #expect(!text.contains("dXNlcg") && !text.contains("cGFzc3dvcmQ"))
        }
    }
}

@Suite struct FTPParserTests {
    @Test func passwordIsNeverKeptAndPassiveModeIsAnnounced() throws {
        let p = FTPParser()
        var events: [AppEvent] = []
        feed([Array("USER anna\r\nPASS s3cret\r\nPASV\r\n".utf8)]) { p.receive($0, toServer: true, events: &events) }
        feed([Array("331 Password required\r\n230 Logged in\r\n227 Entering Passive Mode (10,20,2,21,19,137).\r\n".utf8)]) { p.receive($0, toServer: false, events: &events) }
        let logs = records(events)
        #expect(logs.count == 3)
        guard case .string(let cmd)? = logs[1]["command"], case .bool(true)? = logs[1]["credentials_in_clear"] else { Issue.record("PASS log"); return }
        #expect(cmd == "PASS" && logs[1]["command_data"] == nil)
        #expect(!"\(logs)".contains("s3cret"))
        #expect(p.user == Array("anna".utf8))
        #expect(p.announcedData.first.map { Int($0.port) } == 19 * 256 + 137)
        #expect(p.announcedData.first?.address?.description == "10.20.2.21")
    }
}

@Suite struct RDPParserTests {
    @Test func connectionRequestCookieAndProtocols() throws {
        let cookie = Array("Cookie: mstshash=admin\r\n".utf8)
        let neg: [UInt8] = [0x01, 0x00, 0x08, 0x00, 0x03, 0x00, 0x00, 0x00]  // RDP_NEG_REQ ssl|hybrid
        let x224: [UInt8] = [UInt8(6 + cookie.count + neg.count), 0xE0, 0, 0, 0, 0, 0] + cookie + neg
        let tpkt: [UInt8] = [3, 0, 0, UInt8(4 + x224.count)] + x224
        tpkt.withUnsafeBytes { #expect(RDPParser.looksLikeRDP(ByteView($0))) }
        let p = RDPParser()
        var events: [AppEvent] = []
        feed([tpkt]) { p.receive($0, toServer: true, events: &events) }
        let log = try #require(records(events).first)
        guard case .string(let c)? = log["cookie"], case .array(let protocols)? = log["requested_protocols"] else { Issue.record("\(log)"); return }
        #expect(c == "admin" && protocols.count == 2)
    }
}

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

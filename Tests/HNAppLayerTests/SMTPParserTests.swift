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

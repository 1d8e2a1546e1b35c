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
            p.flush(&events)  // no server side: the transaction is logged when the session ends
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

    /// A dialog in order: each item is a client line or a server reply (from the server when
    /// it starts with a digit), fed as they would be read.
    func dialog(_ lines: [String]) -> (SMTPParser, [AppEvent]) {
        let p = SMTPParser()
        var events: [AppEvent] = []
        for line in lines {
            let bytes = Array((line + "\r\n").utf8)
            bytes.withUnsafeBytes { p.receive(ByteView($0), toServer: !(line.first?.isNumber ?? false), events: &events) }
        }
        p.flush(&events)
        return (p, events)
    }

    @Test func messageHeadersAndAttachmentsMakeTheEmailObject() throws {
        let (_, events) = dialog(["220 mx", "EHLO ws", "250 ok", "MAIL FROM:<a@chl.lu>", "250 ok", "RCPT TO:<b@lns.lu>", "250 ok", "DATA", "354 go",
                                  "From: \"Dr A\" <a@chl.lu>", "To: b@lns.lu, \"Lab, LNS\" <c@lns.lu>", "Cc: d@lns.lu",
                                  "Content-Type: multipart/mixed;", " boundary=\"XX\"", "", "--XX", "Content-Type: text/plain", "", "hello",
                                  "--XX", "Content-Type: application/pdf; name=\"r.pdf\"", "Content-Disposition: attachment; filename=\"results.pdf\"", "",
                                  "JVBERi0=", "--XX--", ".", "250 queued", "QUIT", "221 bye"])
        let logged = events.filter { $0.record != nil }
        #expect(logged.count == 1)
        let email = try #require(logged.first?.siblings.first { $0.0 == "email" }?.1)
        guard case .string(let status)? = email["status"], case .string(let from)? = email["from"], case .array(let to)? = email["to"],
              case .array(let cc)? = email["cc"], case .array(let files)? = email["attachment"] else { Issue.record("\(email)"); return }
        #expect(status == "PARSE_DONE" && from == "\"Dr A\" <a@chl.lu>")
        #expect("\(to)" == "[HNAppLayer.JSONValue.string(\"b@lns.lu\"), HNAppLayer.JSONValue.string(\"\\\"Lab, LNS\\\" <c@lns.lu>\")]")
        #expect(cc.count == 1 && files.count == 1)
        guard case .string(let name) = files[0] else { Issue.record("name"); return }
        #expect(name == "results.pdf")
    }

    @Test func refusedDataAndResetsEndTransactionsAsSuricataDoes() {
        // DATA refused (503): the next lines are commands again; RSET and a new EHLO end the
        // transaction that began; a greeting without a name (refused) changes nothing.
        let (_, events) = dialog(["220 mx", "HELO ws", "250 ok", "DATA", "503 need RCPT", "EHLO ws", "250 ok",
                                  "MAIL FROM:<a@chl.lu>", "250 ok", "RSET", "250 ok", "MAIL FROM:<b@chl.lu>", "250 ok",
                                  "EHLO", "501 syntax", "RCPT TO:<c@lns.lu>", "250 ok", "DATA", "354 go", "From: b@chl.lu", "", "x", ".", "250 queued"])
        let logged = events.filter { $0.record != nil }
        #expect(logged.map(\.transactionID) == [0, 1, 2])
        #expect(logged[0].record?["mail_from"] == nil && logged[0].siblings.isEmpty)
        guard case .string(let first)? = logged[1].record?["mail_from"], case .string(let helo)? = logged[2].record?["helo"] else { Issue.record("fields"); return }
        #expect(first == "<a@chl.lu>" && helo == "ws")
        #expect(logged[2].siblings.count == 1)
    }

    @Test func pipelinedCommandsAndChunksKeepTheirReplies() {
        // A message's end, RSET and the next envelope in one go, then the replies (RFC 2920);
        // then a BDAT message in two chunks whose bytes are not commands (RFC 3030).
        let p = SMTPParser()
        var events: [AppEvent] = []
        let client = "EHLO ws\r\nMAIL FROM:<a@chl.lu>\r\nRCPT TO:<b@lns.lu>\r\nDATA\r\n"
        let body = "From: a@chl.lu\r\n\r\nhi\r\n.\r\nRSET\r\nMAIL FROM:<b@chl.lu>\r\nRCPT TO:<a@lns.lu>\r\nDATA\r\n"
        let chunk1 = "From: b@chl.lu\r\nTo: a@lns.lu\r\nMAIL FROM:<x@y>\r\n", chunk2 = "\r\nbody\r\n"
        for (text, toServer) in [(client, true), ("250 ok\r\n250 ok\r\n250 ok\r\n354 go\r\n", false), (body, true),
                                 ("250 queued\r\n250 reset\r\n250 ok\r\n250 ok\r\n503 no\r\n", false),
                                 ("RSET\r\nMAIL FROM:<c@chl.lu>\r\nRCPT TO:<d@lns.lu>\r\nBDAT \(chunk1.utf8.count)\r\n" + chunk1, true),
                                 ("BDAT \(chunk2.utf8.count) LAST\r\n" + chunk2, true)] {
            Array(text.utf8).withUnsafeBytes { p.receive(ByteView($0), toServer: toServer, events: &events) }
        }
        p.flush(&events)
        let logged = events.filter { $0.record != nil }
        #expect(logged.count == 3)
        #expect(logged[0].siblings.count == 1 && logged[1].siblings.isEmpty)
        guard case .string(let from)? = logged[2].siblings.first?.1["from"], case .string(let mail)? = logged[2].record?["mail_from"] else {
            Issue.record("BDAT message")
            return
        }
        #expect(from == "b@chl.lu" && mail == "<c@chl.lu>")
    }

    /// The message of a dialog whose DATA is `message` (lines), with rules on file.data.
    func attachmentFiles(_ message: [String]) -> [MailMessage.File] {
        let p = SMTPParser(files: true)
        var events: [AppEvent] = []
        for line in ["220 mx", "EHLO ws", "250 ok", "MAIL FROM:<a@chl.lu>", "250 ok", "RCPT TO:<b@lns.lu>", "250 ok", "DATA", "354 go"]
                    + message + ["."] {
            let bytes = Array((line + "\r\n").utf8)
            bytes.withUnsafeBytes { p.receive(ByteView($0), toServer: !(line.first?.isNumber ?? false), events: &events) }
        }
        return p.message?.files ?? []
    }

    @Test func attachmentsAreDecodedIntoFilesAndTheirLastLineEndBelongsToTheBoundary() {
        let head = ["Content-Type: multipart/mixed; boundary=\"XX\"", "", "--XX", "Content-Type: text/plain", "", "hello"]
        let b64 = attachmentFiles(head + ["--XX", "Content-Type: application/pdf; name=\"r.pdf\"", "Content-Transfer-Encoding: base64", "",
                                          "JVBER", "i0xLjQ=", "--XX--"])
        #expect(b64.map { String(decoding: $0.name, as: UTF8.self) } == ["r.pdf"] && b64.first?.bytes == Array("%PDF-1.4".utf8))
        let qp = attachmentFiles(head + ["--XX", "Content-Type: text/plain; name=\"n.txt\"", "Content-Transfer-Encoding: quoted-printable", "",
                                         "caf=C3=A9 soft=", "break", "", "--XX--"])
        #expect(qp.first?.bytes == Array("caf\u{e9} softbreak\r\n".utf8) && qp.first?.size == 17)
        let plain = attachmentFiles(head + ["--XX", "Content-Disposition: attachment; filename=\"a.txt\"", "", "line 1", "line 2", "--XX--"])
        #expect(plain.first?.bytes == Array("line 1\r\nline 2".utf8))
    }

    @Test func aMessageLineLongerThanTheLineLimitReachesTheFileWhole() {
        let long = String(repeating: "A", count: 10_000)
        let files = attachmentFiles(["Content-Type: multipart/mixed; boundary=\"XX\"", "", "--XX", "Content-Disposition: attachment; filename=\"j.txt\"", "",
                                     long, "--XX--"])
        #expect(files.first?.size == 10_000 && files.first?.bytes == Array(long.utf8))
    }

    @Test func authenticationsFinalReplyKeepsTheRepliesInStep() {
        // AUTH LOGIN answered 235: the DATA's 354 and the message's 250 are matched to them,
        // so the transaction is logged on the message's reply, not at the session's end.
        let p = SMTPParser()
        var events: [AppEvent] = []
        for line in ["220 mx", "EHLO ws", "250 ok", "AUTH LOGIN", "334 VXNlcm5hbWU6", "dXNlcg==", "334 UGFzc3dvcmQ6", "cGFzcw==",
                     "235 ok", "MAIL FROM:<a@chl.lu>", "250 ok", "RCPT TO:<b@lns.lu>", "250 ok", "DATA", "354 go", "Subject: x", "",
                     "body", ".", "250 queued"] {
            let bytes = Array((line + "\r\n").utf8)
            bytes.withUnsafeBytes { p.receive(ByteView($0), toServer: !(line.first?.isNumber ?? false), events: &events) }
        }
        let logged = events.filter { $0.record != nil }
        #expect(logged.count == 1 && logged.first?.siblings.contains { $0.0 == "email" } == true)
    }

    @Test func urlsInTheMessagesTextAreLoggedWithoutTheirScheme() throws {
        let (_, events) = dialog(["220 mx", "EHLO ws", "250 ok", "MAIL FROM:<a@chl.lu>", "250 ok", "RCPT TO:<b@lns.lu>", "250 ok", "DATA", "354 go",
                                  "Content-Type: multipart/mixed; boundary=\"XX\"", "", "--XX", "Content-Type: text/plain", "",
                                  "see HTTP://portal.example/a?b=1 and <http://x.example/y>", "--XX", "Content-Type: image/png", "",
                                  "http://not.text/", "--XX--", ".", "250 queued"])
        let email = try #require(events.first { $0.record != nil }?.siblings.first { $0.0 == "email" }?.1)
        #expect(email["url"] == .array([.string("portal.example/a?b=1"), .string("x.example/y")]))
    }

    @Test func aFilenameSplitInRFC2231ContinuationsIsJoined() {
        #expect(MailMessage.parameter(Array("attachment; filename*0=report-2021; filename*1=-02.zip".utf8), "filename") == Array("report-2021-02.zip".utf8))
        #expect(MailMessage.parameter(Array("attachment; filename=\"a.pdf\"".utf8), "filename") == Array("a.pdf".utf8))
        #expect(MailMessage.parameter(Array("attachment; name=x".utf8), "filename") == nil)
    }
}

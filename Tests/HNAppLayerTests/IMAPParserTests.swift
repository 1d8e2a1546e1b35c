import Testing
@testable import HNAppLayer
@testable import HNDecode

@Suite struct IMAPParserTests {
    /// A login refused then accepted, a literal carrying a line that looks like a tagged
    /// completion, and STARTTLS refused: fed whole, byte by byte and in random splits.
    let client = Array("a1 LOGIN anna s3cret\r\na2 LOGIN anna s3cret2\r\na3 APPEND INBOX {22}\r\nb1 OK looks-like-a-reply\r\na4 STARTTLS\r\n".utf8)
    let server = Array("* OK ready\r\na1 NO [AUTHENTICATIONFAILED] no\r\na2 OK LOGIN completed\r\n+ go ahead\r\na3 OK APPEND completed\r\na4 BAD not now\r\n".utf8)

    @Test func loginsAreNotedLiteralsSkippedAndNothingKept() {
        for (c, sv) in zip(splits(client), splits(server, seed: 3)) {
            let p = IMAPParser()
            var events: [AppEvent] = []
            feed(c) { p.receive($0, toServer: true, events: &events) }
            feed(sv) { p.receive($0, toServer: false, events: &events) }
            let notes = events.flatMap(\.notes)
            #expect(notes.filter { $0 == .authAttempt }.count == 2)
            #expect(notes.contains(.authFailure) && notes.contains(.authSuccess))
            #expect(!p.tlsPending && !p.tlsAgreed)  // STARTTLS was refused
            #expect(p.pending.isEmpty)
            #expect(events.allSatisfy { $0.record == nil && $0.buffers.isEmpty })
        }
    }

    @Test func aGreetingIsRecognised() {
        for (text, expected) in [("* OK IMAP4rev1 ready\r\n", true), ("* PREAUTH\r\n", true), ("+OK POP3\r\n", false), ("220 smtp\r\n", false)] {
            #expect(Array(text.utf8).withUnsafeBytes { IMAPParser.looksLikeGreeting(ByteView($0)) } == expected, "\(text)")
        }
    }
}

import Testing
@testable import HNAppLayer
@testable import HNDecode

@Suite struct POP3ParserTests {
    /// A refused PASS, an accepted APOP, a message whose text holds "-ERR" and "+OK" lines (a
    /// multi-line answer, skipped to its "." line), then STLS accepted. (The greeting never
    /// reaches the parser: detection takes it.)
    let client = Array("USER anna\r\nPASS wrong\r\nAPOP anna 1234abcd\r\nRETR 1\r\nSTLS\r\n".utf8)
    let server = Array("+OK\r\n-ERR [AUTH] no\r\n+OK maildrop\r\n+OK 30 octets\r\n-ERR not a reply\r\n+OK nor this\r\n.\r\n+OK Begin TLS\r\n".utf8)

    @Test func answersPairWithCommandsAcrossMultiLineReplies() {
        for (c, sv) in zip(splits(client), splits(server, seed: 5)) {
            let p = POP3Parser()
            var events: [AppEvent] = []
            feed(c) { p.receive($0, toServer: true, events: &events) }
            feed(sv) { p.receive($0, toServer: false, events: &events) }
            #expect(events.flatMap(\.notes) == [.authAttempt, .authAttempt, .authFailure, .authSuccess])
            #expect(p.tlsAgreed)
        }
    }
}

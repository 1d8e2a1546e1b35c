import HNDecode

/// POP3 sessions (RFC 1939, 2449, 5034) as far as security needs them: USER/PASS, APOP and
/// AUTH with their `+OK`/`-ERR` answers, and STLS (RFC 2595). Commands are answered in order;
/// multi-line answers (CAPA, LIST, UIDL, RETR, TOP) are skipped to their "." line, so message
/// text is never read as replies. Credentials are never kept (credentials sent in clear are
/// found per packet on port 110 by the behaviour detectors).
final class POP3Parser {
    /// RFC 2449 §4: a command line is at most 255 octets, a response line 512.
    static let maxLine = 1024
    static let maxPending = 64
    /// Commands whose positive answer has more lines, ended by ".".
    static let multiLine: Set<String> = ["CAPA", "RETR", "TOP"]

    var client = LineReader(maxLine: POP3Parser.maxLine)
    var server = LineReader(maxLine: POP3Parser.maxLine)
    var pending: [String] = []
    /// Inside a multi-line answer.
    var inMultiLine = false
    /// An AUTH is under way: client lines answer `+ ` challenges until `+OK`/`-ERR`.
    var authenticating = false
    var tlsPending = false
    var tlsAgreed = false

    static func looksLikeGreeting(_ d: ByteView) -> Bool {
        d.prefix(4).toArray().starts(with: Array("+OK".utf8))
    }

    func receive(_ data: ByteView, toServer: Bool, events: inout [AppEvent]) {
        guard !tlsAgreed else { return }
        if toServer {
            for line in client.lines(data.rawBuffer) {
                if authenticating { continue }  // a SASL response: credentials, not kept
                let (verb, argument) = line.commandAndArgument
                guard !verb.isEmpty else { continue }
                if pending.count >= POP3Parser.maxPending { pending.removeFirst() }
                // LIST and UIDL answer in several lines only without an argument.
                pending.append((verb == "LIST" || verb == "UIDL") && argument.isEmpty ? "\(verb)*" : verb)
                switch verb {
                case "PASS", "APOP": events.append(note([.authAttempt], toServer: true))
                case "AUTH":
                    guard !argument.isEmpty else { break }  // a bare AUTH lists the mechanisms
                    authenticating = true
                    events.append(note([.authAttempt], toServer: true))
                case "STLS": tlsPending = true
                default: break
                }
            }
            return
        }
        for line in server.lines(data.rawBuffer) {
            if inMultiLine {
                if line == [UInt8(ascii: ".")] { inMultiLine = false }
                continue
            }
            let ok = line.starts(with: Array("+OK".utf8))
            guard ok || line.starts(with: Array("-ERR".utf8)) else { continue }  // "+ " challenges
            guard !pending.isEmpty else { continue }  // the greeting
            let verb = pending.removeFirst()
            switch verb {
            case "PASS", "APOP", "AUTH":
                authenticating = false
                events.append(note([ok ? .authSuccess : .authFailure], toServer: false))
            case "STLS":
                if ok { tlsAgreed = true; return }
                tlsPending = false
            default:
                if ok && (POP3Parser.multiLine.contains(verb) || verb.hasSuffix("*")) { inMultiLine = true }
            }
        }
    }

    func note(_ notes: [AppNote], toServer: Bool) -> AppEvent { .notes(notes, eventType: "pop3", toServer: toServer) }
}

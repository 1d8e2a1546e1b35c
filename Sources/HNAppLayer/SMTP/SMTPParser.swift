import HNDecode

/// SMTP sessions (RFC 5321): HELO/EHLO, MAIL FROM, RCPT TO, DATA, STARTTLS and AUTH. The
/// message body is skipped (its end found by the "." line), and authentication exchanges are
/// never kept: only the mechanism, the fact that it was offered before STARTTLS, and whether
/// the server accepted it (RFC 4954: 235) or refused it (4xx/5xx). A 220 reply to STARTTLS
/// (RFC 3207) hands the session to the TLS parser (`tlsAgreed`).
final class SMTPParser {
    /// RFC 5321 §4.5.3.1.4: a command line is at most 512 bytes; some clients exceed it.
    static let maxLine = 4096

    var client = LineReader(maxLine: SMTPParser.maxLine)
    var server = LineReader(maxLine: SMTPParser.maxLine)
    var inData = false
    /// The command whose final reply the client waits for (AUTH answers its 334 challenges
    /// with lines that are credentials, never commands).
    enum Awaiting { case none, auth, startTLS }
    var awaiting = Awaiting.none
    /// Client lines still to take as answers to AUTH challenges (LOGIN sends two, PLAIN
    /// without an initial response and CRAM-MD5 one), or fewer when the server's final reply
    /// comes first: a lost reply cannot hide the rest of the session.
    var authLines = 0
    /// STARTTLS was asked for and not refused: a TLS record from the client now is the upgrade.
    var tlsPending = false
    /// The server agreed to STARTTLS: the rest of the session is TLS.
    var tlsAgreed = false
    var helo: [UInt8]? = nil
    var mailFrom: [UInt8]? = nil
    var rcptTo: [[UInt8]] = []
    var authMechanism: String? = nil
    var authInClear = false
    var startTLS = false
    var transactions = 0
    var pendingLog = false

    func receive(_ data: ByteView, toServer: Bool, events: inout [AppEvent]) {
        guard !tlsAgreed else { return }
        if !toServer {
            for line in server.lines(data.rawBuffer) {
                // Only a final reply ("250 ok", not "250-" continuations) answers a command.
                guard let code = line.replyCode, line.count == 3 || line[3] == 0x20 else { continue }
                switch awaiting {
                case .none: break
                case .auth:
                    if code == 334 { continue }  // a challenge: the client answers it
                    awaiting = .none
                    authLines = 0
                    if code == 235 { events.append(note(.authSuccess, toServer: false)) }
                    if code >= 400 { events.append(note(.authFailure, toServer: false)) }
                case .startTLS:
                    awaiting = .none
                    if code == 220 {
                        tlsAgreed = true  // the rest of the session is TLS
                        return
                    }
                    tlsPending = false
                }
            }
            return
        }
        for line in client.lines(data.rawBuffer) {
            if inData {
                if line == [UInt8(ascii: ".")] {
                    inData = false
                    events.append(logEvent())
                }
                continue
            }
            if authLines > 0 {
                authLines -= 1  // credentials: not kept
                continue
            }
            let (verb, argument) = line.commandAndArgument
            switch verb {
            case "HELO", "EHLO":
                helo = argument
                events.append(AppEvent(eventType: "smtp", record: nil, transactionID: transactions,
                                       buffers: [(.smtpHelo, (argument))], toServer: true))
            case "MAIL":
                if pendingLog { events.append(logEvent()) }
                mailFrom = SMTPParser.address(argument)
                rcptTo = []
                pendingLog = true
                events.append(AppEvent(eventType: "smtp", record: nil, transactionID: transactions,
                                       buffers: [(.smtpMailFrom, (mailFrom ?? []))], toServer: true))
            case "RCPT":
                let a = SMTPParser.address(argument)
                if rcptTo.count < 256 { rcptTo.append(a) }  // RFC 5321 requires servers to take 100
                events.append(AppEvent(eventType: "smtp", record: nil, transactionID: transactions,
                                       buffers: [(.smtpRcptTo, (a))], toServer: true))
            case "DATA", "BDAT":
                inData = verb == "DATA"
            case "STARTTLS":
                startTLS = true
                tlsPending = true
                awaiting = .startTLS
            case "AUTH":
                let (mechanism, initial) = argument.commandAndArgument
                authMechanism = mechanism
                authInClear = !startTLS
                awaiting = .auth
                authLines = mechanism == "LOGIN" ? (initial.isEmpty ? 2 : 1) : (initial.isEmpty ? 1 : 0)
                events.append(note(.authAttempt, toServer: true))
            default:
                break
            }
        }
    }

    /// An event carrying only a note for the behaviour detectors.
    func note(_ note: AppNote, toServer: Bool) -> AppEvent {
        .notes([note], eventType: "smtp", transactionID: transactions, toServer: toServer)
    }

    /// `FROM:<a@b>` → `<a@b>`
    static func address(_ argument: [UInt8]) -> [UInt8] {
        guard let colon = argument.firstIndex(of: UInt8(ascii: ":")) else { return argument }
        return Array(argument[(colon + 1)...].drop { $0 == 0x20 }.prefix { $0 != 0x20 })
    }

    func logEvent() -> AppEvent {
        pendingLog = false
        var fields: [(String, JSONValue)] = []
        if let helo { fields.append(("helo", .string(printable(helo)))) }
        if let mailFrom { fields.append(("mail_from", .string(printable(mailFrom)))) }
        if !rcptTo.isEmpty { fields.append(("rcpt_to", .array(rcptTo.map { .string(printable($0)) }))) }
        if startTLS { fields.append(("starttls", .bool(true))) }
        if let authMechanism {
            fields.append(("auth_mechanism", .string(authMechanism)))
            if authInClear { fields.append(("credentials_in_clear", .bool(true))) }
        }
        defer { transactions += 1 }
        var event = AppEvent(eventType: "smtp", record: .object(fields), transactionID: transactions, buffers: [], toServer: true)
        if authMechanism != nil && authInClear { event.notes.append(.credentialsInClear("SMTP AUTH \(authMechanism ?? "")")) }
        return event
    }

    func flush(_ events: inout [AppEvent]) {
        if pendingLog || (helo != nil && transactions == 0) { events.append(logEvent()) }
    }
}

import HNDecode

/// SMTP sessions (RFC 5321): HELO/EHLO, MAIL FROM, RCPT TO, DATA, STARTTLS and AUTH. The
/// message body is skipped (its end found by the "." line), and authentication exchanges are
/// never kept: only the mechanism and the fact that it was offered before STARTTLS.
final class SMTPParser {
    /// RFC 5321 §4.5.3.1.4: a command line is at most 512 bytes; some clients exceed it.
    static let maxLine = 4096

    var client = LineReader(maxLine: SMTPParser.maxLine)
    var server = LineReader(maxLine: SMTPParser.maxLine)
    var inData = false
    var encrypted = false
    var awaitingAuth = 0
    var helo: [UInt8]? = nil
    var mailFrom: [UInt8]? = nil
    var rcptTo: [[UInt8]] = []
    var authMechanism: String? = nil
    var authInClear = false
    var startTLS = false
    var transactions = 0
    var pendingLog = false

    func receive(_ data: ByteView, toServer: Bool, events: inout [AppEvent]) {
        guard !encrypted else { return }
        if !toServer {
            for line in server.lines(data.rawBuffer) where line.starts(with: Array("220".utf8)) && startTLS {
                encrypted = true  // the rest of the session is TLS
                _ = line
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
            if awaitingAuth > 0 { awaitingAuth -= 1; continue }  // credentials: not kept
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
            case "AUTH":
                let mechanism = argument.commandAndArgument.0
                authMechanism = mechanism
                authInClear = !startTLS
                // LOGIN sends two more lines (user, password); PLAIN without an initial
                // response sends one. None of them is stored.
                if mechanism == "LOGIN" { awaitingAuth = 2 } else if argument.commandAndArgument.1.isEmpty { awaitingAuth = 1 }
            default:
                break
            }
        }
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

import HNDecode

/// SMTP sessions (RFC 5321): HELO/EHLO, MAIL FROM, RCPT TO, DATA and BDAT (RFC 3030), RSET,
/// STARTTLS and AUTH. The message is read for EVE's `email` object (its headers and
/// attachment names, `MailMessage`), its body never kept; authentication exchanges are
/// never kept: only the mechanism, the fact that it was offered before STARTTLS, and whether
/// the server accepted it (RFC 4954: 235) or refused it (4xx/5xx). A 220 reply to STARTTLS
/// (RFC 3207) hands the session to the TLS parser (`tlsAgreed`).
final class SMTPParser {
    /// RFC 5321 §4.5.3.1.4: a command line is at most 512 bytes; some clients exceed it.
    static let maxLine = 4096

    var client = LineReader(maxLine: SMTPParser.maxLine)
    var server = LineReader(maxLine: SMTPParser.maxLine)
    var inData = false
    /// The message of the transaction, from DATA or the first BDAT to its end.
    var message: MailMessage? = nil
    /// BDAT: chunk bytes still to come, whether the chunk is the LAST, and its lines.
    var chunkRemaining = 0
    var chunkIsLast = false
    var chunkLines = LineReader(maxLine: SMTPParser.maxLine)
    /// The message ended; the transaction is complete with the server's reply to it.
    var dataReplyPending = false
    /// The replies the server owes, in the order of the client's commands (RFC 2920
    /// pipelining): to DATA, to a message's end, to any other command; at most 64 kept.
    enum Reply { case data, message, other }
    var replies: [Reply] = []
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
    /// The last message line handed on was a piece of a longer line.
    var midLine = false
    /// Attachments' decoded bytes are handed to detection (`file.data`) when a rule reads them.
    let keepFiles: Bool

    init(files: Bool = false) {
        keepFiles = files
    }

    func receive(_ data: ByteView, toServer: Bool, events: inout [AppEvent]) {
        guard !tlsAgreed else { return }
        if !toServer {
            for line in server.lines(data.rawBuffer) {
                // Only a final reply ("250 ok", not "250-" continuations) answers a command.
                guard let code = line.replyCode, line.count == 3 || line[3] == 0x20 else { continue }
                // (AUTH's final reply answers it too; its 334 challenges do not.)
                if code != 334, !replies.isEmpty {
                    // Replies come in the order of the (pipelined) commands.
                    switch replies.removeFirst() {
                    case .data:
                        // Anything but 354 refuses DATA: no message follows.
                        if code != 354 && inData {
                            inData = false
                            message = nil
                        }
                    case .message:
                        if dataReplyPending { events.append(logEvent()) }
                    case .other:
                        break
                    }
                }
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
        let bytes = data.rawBuffer
        var index = 0
        while index < bytes.count {
            if chunkRemaining > 0 {
                let n = min(chunkRemaining, bytes.count - index)
                let lines = chunkLines.lines(UnsafeRawBufferPointer(rebasing: bytes[index..<(index + n)]))
                for line in lines { message?.line(line) }
                index += n
                chunkRemaining -= n
                if chunkRemaining == 0 && chunkIsLast { endMessage(&events) }
                continue
            }
            // Up to the end of the next line: a BDAT command's chunk follows it directly.
            var end = index
            while end < bytes.count && bytes[end] != 0x0A { end += 1 }
            end = min(end + 1, bytes.count)
            client.splitting = inData
            for (line, piece) in client.markedLines(UnsafeRawBufferPointer(rebasing: bytes[index..<end])) {
                if inData && (piece || midLine) {
                    // A piece of a long message line (or its last piece).
                    message?.line(line, continued: piece)
                    midLine = piece
                    continue
                }
                command(line, &events)
            }
            index = end
        }
    }

    func command(_ line: [UInt8], _ events: inout [AppEvent]) {
            if inData {
                if line == [UInt8(ascii: ".")] {
                    inData = false
                    endMessage(&events)
                    if replies.count < 64 { replies.append(.message) }
                } else {
                    // Dot-stuffing (RFC 5321 §4.5.2): a leading dot was doubled.
                    message?.line(line.first == UInt8(ascii: ".") ? Array(line.dropFirst()) : line)
                }
                return
            }
            if authLines > 0 {
                authLines -= 1  // credentials: not kept
                return
            }
            let (verb, argument) = line.commandAndArgument
            if replies.count < 64 { replies.append(verb == "DATA" ? .data : verb == "BDAT" ? .message : .other) }
            switch verb {
            case "HELO", "EHLO":
                // A new greeting ends a transaction that began (RFC 5321 §4.1.4); one without
                // a name is refused by the server and changes nothing.
                if pendingLog && !argument.isEmpty { events.append(logEvent()) }
                // A greeting without a name (refused by the server) keeps the one given before.
                if !argument.isEmpty || helo == nil { helo = argument }
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
            case "DATA":
                pendingLog = true
                inData = true
                message = MailMessage(keepFiles: keepFiles)
            case "BDAT":
                // BDAT <size> [LAST]: the chunk's bytes follow the command line.
                let words = argument.split(separator: 0x20)
                let size = words.first.flatMap { Int(String(decoding: $0, as: UTF8.self)) } ?? 0
                chunkIsLast = words.count > 1 && String(decoding: words[1], as: UTF8.self).uppercased() == "LAST"
                chunkRemaining = max(0, size)
                if message == nil { message = MailMessage(keepFiles: keepFiles) }
                if chunkRemaining == 0 && chunkIsLast { endMessage(&events) }
            case "RSET":
                // RFC 5321 §4.1.1.5: the transaction is abandoned; one that began is logged.
                if pendingLog { events.append(logEvent()) }
                mailFrom = nil
                rcptTo = []
                message = nil
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

    /// The end of a message (the "." line or the LAST chunk): the transaction is logged with
    /// the server's reply to it (or with the next transaction's start, or at the end).
    func endMessage(_ events: inout [AppEvent]) {
        if let pending = chunkLines.pending.isEmpty ? nil : chunkLines.pending {
            message?.line(pending)
            chunkLines.pending.removeAll()
        }
        message?.finish()
        dataReplyPending = true
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
        dataReplyPending = false
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
        if let message {
            event.siblings.append(("email", message.record))
            if !message.files.isEmpty {
                event.alertObjects.append(("files", .array(message.files.map { f in
                    .object([("filename", .string(suricataText(f.name))), ("gaps", .bool(false)), ("state", .string("CLOSED")),
                             ("stored", .bool(false)), ("size", .int(Int64(f.size))), ("tx_id", .int(Int64(transactions)))])
                })))
                if keepFiles {
                    var b = BufferBlock.Builder()
                    for f in message.files { b.add(.fileData, f.bytes) }
                    event.buffers = b.build()
                }
            }
            self.message = nil
        }
        if authMechanism != nil && authInClear { event.notes.append(.credentialsInClear("SMTP AUTH \(authMechanism ?? "")")) }
        return event
    }

    func flush(_ events: inout [AppEvent]) {
        if pendingLog || dataReplyPending || (helo != nil && transactions == 0) { events.append(logEvent()) }
    }
}

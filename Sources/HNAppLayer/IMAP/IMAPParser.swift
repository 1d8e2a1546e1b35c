import HNDecode

/// IMAP4 sessions (RFC 9051) as far as security needs them: the login exchange and STARTTLS.
/// Tagged commands are paired with their tagged completion (`OK`, `NO`, `BAD`); mailbox
/// traffic is not parsed (literals `{n}` of FETCH and APPEND are skipped by byte count, so
/// message text is never read as commands). Credentials are never kept (LOGIN in clear is
/// found per packet on port 143 by the behaviour detectors).
final class IMAPParser {
    /// RFC 9051 sets no line limit; 8 KiB holds any command line a client sends before a literal.
    static let maxLine = 8192
    /// Tags waiting for their completion at most (a client pipelining without answers is not
    /// followed further).
    static let maxPending = 64

    var client = LineReader(maxLine: IMAPParser.maxLine)
    var server = LineReader(maxLine: IMAPParser.maxLine)
    /// Commands sent, by tag, with the verb.
    var pending: [(tag: [UInt8], verb: String)] = []
    /// Literal bytes still to skip per direction (client, server).
    var literal = Both(0)
    /// An AUTHENTICATE is under way: client lines answer `+` challenges until its completion.
    var authenticating = false
    /// STARTTLS was asked for and not refused: a TLS record from the client now is the upgrade.
    var tlsPending = false
    /// The server completed STARTTLS with OK: the rest of the session is TLS.
    var tlsAgreed = false

    /// A server greeting: `* OK`, `* PREAUTH` or `* BYE` (RFC 9051 §7.1).
    static func looksLikeGreeting(_ d: ByteView) -> Bool {
        let head = d.prefix(10).toArray()
        return head.starts(with: Array("* OK".utf8)) || head.starts(with: Array("* PREAUTH".utf8)) || head.starts(with: Array("* BYE".utf8))
    }

    func receive(_ data: ByteView, toServer: Bool, events: inout [AppEvent]) {
        guard !tlsAgreed else { return }
        let d = toServer ? 0 : 1
        let b = data.rawBuffer
        var i = 0
        while i < b.count {
            if literal[d] > 0 {
                // A literal's bytes are data, not lines.
                let n = min(literal[d], b.count - i)
                literal[d] -= n
                i += n
                continue
            }
            var j = i
            while j < b.count && b[j] != 0x0A { j += 1 }
            let end = min(j + 1, b.count)
            let piece = UnsafeRawBufferPointer(rebasing: b[i..<end])
            i = end
            let lines = toServer ? client.lines(piece) : server.lines(piece)
            for line in lines {
                if let n = IMAPParser.literalLength(line) { literal[d] = n }
                if toServer { clientLine(line, events: &events) } else { serverLine(line, events: &events) }
                if tlsAgreed { return }
            }
        }
    }

    /// `{123}` or `{123+}` at the end of a line announces that many bytes of literal.
    static func literalLength(_ line: [UInt8]) -> Int? {
        guard line.last == UInt8(ascii: "}"), let open = line.lastIndex(of: UInt8(ascii: "{")) else { return nil }
        let digits = line[(open + 1)..<(line.count - 1)].filter { $0 != UInt8(ascii: "+") }
        guard !digits.isEmpty, digits.count <= 9, digits.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else { return nil }
        return digits.reduce(0) { $0 * 10 + Int($1 - 0x30) }
    }

    func clientLine(_ line: [UInt8], events: inout [AppEvent]) {
        if authenticating { return }  // a SASL response: credentials, not kept
        let rest = line.commandAndArgument.1
        let tag = Array(line.prefix { $0 != 0x20 })
        let verb = rest.commandAndArgument.0
        guard !tag.isEmpty, !verb.isEmpty else { return }
        if pending.count >= IMAPParser.maxPending { pending.removeFirst() }
        pending.append((tag, verb))
        switch verb {
        case "LOGIN":
            events.append(note([.authAttempt], toServer: true))
        case "AUTHENTICATE":
            authenticating = true
            events.append(note([.authAttempt], toServer: true))
        case "STARTTLS":
            tlsPending = true
        default:
            break
        }
    }

    func serverLine(_ line: [UInt8], events: inout [AppEvent]) {
        // Untagged data ("* ...") and continuation requests ("+ ...") complete nothing.
        guard let first = line.first, first != UInt8(ascii: "*"), first != UInt8(ascii: "+") else { return }
        let tag = Array(line.prefix { $0 != 0x20 })
        guard let i = pending.firstIndex(where: { $0.tag == tag }) else { return }
        let verb = pending[i].verb
        pending.remove(at: i)
        let status = Array(line.dropFirst(tag.count)).commandAndArgument.1.commandAndArgument.0
        let ok = status == "OK"
        switch verb {
        case "LOGIN", "AUTHENTICATE":
            authenticating = false
            events.append(note([ok ? .authSuccess : .authFailure], toServer: false))
        case "STARTTLS":
            if ok { tlsAgreed = true } else { tlsPending = false }
        default:
            break
        }
    }

    func note(_ notes: [AppNote], toServer: Bool) -> AppEvent { .notes(notes, eventType: "imap", toServer: toServer) }
}

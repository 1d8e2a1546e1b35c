import HNDecode

/// FTP control connections (RFC 959, 2428): commands and replies, one transaction per
/// command. The argument of PASS is never stored or logged: only that a password went in
/// clear. PORT/EPRT and the 227/229 replies announce data connections, which the application
/// layer links back to this flow. A 234 reply to `AUTH TLS` (RFC 4217) hands the control
/// connection to the TLS parser (`tlsAgreed`).
final class FTPParser {
    static let maxLine = 4096
    /// Commands waiting for a reply at most; more are parsed but not kept.
    static let maxPending = 256

    var client = LineReader(maxLine: FTPParser.maxLine)
    var server = LineReader(maxLine: FTPParser.maxLine)
    typealias Command = (command: String, argument: [UInt8]?, id: Int, cut: Bool)
    var pending: [Command] = []
    /// Replies cut at `maxLine`, by command.
    var cutReplies: Set<Int> = []
    /// The data port a PASV/EPSV reply or a PORT/EPRT command announced, by command.
    var dynamicPorts: [Int: UInt16] = [:]
    var nextID = 0
    var user: [UInt8]? = nil
    var passwordInClear = false
    /// Data connections announced: (address or nil for "the server", port, passive).
    var announcedData: [(address: IPAddress?, port: UInt16, passive: Bool)] = []
    var replies: [Int: [String]] = [:]
    /// AUTH TLS (or SSL) was asked for and not refused: a TLS record from the client now is the upgrade.
    var tlsPending = false
    /// The server agreed to AUTH TLS: the rest of the control connection is TLS.
    var tlsAgreed = false

    /// RFC 4217 §3: the mechanisms of `AUTH` that start TLS.
    static let tlsMechanisms: Set<String> = ["TLS", "SSL", "TLS-C", "TLS-P"]

    func receive(_ data: ByteView, toServer: Bool, events: inout [AppEvent]) {
        guard !tlsAgreed else { return }
        if toServer {
            for (line, cut) in client.markedLines(data.rawBuffer) {
                let (verb, argument) = line.commandAndArgument
                let id = nextID
                nextID += 1
                var buffers: [(InspectionBuffer, [UInt8])] = [(.ftpCommand, (Array(verb.utf8)))]
                if pending.count >= FTPParser.maxPending { pending.removeFirst() }
                if verb == "PASS" {
                    passwordInClear = true
                    pending.append((verb, nil, id, cut))
                } else {
                    if verb == "USER" { user = argument }
                    if verb == "AUTH", FTPParser.tlsMechanisms.contains(String(decoding: argument, as: UTF8.self).uppercased()) { tlsPending = true }
                    if verb == "PORT", let endpoint = FTPParser.hostPort(argument) {
                        announcedData.append((endpoint.0, endpoint.1, false))
                        dynamicPorts[id] = endpoint.1
                    }
                    if verb == "EPRT", let endpoint = FTPParser.extendedPort(argument) {
                        announcedData.append((endpoint.0, endpoint.1, false))
                        dynamicPorts[id] = endpoint.1
                    }
                    buffers.append((.ftpCommandData, (argument)))
                    pending.append((verb, argument, id, cut))
                }
                events.append(AppEvent(eventType: "ftp", record: nil, transactionID: id, buffers: BufferBlock(buffers), toServer: true))
            }
        } else {
            for (line, cut) in server.markedLines(data.rawBuffer) {
                let text = printable(line)
                guard line.count >= 3, let code = Int(String(decoding: line.prefix(3), as: UTF8.self)) else { continue }
                var passivePort: UInt16? = nil
                if code == 227, let open = line.firstIndex(of: UInt8(ascii: "(")), let endpoint = FTPParser.hostPort(Array(line[(open + 1)...])) {
                    announcedData.append((endpoint.0, endpoint.1, true))
                    passivePort = endpoint.1
                }
                if code == 229, let endpoint = FTPParser.extendedPassive(line) {
                    announcedData.append((nil, endpoint, true))
                    passivePort = endpoint
                }
                guard let first = pending.first else { continue }
                if let passivePort { dynamicPorts[first.id] = passivePort }
                if cut { cutReplies.insert(first.id) }
                replies[first.id, default: []].append(text)
                // A final reply (not "123-" continuation, not 1xx preliminary) ends the command.
                let continuation = line.count > 3 && line[3] == UInt8(ascii: "-")
                if !continuation && code >= 200 {
                    pending.removeFirst()
                    events.append(logEvent(first))
                    if first.command == "AUTH" && tlsPending {
                        // 234: the rest is TLS; anything else refuses it.
                        if code == 234 { tlsAgreed = true; return }
                        tlsPending = false
                    }
                }
            }
        }
    }

    /// `h1,h2,h3,h4,p1,p2`
    static func hostPort(_ text: [UInt8]) -> (IPAddress, UInt16)? {
        let digits = String(decoding: text.prefix { $0 != UInt8(ascii: ")") && $0 != 0x0D }, as: UTF8.self)
        let parts = digits.split(separator: ",").compactMap { UInt32($0.trimmingCharacters(in: " ")) }
        guard parts.count == 6, parts.allSatisfy({ $0 <= 255 }) else { return nil }
        return (IPAddress(ipv4: parts[0] << 24 | parts[1] << 16 | parts[2] << 8 | parts[3]), UInt16(parts[4] << 8 | parts[5]))
    }

    /// `|1|10.0.0.1|5282|`
    static func extendedPort(_ text: [UInt8]) -> (IPAddress?, UInt16)? {
        let s = String(decoding: text, as: UTF8.self)
        guard let d = s.first else { return nil }
        let parts = s.split(separator: d, omittingEmptySubsequences: false)
        guard parts.count >= 4, let port = UInt16(parts[3]) else { return nil }
        return (IPAddress(parts[2]), port)
    }

    /// `229 Entering Extended Passive Mode (|||6446|)`
    static func extendedPassive(_ line: [UInt8]) -> UInt16? {
        guard let open = line.firstIndex(of: UInt8(ascii: "(")) else { return nil }
        let inner = String(decoding: line[(open + 1)...].prefix { $0 != UInt8(ascii: ")") }, as: UTF8.self)
        return inner.split(separator: "|").compactMap { UInt16($0) }.first
    }

    func logEvent(_ command: Command) -> AppEvent {
        var fields: [(String, JSONValue)] = [("command", .string(command.command))]
        if let argument = command.argument, !argument.isEmpty { fields.append(("command_data", .string(printable(argument)))) }
        if command.command == "PASS" { fields.append(("credentials_in_clear", .bool(true))) }
        let lines = replies.removeValue(forKey: command.id) ?? []
        if !lines.isEmpty {
            fields.append(("reply", .array(lines.map { .string(String($0.dropFirst(4))) })))
            fields.append(("completion_code", .array(lines.map { .string(String($0.prefix(3))) })))
        }
        // As Suricata: the data port announced, whether the reply came, and line cuts.
        if let port = dynamicPorts.removeValue(forKey: command.id) {
            fields.append(("dynamic_port", .int(Int64(port))))
            fields.append(("mode", .string(["PORT", "EPRT"].contains(command.command) ? "active" : "passive")))
        }
        fields.append(("reply_received", .string(lines.isEmpty ? "no" : "yes")))
        fields.append(("command_truncated", .bool(command.cut)))
        fields.append(("reply_truncated", .bool(cutReplies.remove(command.id) != nil)))
        var event = AppEvent(eventType: "ftp", record: .object(fields), transactionID: command.id, buffers: [], toServer: true)
        if command.command == "PASS" {
            event.notes.append(.credentialsInClear("FTP PASS"))
            event.notes.append(.authAttempt)
        }
        if lines.contains(where: { $0.hasPrefix("530") }) { event.notes.append(.authFailure) }
        if lines.contains(where: { $0.hasPrefix("230") }) { event.notes.append(.authSuccess) }
        return event
    }

    func flush(_ events: inout [AppEvent]) {
        for p in pending { events.append(logEvent(p)) }
        pending = []
    }
}

extension Substring {
    func trimmingCharacters(in set: String) -> String {
        var s = self
        while let f = s.first, set.contains(f) { s = s.dropFirst() }
        while let l = s.last, set.contains(l) { s = s.dropLast() }
        return String(s)
    }
}

import HNDecode

/// SMB over TCP 445 (NetBIOS session framing): SMB1 and SMB2/3 negotiation (offered and
/// chosen dialects) and the NTLMSSP user, domain and host of session setup. Message bodies
/// beyond these are not parsed.
final class SMBParser {
    /// Largest SMB message looked at (larger ones, file transfers, are skipped over).
    static let maxMessage = 1 << 20

    var buffers = Both<[UInt8]>([])
    var skip = [0, 0]
    var dialects: [String] = []
    var dialect: String? = nil
    var logged = false
    var messages = 0
    /// SMB2/3 transactions, and SMB1's generic ones.
    var smb2 = SMB2Transactions()

    /// `fileData`: the bytes of files read and written are handed to detection (`file.data`)
    /// when a rule reads them.
    init(fileData: Bool = true) {
        smb2.fileData = fileData
    }

    static func looksLikeSMB(_ d: ByteView) -> Bool {
        guard d.u8(0) == 0, let m = d.u8(4), d.u8(5) == UInt8(ascii: "S"), d.u8(6) == UInt8(ascii: "M"), d.u8(7) == UInt8(ascii: "B") else { return false }
        return m == 0xFF || m == 0xFE
    }

    static func dialectName(_ v: UInt16) -> String {
        switch v {
        case 0x0202: "2.02"
        case 0x0210: "2.10"
        case 0x0222: "2.22"
        case 0x0224: "2.24"
        case 0x0300: "3.00"
        case 0x0302: "3.02"
        case 0x0310: "3.10"
        case 0x0311: "3.11"
        case 0x02FF: "2.??"
        default: "unknown"
        }
    }

    func receive(_ data: ByteView, toServer: Bool, events: inout [AppEvent]) {
        let d = toServer ? 0 : 1
        var input = data
        if skip[d] > 0 {
            let n = min(skip[d], input.count)
            skip[d] -= n
            input = input.suffix(from: n) ?? .empty
        }
        buffers[d].append(contentsOf: input.rawBuffer)
        while buffers[d].count >= 4 {
            let b = buffers[d]
            let length = Int(b[1]) << 16 | Int(b[2]) << 8 | Int(b[3])
            if length > SMBParser.maxMessage {
                // A large READ or WRITE: its header (and fixed part) is all that is read.
                if b.count >= 4 + 64 {
                    messages += 1
                    Array(b[4...]).withUnsafeBytes { parse(ByteView($0), toServer: toServer, events: &events) }
                }
                skip[d] = length - (b.count - 4)
                buffers[d] = []
                return
            }
            guard b.count >= 4 + length else { return }
            let message = Array(b[4..<(4 + length)])
            buffers[d].removeFirst(4 + length)
            messages += 1
            message.withUnsafeBytes { parse(ByteView($0), toServer: toServer, events: &events) }
        }
    }

    func parse(_ m: ByteView, toServer: Bool, events: inout [AppEvent]) {
        guard let protocolByte = m.u8(0) else { return }
        if protocolByte == 0xFF {  // SMB1
            guard m.u8(4) == 0x72 else {
                smb2.smb1Message(m, toServer: toServer, dialect: dialect, events: &events)
                return
            }
            if toServer, let wordCount = m.u8(32), let byteCount = m.u16le(33 + Int(wordCount) * 2),
               let names = m.slice(35 + Int(wordCount) * 2, Int(byteCount)) {
                for part in names.toArray().split(separator: 0x02) {
                    let name = String(decoding: part.prefix { $0 != 0 }, as: UTF8.self)
                    if !name.isEmpty && dialects.count < 64 { dialects.append(name) }
                }
                // The NEGOTIATE's transaction (an SMB2 answer completes it in SMB2Transactions).
                if smb2.smb1Negotiate == nil && !logged {
                    smb2.smb1Negotiate = (smb2.nextID, dialects)
                    smb2.nextID += 1
                }
            } else if !toServer, let index = m.u16le(33), Int(index) < dialects.count {
                dialect = dialects[Int(index)]
            }
            return
        }
        guard protocolByte == 0xFE else { return }
        // SMB2/3: each message of a compound chain (NextCommand) is its own transaction.
        var message = m
        for _ in 0..<64 {
            smb2.message(message, toServer: toServer, ntlmssp: SMBParser.ntlmssp, events: &events)
            guard let next = message.u32le(20), next >= 64, let rest = message.suffix(from: Int(next)), rest.count >= 64 else { break }
            message = rest
        }
    }

    /// The names of an NTLMSSP AUTHENTICATE message in a security blob (domain, user, host,
    /// and the client's version when it sends one), as Suricata logs them.
    static func ntlmssp(_ blob: ByteView) -> [(String, JSONValue)]? {
        let bytes = blob.toArray()
        let signature = Array("NTLMSSP\0".utf8)
        guard bytes.count > signature.count,
              let start = (0...(bytes.count - signature.count)).first(where: { Array(bytes[$0..<($0 + signature.count)]) == signature }) else { return nil }
        return bytes.withUnsafeBytes { raw -> [(String, JSONValue)]? in
            // Message type 3 (AUTHENTICATE), a little-endian 32-bit field after the signature.
            guard let n = ByteView(raw).suffix(from: start), n.u8(8) == 3 else { return nil }
            func field(_ at: Int) -> String? {
                guard let length = n.u16le(at), let offset = n.u16le(at + 4), let f = n.slice(Int(offset), Int(length)) else { return nil }
                return SMB2Transactions.utf16(f)
            }
            var out: [(String, JSONValue)] = []
            if let d = field(28) { out.append(("domain", .string(d))) }
            if let u = field(36) { out.append(("user", .string(u))) }
            if let h = field(44) { out.append(("host", .string(h))) }
            // NTLMSSP_NEGOTIATE_VERSION: major, minor, build, then the revision at +7.
            if let flags = n.u32le(60), flags & 0x0200_0000 != 0, let major = n.u8(64), let minor = n.u8(65),
               let build = n.u16le(66), let revision = n.u8(71) {
                out.append(("version", .string("\(major).\(minor) build \(build) rev \(revision)")))
            }
            return out
        }
    }

    /// An SMB1 session's NEGOTIATE record: the dialects offered and the one chosen.
    func logEvent() -> AppEvent {
        logged = true
        var fields: [(String, JSONValue)] = []
        if let n = smb2.smb1Negotiate { fields.append(("id", .int(Int64(n.id)))) }
        fields.append(("dialect", .string(dialect ?? "unknown")))
        fields.append(("command", .string("SMB1_COMMAND_NEGOTIATE_PROTOCOL")))
        if !dialects.isEmpty { fields.append(("client_dialects", .array(dialects.map { .string($0) }))) }
        var event = AppEvent(eventType: "smb", record: .object(fields), transactionID: max(0, (smb2.smb1Negotiate?.id ?? 1) - 1), buffers: [], toServer: true)
        event.kind = SMB2Transactions.Kind.negotiate.rawValue
        smb2.smb1Negotiate = nil
        return event
    }

    func flush(_ events: inout [AppEvent]) {
        if !logged && smb2.smb1Negotiate != nil { events.append(logEvent()) }
        smb2.flush(&events)
    }
}

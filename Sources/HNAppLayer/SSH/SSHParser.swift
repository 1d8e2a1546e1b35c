import HNDecode

/// SSH version exchange (RFC 4253 §4.2) and KEXINIT for HASSH fingerprints, per direction;
/// then the clear packets of the key exchange up to each side's NEWKEYS (§7.3), after which
/// the session is encrypted. Client data after both NEWKEYS is the user-authentication phase
/// (RFC 4252), noted once for the brute-force detector.
final class SSHParser {
    /// A banner line is at most 255 bytes (RFC 4253 §4.2).
    static let maxBanner = 255
    /// KEXINIT packets larger than this are not parsed.
    static let maxPacket = 35_000

    var buffers = Both<[UInt8]>([])
    var banner = Both<[UInt8]?>(nil)
    var hassh = Both<String?>(nil)
    var hasshHash = Both<String?>(nil)
    var done = Both(false)
    var logged = false
    /// Key-exchange packets after KEXINIT read at most (DH init/reply, GEX request/group…).
    static let maxKexPackets = 8
    var kexPackets = Both(0)
    /// Each side's NEWKEYS was seen; past it the side is encrypted.
    var newKeys = Both(false)
    /// The key exchange cannot be followed (a packet too long, too many): no phase is noted.
    var kexLost = Both(false)
    var clientSentEncrypted = false
    var authPhaseNoted = false
    /// The pipeline's parser scratch (the block builder).
    let scratch: ParserScratch

    init(scratch: ParserScratch = ParserScratch()) { self.scratch = scratch }

    static func looksLikeSSH(_ d: ByteView) -> Bool {
        d.count >= 4 && d.u8(0) == UInt8(ascii: "S") && d.u8(1) == UInt8(ascii: "S") && d.u8(2) == UInt8(ascii: "H") && d.u8(3) == UInt8(ascii: "-")
    }

    func receive(_ data: ByteView, toServer: Bool, events: inout [AppEvent]) {
        let d = toServer ? 0 : 1
        guard !done[d] else {
            keyExchange(data, d, events: &events)
            return
        }
        buffers[d].append(contentsOf: data.rawBuffer)
        if banner[d] == nil {
            guard let nl = buffers[d].firstIndex(of: 0x0A) else {
                if buffers[d].count > SSHParser.maxBanner { done[d] = true; buffers[d] = [] }
                return
            }
            var line = Array(buffers[d][..<nl])
            if line.last == 0x0D { line.removeLast() }
            buffers[d].removeFirst(nl + 1)
            guard line.starts(with: "SSH-".utf8) else { done[d] = true; return }
            banner[d] = line
            events.append(bannerEvent(d))
            // Without HASSH the record is complete with both banners (Suricata logs it then).
            if !scratch.hassh && banner[0] != nil && banner[1] != nil && !logged { events.append(logEvent()) }
        }
        // Binary packet: length(4) padding(1) payload; KEXINIT is message 20.
        guard buffers[d].count >= 6 else { return }
        let b = buffers[d]
        let length = Int(b[0]) << 24 | Int(b[1]) << 16 | Int(b[2]) << 8 | Int(b[3])
        guard length <= SSHParser.maxPacket else { done[d] = true; buffers[d] = []; return }
        guard b.count >= 4 + length else { return }
        done[d] = true
        let padding = Int(b[4])
        guard b[5] == 20, length >= padding + 1 + 17 else { buffers[d] = []; kexLost[d] = true; return }
        let payload = Array(b[5..<(4 + length - padding)])
        // What follows KEXINIT in this chunk belongs to the key exchange.
        let after = Array(b[(4 + length)...])
        buffers[d] = []
        defer { after.withUnsafeBytes { keyExchange(ByteView($0), d, events: &events) } }
        payload.withUnsafeBytes { raw in
            let p = ByteView(raw)
            var offset = 17
            var lists: [ByteView] = []
            lists.reserveCapacity(10)
            for _ in 0..<10 {
                guard let n = p.u32(offset), let s = p.slice(offset + 4, Int(n)) else { return }
                lists.append(s)
                offset += 4 + Int(n)
            }
            // kex;enc;mac;comp of this side's sending direction.
            var text = ASCIIText(capacity: 512)
            // Lists 0, 2, 4, 6 for the client; 0, 3, 5, 7 for the server.
            for k in 0..<4 {
                if k > 0 { text.byte(UInt8(ascii: ";")) }
                text.bytes.append(contentsOf: lists[k == 0 ? 0 : 2 * k + d].rawBuffer)
            }
            var string = text.string
            // The hash of the string as decoded (invalid UTF-8 replaced), as logged.
            let hash = string.withUTF8 { ASCIIText.md5(UnsafeRawBufferPointer($0)) }
            hassh[d] = string
            hasshHash[d] = hash
            scratch.builder.add(d == 0 ? .sshHassh : .sshHasshServer, hash)
            scratch.builder.add(d == 0 ? .sshHasshString : .sshHasshServerString, string)
            events.append(AppEvent(eventType: "ssh", record: nil, transactionID: 0, buffers: scratch.builder.build(), toServer: d == 0))
        }
        if done[0] && done[1] && !logged { events.append(logEvent()) }
    }

    /// The clear packets after KEXINIT, up to NEWKEYS (message 21); then only whether the
    /// client sends anything encrypted.
    func keyExchange(_ data: ByteView, _ d: Int, events: inout [AppEvent]) {
        guard !kexLost[d], data.count > 0 else { return }
        if newKeys[d] {
            if d == 0 { clientSentEncrypted = true }
            noteAuthPhase(&events)
            return
        }
        buffers[d].append(contentsOf: data.rawBuffer)
        // The header is read in place: a copy of the buffer bound here would make the
        // removeFirst below copy the whole buffer again.
        while buffers[d].count >= 6 {
            let length = Int(buffers[d][0]) << 24 | Int(buffers[d][1]) << 16 | Int(buffers[d][2]) << 8 | Int(buffers[d][3])
            guard length <= SSHParser.maxPacket, kexPackets[d] < SSHParser.maxKexPackets else {
                kexLost[d] = true
                buffers[d] = []
                return
            }
            guard buffers[d].count >= 4 + length else { return }
            kexPackets[d] += 1
            if buffers[d][5] == 21 {
                newKeys[d] = true
                if d == 0 && buffers[d].count > 4 + length { clientSentEncrypted = true }
                buffers[d] = []
                noteAuthPhase(&events)
                return
            }
            buffers[d].removeFirst(4 + length)
        }
    }

    /// Both sides switched keys and the client sent encrypted packets: it is authenticating.
    func noteAuthPhase(_ events: inout [AppEvent]) {
        guard newKeys[0], newKeys[1], clientSentEncrypted, !authPhaseNoted else { return }
        authPhaseNoted = true
        events.append(.notes([.encryptedAuthPhase], eventType: "ssh", toServer: true))
    }

    /// `SSH-protoversion-softwareversion comments`.
    static func split(_ line: [UInt8]) -> (proto: String, software: String) {
        let body = line.dropFirst(4)
        guard let dash = body.firstIndex(of: UInt8(ascii: "-")) else { return (printable(body), "") }
        let software = body[(dash + 1)...].prefix { $0 != 0x20 }
        return (printable(body[..<dash]), printable(software))
    }

    func bannerEvent(_ d: Int) -> AppEvent {
        guard let line = banner[d] else { return AppEvent(eventType: "ssh", record: nil, transactionID: 0, buffers: [], toServer: d == 0) }
        let (proto, software) = SSHParser.split(line)
        scratch.builder.add(.sshProto, proto)
        scratch.builder.add(.sshSoftware, software)
        return AppEvent(eventType: "ssh", record: nil, transactionID: 0, buffers: scratch.builder.build(), toServer: d == 0)
    }

    func logEvent() -> AppEvent {
        logged = true
        return AppEvent(eventType: "ssh", record: record, transactionID: 0, buffers: [], toServer: true)
    }

    /// The `ssh` object: each side's banner (and hassh) seen so far.
    var record: JSONValue {
        var fields: [(String, JSONValue)] = []
        fields.reserveCapacity(2)
        for d in 0..<2 {
            guard let line = banner[d] else { continue }
            let (proto, software) = SSHParser.split(line)
            var side: [(String, JSONValue)] = []
            side.reserveCapacity(3)
            side.append(("proto_version", .string(proto)))
            side.append(("software_version", .string(software)))
            if let h = hassh[d], let hash = hasshHash[d] {
                side.append(("hassh", .object([("hash", .string(hash)), ("string", .string(h))])))
            }
            fields.append((d == 0 ? "client" : "server", .object(side)))
        }
        return .object(fields)
    }
}

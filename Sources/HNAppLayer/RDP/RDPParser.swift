import HNDecode

/// RDP connection setup (MS-RDPBCGR 2.2.1.1-2.2.1.4): the X.224 Connection Request with its
/// `mstshash` cookie and requested security protocols, the Connection Confirm, then (standard
/// RDP security, no TLS) the MCS Connect Initial with the client's core data and channels,
/// and the server's MCS Connect Response: one transaction each, as Suricata logs them.
final class RDPParser {
    var buffers = Both<[UInt8]>([])
    var done = Both(false)
    /// PDUs read per direction (the X.224 one, then the MCS one).
    var seen = Both(0)
    var transactions = 0
    var cookie: [UInt8]? = nil
    var requested: UInt32? = nil
    var selected: UInt32? = nil

    static func looksLikeRDP(_ d: ByteView) -> Bool {
        // TPKT version 3, reserved 0, then an X.224 Connection Request (0xE0).
        d.u8(0) == 3 && d.u8(1) == 0 && (d.u8(5).map { $0 & 0xF0 == 0xE0 } ?? false)
    }

    static func protocols(_ mask: UInt32) -> [JSONValue] {
        var out: [JSONValue] = []
        if mask == 0 { out.append(.string("rdp")) }
        if mask & 1 != 0 { out.append(.string("ssl")) }
        if mask & 2 != 0 { out.append(.string("hybrid")) }
        if mask & 4 != 0 { out.append(.string("rdstls")) }
        if mask & 8 != 0 { out.append(.string("hybrid_ex")) }
        return out
    }

    func receive(_ data: ByteView, toServer: Bool, events: inout [AppEvent]) {
        let d = toServer ? 0 : 1
        guard !done[d] else { return }
        buffers[d].append(contentsOf: data.rawBuffer)
        while !done[d] {
            let b = buffers[d]
            guard b.count >= 4 else { return }
            guard b[0] == 3 else { done[d] = true; buffers[d] = []; return }
            let length = Int(b[2]) << 8 | Int(b[3])
            guard length >= 7, length <= 8192 else { done[d] = true; buffers[d] = []; return }
            guard b.count >= length else { return }
            let pdu = Array(b[4..<length])
            buffers[d].removeFirst(length)
            seen[d] += 1
            pdu.withUnsafeBytes { self.pdu(ByteView($0), toServer: toServer, events: &events) }
            // After the MCS exchange (or a TLS upgrade) nothing more is read.
            if seen[d] >= 2 || (seen[d] == 1 && (selected ?? 0) != 0) { done[d] = true; buffers[d] = [] }
        }
    }

    func log(_ fields: [(String, JSONValue)], toServer: Bool) -> AppEvent {
        defer { transactions += 1 }
        return AppEvent(eventType: "rdp", record: .object([("tx_id", .int(Int64(transactions)))] + fields), transactionID: transactions,
                        buffers: [], toServer: toServer)
    }

    func pdu(_ x: ByteView, toServer: Bool, events: inout [AppEvent]) {
        guard let li = x.u8(0), let code = x.u8(1) else { return }
        if code == 0xF0 {
            // X.224 Data: an MCS Connect Initial (BER 7F 65) or Connect Response (7F 66).
            guard let mcs = x.suffix(from: Int(li) + 1), mcs.u8(0) == 0x7F, let tag = mcs.u8(1) else { return }
            if toServer && tag == 0x65 {
                events.append(log(RDPParser.connectRequest(mcs), toServer: true))
            } else if !toServer && tag == 0x66 {
                events.append(log([("event_type", .string("connect_response"))], toServer: false))
            }
            return
        }
        let variable = x.suffix(from: 7) ?? .empty
        let end = min(Int(li) + 1, x.count)
        var rest = x.slice(7, max(0, end - 7)) ?? variable
        if toServer && code & 0xF0 == 0xE0 {
            // "Cookie: mstshash=NAME\r\n", then the RDP_NEG_REQ.
            let prefix = Array("Cookie: mstshash=".utf8)
            let bytes = rest.toArray()
            if bytes.starts(with: prefix), let cr = bytes.firstIndex(of: 0x0D) {
                cookie = Array(bytes[prefix.count..<cr])
                rest = rest.suffix(from: cr + 2) ?? .empty
            }
            if rest.u8(0) == 1, let mask = rest.u16le(4).map({ UInt32($0) }), let high = rest.u16le(6) {
                requested = mask | UInt32(high) << 16
            }
            var fields: [(String, JSONValue)] = [("event_type", .string("initial_request"))]
            if let cookie { fields.append(("cookie", .string(printable(cookie)))) }
            if let requested { fields.append(("requested_protocols", .array(RDPParser.protocols(requested)))) }
            events.append(log(fields, toServer: true))
        } else if !toServer && code & 0xF0 == 0xD0 {
            if rest.u8(0) == 2, let low = rest.u16le(4), let high = rest.u16le(6) { selected = UInt32(low) | UInt32(high) << 16 }
            var fields: [(String, JSONValue)] = [("event_type", .string("initial_response"))]
            if let selected { fields.append(("protocol", .array(RDPParser.protocols(selected)))) }
            var event = log(fields, toServer: false)
            // CredSSP (hybrid, hybrid_ex): the client authenticates next (network level
            // authentication), inside TLS.
            if let selected, selected & 0x0A != 0 { event.notes.append(.encryptedAuthPhase) }
            events.append(event)
        }
    }

    /// The client's core data and channels from the GCC user data of an MCS Connect
    /// Initial (the blocks after the "Duca" key, MS-RDPBCGR 2.2.1.3).
    static func connectRequest(_ mcs: ByteView) -> [(String, JSONValue)] {
        var fields: [(String, JSONValue)] = [("event_type", .string("connect_request"))]
        let bytes = mcs.toArray()
        let key = Array("Duca".utf8)
        guard bytes.count > 8, let at = (0...(bytes.count - key.count)).first(where: { Array(bytes[$0..<($0 + key.count)]) == key }) else { return fields }
        var i = at + key.count
        guard i < bytes.count else { return fields }
        i += bytes[i] & 0x80 != 0 ? 2 : 1  // PER length of the user data
        var client: [(String, JSONValue)] = []
        var channels: [JSONValue] = []
        bytes.withUnsafeBytes { raw in
            let v = ByteView(raw)
            for _ in 0..<16 {
                guard let type = v.u16le(i), let length = v.u16le(i + 2), length >= 4, let block = v.slice(i, Int(length)) else { break }
                switch type {
                case 0xC001: client = core(block)
                case 0xC003:
                    if let count = block.u32le(4) {
                        for c in 0..<min(Int(count), 31) {
                            guard let name = block.slice(8 + 12 * c, 8) else { break }
                            channels.append(.string(printable(name.toArray().prefix { $0 != 0 })))
                        }
                    }
                default: break
                }
                i += Int(length)
            }
        }
        if !client.isEmpty { fields.append(("client", .object(client))) }
        if !channels.isEmpty { fields.append(("channels", .array(channels))) }
        return fields
    }

    /// TS_UD_CS_CORE as Suricata logs it.
    static func core(_ b: ByteView) -> [(String, JSONValue)] {
        var out: [(String, JSONValue)] = []
        guard let version = b.u32le(4), let width = b.u16le(8), let height = b.u16le(10), let layout = b.u32le(16),
              let build = b.u32le(20), let name = b.slice(24, 32) else { return out }
        out.append(("version", .string(versionName(version))))
        out.append(("desktop_width", .int(Int64(width))))
        out.append(("desktop_height", .int(Int64(height))))
        if let depth = b.u16le(140), [4, 8, 15, 16, 24].contains(depth) { out.append(("color_depth", .int(Int64(depth)))) }
        out.append(("keyboard_layout", .string(keyboardLayouts[layout] ?? "unknown")))
        out.append(("build", .string(windowsBuilds[build] ?? "unknown")))
        let clientName = SMB2Transactions.utf16(name).prefix { $0 != "\u{0}" }
        if !clientName.isEmpty { out.append(("client_name", .string(String(clientName)))) }
        if let type = b.u32le(56), type >= 1, type <= 7 { out.append(("keyboard_type", .string(["xt", "ico", "at", "enhanced", "1050", "9140", "jp"][Int(type) - 1]))) }
        if let sub = b.u32le(60), sub != 0 { out.append(("keyboard_subtype", .int(Int64(sub)))) }
        if let keys = b.u32le(64), keys != 0 { out.append(("function_keys", .int(Int64(keys)))) }
        if let ime = b.slice(68, 64) {
            let text = SMB2Transactions.utf16(ime).prefix { $0 != "\u{0}" }
            if !text.isEmpty { out.append(("ime", .string(String(text)))) }
        }
        if let product = b.u16le(134) { out.append(("product_id", .int(Int64(product)))) }
        if let serial = b.u32le(136), serial != 0 { out.append(("serial_number", .int(Int64(serial)))) }
        if let flags = b.u16le(144), flags != 0 {
            let names: [(UInt16, String)] = [(0x0001, "support_errinfo_pdf"), (0x0002, "want_32bpp_session"), (0x0004, "support_statusinfo_pdu"),
                                             (0x0008, "strong_asymmetric_keys"), (0x0020, "valid_connection_type"),
                                             (0x0040, "support_monitor_layout_pdu"), (0x0080, "support_netchar_autodetect"),
                                             (0x0100, "support_dynvc_gfx_protocol"), (0x0200, "support_dynamic_time_zone"),
                                             (0x0400, "support_heartbeat_pdu")]
            out.append(("capabilities", .array(names.filter { flags & $0.0 != 0 }.map { .string($0.1) })))
        }
        if let id = b.slice(146, 64) {
            let text = SMB2Transactions.utf16(id).prefix { $0 != "\u{0}" }
            if !text.isEmpty { out.append(("id", .string(String(text)))) }
        }
        if let hint = b.u8(210), hint >= 1, hint <= 7 {
            out.append(("connection_hint", .string(["modem", "low_broadband", "satellite", "high_broadband", "wan", "lan", "autodetect"][Int(hint) - 1])))
        }
        return out
    }

    /// RDP client versions (TS_UD_CS_CORE.version), as Suricata names them.
    static func versionName(_ v: UInt32) -> String {
        switch v {
        case 0x0008_0001: "v4"
        case 0x0008_0004: "v5"
        case 0x0008_0005...0x0008_0011: "v10.\(v - 0x0008_0005)"
        default: "unknown"
        }
    }

    /// Windows builds by number.
    static let windowsBuilds: [UInt32: String] = [
        2195: "Windows 2000", 2600: "Windows XP", 3790: "Windows Server 2003", 6000: "Windows Vista", 6001: "Windows Vista SP1",
        6002: "Windows Vista SP2", 7600: "Windows 7", 7601: "Windows 7 SP1", 9200: "Windows 8", 9600: "Windows 8.1", 10240: "Windows 10",
    ]

    /// Keyboard layouts (Windows LCIDs) of the region.
    static let keyboardLayouts: [UInt32: String] = [
        0x0409: "en-US", 0x0809: "en-GB", 0x0407: "de-DE", 0x040C: "fr-FR", 0x080C: "fr-BE", 0x100C: "fr-CH", 0x0807: "de-CH",
        0x140C: "fr-LU", 0x1007: "de-LU", 0x046E: "lb-LU", 0x0413: "nl-NL", 0x0813: "nl-BE", 0x0410: "it-IT", 0x040A: "es-ES",
        0x0816: "pt-PT", 0x0416: "pt-BR",
    ]
}

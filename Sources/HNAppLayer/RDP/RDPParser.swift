import HNDecode

/// RDP connection setup (MS-RDPBCGR 2.2.1.1/2.2.1.2): the X.224 Connection Request with its
/// `mstshash` cookie and requested security protocols, and the Connection Confirm.
final class RDPParser {
    var buffers = Both<[UInt8]>([])
    var done = Both(false)
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
        let b = buffers[d]
        guard b.count >= 4 else { return }
        let length = Int(b[2]) << 8 | Int(b[3])
        guard length >= 11, length <= 4096 else { done[d] = true; buffers[d] = []; return }
        guard b.count >= length else { return }
        done[d] = true
        let pdu = Array(b[4..<length])
        buffers[d] = []
        pdu.withUnsafeBytes { raw in
            let x = ByteView(raw)
            guard let li = x.u8(0), let code = x.u8(1) else { return }
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
                events.append(AppEvent(eventType: "rdp", record: .object(fields), transactionID: 0, buffers: [], toServer: true))
            } else if !toServer && code & 0xF0 == 0xD0 {
                if rest.u8(0) == 2, let low = rest.u16le(4), let high = rest.u16le(6) { selected = UInt32(low) | UInt32(high) << 16 }
                var fields: [(String, JSONValue)] = [("event_type", .string("initial_response"))]
                if let selected { fields.append(("protocol", .array(RDPParser.protocols(selected)))) }
                var event = AppEvent(eventType: "rdp", record: .object(fields), transactionID: 0, buffers: [], toServer: false)
                // CredSSP (hybrid, hybrid_ex): the client authenticates next (network level
                // authentication), inside TLS.
                if let selected, selected & 0x0A != 0 { event.notes.append(.encryptedAuthPhase) }
                events.append(event)
            }
        }
    }
}

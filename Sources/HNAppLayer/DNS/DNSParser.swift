import HNDecode

/// DNS messages (RFC 1035) over UDP and TCP: header, questions and answer records, with name
/// decompression guarded against loops and overlong names.
enum DNSParser {
    /// A name is at most 255 bytes on the wire (RFC 1035 §3.1); decoded text with escapes is
    /// capped at 1025 like Suricata's `DNS_MAX_NAME_LEN`.
    static let maxNameLength = 1025
    /// Compression pointers followed at most for one name; a loop stops here.
    static let maxPointers = 32
    /// Records read per section at most.
    static let maxRecords = 256

    struct Question { var name: [UInt8]; var type: UInt16 }
    /// A resource record; `data` is its EVE rdata (a TXT record with several strings is one
    /// entry per string, as Suricata logs it).
    struct Answer { var name: [UInt8]; var type: UInt16; var ttl: UInt32; var data: JSONValue? }
    struct Message {
        var id: UInt16
        var flags: UInt16
        var questions: [Question]
        var answers: [Answer]
        var authorities: [Answer] = []
        var isResponse: Bool { flags & 0x8000 != 0 }
        var rcode: Int { Int(flags & 0x000F) }
    }

    /// Reads a possibly compressed name at `offset`; returns the name and the offset after it.
    static func name(_ m: ByteView, at offset: Int) -> (name: [UInt8], next: Int)? {
        var out: [UInt8] = []
        var position = offset
        var next: Int? = nil
        var pointers = 0
        while true {
            guard let length = m.u8(position) else { return nil }
            if length == 0 {
                return (out, next ?? position + 1)
            }
            if length & 0xC0 == 0xC0 {
                guard let low = m.u8(position + 1) else { return nil }
                pointers += 1
                guard pointers <= maxPointers else { return nil }
                if next == nil { next = position + 2 }
                let target = Int(length & 0x3F) << 8 | Int(low)
                guard target < m.count else { return nil }
                position = target
                continue
            }
            guard length & 0xC0 == 0, let label = m.slice(position + 1, Int(length)) else { return nil }
            if !out.isEmpty { out.append(UInt8(ascii: ".")) }
            out.append(contentsOf: label.rawBuffer)
            guard out.count <= maxNameLength else { return nil }
            position += 1 + Int(length)
        }
    }

    /// A strict structural test for DNS on a port other than 53: one question that ends the
    /// message (or is followed only by an EDNS OPT record), a standard query opcode, no answer
    /// sections in a query. Many UDP protocols would pass a looser test.
    static func looksLikeQuery(_ m: ByteView) -> Bool {
        guard m.count >= 17, let flags = m.u16(2), flags & 0x8000 == 0, (flags >> 11) & 0xF == 0,
              m.u16(4) == 1, m.u16(6) == 0, m.u16(8) == 0, let ar = m.u16(10), ar <= 1,
              let (n, next) = name(m, at: 12), !n.isEmpty, let type = m.u16(next), let klass = m.u16(next + 2) else { return false }
        guard type != 0, klass == 1 || klass == 255 else { return false }
        let end = next + 4
        return ar == 0 ? end == m.count : end + 11 <= m.count && m.u8(end) == 0 && m.u16(end + 1) == 41
    }

    static func parse(_ m: ByteView) -> Message? {
        guard m.count >= 12, let id = m.u16(0), let flags = m.u16(2), let qd = m.u16(4), let an = m.u16(6) else { return nil }
        var offset = 12
        var questions: [Question] = []
        for _ in 0..<min(Int(qd), maxRecords) {
            guard let (n, next) = name(m, at: offset), let type = m.u16(next), m.u16(next + 2) != nil else { return nil }
            questions.append(Question(name: n, type: type))
            offset = next + 4
        }
        let ns = m.u16(8) ?? 0
        var answers: [Answer] = [], authorities: [Answer] = []
        var complete = records(m, count: Int(an), at: &offset, into: &answers)
        if complete { complete = records(m, count: Int(ns), at: &offset, into: &authorities) }
        return Message(id: id, flags: flags, questions: questions, answers: answers, authorities: authorities)
    }

    /// Reads `count` resource records from `offset`; false when the message ends first.
    static func records(_ m: ByteView, count: Int, at offset: inout Int, into out: inout [Answer]) -> Bool {
        for _ in 0..<min(count, maxRecords) {
            guard let (n, next) = name(m, at: offset), let type = m.u16(next), let ttl = m.u32(next + 4),
                  let length = m.u16(next + 8), let rdata = m.slice(next + 10, Int(length)) else { return false }
            if type == 16 {
                // TXT: each character-string is an entry of its own.
                var i = 0
                while let l = rdata.u8(i), let text = rdata.slice(i + 1, Int(l)) {
                    out.append(Answer(name: n, type: type, ttl: ttl, data: .string(suricataText(text.rawBuffer))))
                    i += 1 + Int(l)
                }
                if i == 0 { out.append(Answer(name: n, type: type, ttl: ttl, data: nil)) }
            } else {
                out.append(Answer(name: n, type: type, ttl: ttl, data: rdataValue(type, rdata, message: m, at: next + 10)))
            }
            offset = next + 10 + Int(length)
        }
        return true
    }

    static func rdataValue(_ type: UInt16, _ rdata: ByteView, message: ByteView, at offset: Int) -> JSONValue? {
        switch type {
        case 1:
            guard rdata.count == 4, let v = rdata.u32(0) else { return nil }
            return .string(IPAddress(ipv4: v).description)
        case 28:
            guard rdata.count == 16, let h = rdata.u64(0), let l = rdata.u64(8) else { return nil }
            return .string(IPAddress(high: h, low: l).description)
        case 2, 5, 12:
            return name(message, at: offset).map { .string(suricataText($0.name)) }
        case 15:  // MX: the exchange's name (Suricata leaves the preference out)
            guard rdata.count >= 3, let n = name(message, at: offset + 2) else { return nil }
            return .string(suricataText(n.name))
        case 6:  // SOA: mname, rname, then five 32-bit counters
            guard let m = name(message, at: offset), let r = name(message, at: m.next),
                  let serial = message.u32(r.next), let refresh = message.u32(r.next + 4), let retry = message.u32(r.next + 8),
                  let expire = message.u32(r.next + 12), let minimum = message.u32(r.next + 16) else { return nil }
            return .object([("mname", .string(suricataText(m.name))), ("rname", .string(suricataText(r.name))),
                            ("serial", .int(Int64(serial))), ("refresh", .int(Int64(refresh))), ("retry", .int(Int64(retry))),
                            ("expire", .int(Int64(expire))), ("minimum", .int(Int64(minimum)))])
        case 33:  // SRV: priority, weight, port, target
            guard let priority = rdata.u16(0), let weight = rdata.u16(2), let port = rdata.u16(4),
                  let n = name(message, at: offset + 6) else { return nil }
            return .object([("priority", .int(Int64(priority))), ("weight", .int(Int64(weight))), ("port", .int(Int64(port))),
                            ("name", .string(suricataText(n.name)))])
        case 44:  // SSHFP: algorithm, fingerprint type, fingerprint as colon-separated hex
            guard let algo = rdata.u8(0), let kind = rdata.u8(1), let fp = rdata.slice(2, rdata.count - 2) else { return nil }
            var text = ASCIIText(capacity: fp.count * 3)
            for (i, b) in fp.rawBuffer.enumerated() {
                if i > 0 { text.byte(UInt8(ascii: ":")) }
                text.hex(UInt32(b), digits: 2)
            }
            return .object([("fingerprint", .string(text.string)), ("algo", .int(Int64(algo))), ("type", .int(Int64(kind)))])
        case 10:  // NULL: the bytes as text
            return .string(suricataText(rdata.rawBuffer))
        default:
            return nil
        }
    }

    static func typeName(_ t: UInt16) -> String {
        switch t {
        case 1: "A"
        case 2: "NS"
        case 5: "CNAME"
        case 6: "SOA"
        case 10: "NULL"
        case 12: "PTR"
        case 13: "HINFO"
        case 15: "MX"
        case 16: "TXT"
        case 28: "AAAA"
        case 33: "SRV"
        case 35: "NAPTR"
        case 41: "OPT"
        case 44: "SSHFP"
        case 43: "DS"
        case 46: "RRSIG"
        case 48: "DNSKEY"
        case 64: "SVCB"
        case 65: "HTTPS"
        case 99: "SPF"
        case 252: "AXFR"
        case 255: "ANY"
        case 257: "CAA"
        default: "TYPE\(t)"
        }
    }

    static func rcodeName(_ r: Int) -> String {
        ["NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN", "NOTIMP", "REFUSED", "YXDOMAIN", "YXRRSET", "NXRRSET", "NOTAUTH", "NOTZONE"][safe: r] ?? "\(r)"
    }

    /// A resource record in EVE: name, type, ttl and the data under Suricata's key for it.
    static func recordValue(_ a: Answer) -> JSONValue {
        var o: [(String, JSONValue)] = [("rrname", .string(suricataText(a.name))), ("rrtype", .string(typeName(a.type))), ("ttl", .int(Int64(a.ttl)))]
        if let d = a.data {
            let key = switch a.type { case 6: "soa"; case 33: "srv"; case 44: "sshfp"; default: "rdata" }
            o.append((key, d))
        }
        return .object(o)
    }

    /// The EVE `dns` record (Suricata's version 3 layout; the EVE writer turns it into the
    /// version 2 layout when configured) and the detection buffers.
    static func event(_ m: Message, transactionID: Int) -> AppEvent {
        let hex = String(m.flags, radix: 16)
        var fields: [(String, JSONValue)] = [
            ("version", .int(3)), ("type", .string(m.isResponse ? "response" : "request")),
            ("tx_id", .int(Int64(transactionID))), ("id", .int(Int64(m.id))),
            ("flags", .string(String(repeating: "0", count: max(0, 4 - hex.count)) + hex)),
        ]
        if m.isResponse { fields.append(("qr", .bool(true))) }
        if m.flags & 0x0400 != 0 { fields.append(("aa", .bool(true))) }
        if m.flags & 0x0200 != 0 { fields.append(("tc", .bool(true))) }
        if m.flags & 0x0100 != 0 { fields.append(("rd", .bool(true))) }
        if m.flags & 0x0080 != 0 { fields.append(("ra", .bool(true))) }
        fields.append(("opcode", .int(Int64((m.flags >> 11) & 0xF))))
        if m.isResponse { fields.append(("rcode", .string(rcodeName(m.rcode)))) }
        if !m.questions.isEmpty {
            fields.append(("queries", .array(m.questions.map { .object([("rrname", .string(suricataText($0.name))), ("rrtype", .string(typeName($0.type)))]) })))
        }
        if !m.answers.isEmpty {
            fields.append(("answers", .array(m.answers.map(recordValue))))
            var grouped: [(String, [JSONValue])] = []
            for a in m.answers {
                guard let d = a.data else { continue }
                let t = typeName(a.type)
                if let i = grouped.firstIndex(where: { $0.0 == t }) { grouped[i].1.append(d) } else { grouped.append((t, [d])) }
            }
            if !grouped.isEmpty { fields.append(("grouped", .object(grouped.map { ($0.0, .array($0.1)) }))) }
        }
        if !m.authorities.isEmpty { fields.append(("authorities", .array(m.authorities.map(recordValue)))) }
        var buffers: [(InspectionBuffer, [UInt8])] = []
        if !m.isResponse, let q = m.questions.first { buffers.append((.dnsQuery, (q.name))) }
        if let a = m.answers.first { buffers.append((.dnsAnswerName, (a.name))) }
        return AppEvent(eventType: "dns", record: .object(fields), transactionID: transactionID, buffers: BufferBlock(buffers), toServer: !m.isResponse)
    }
}

extension Array {
    subscript(safe index: Int) -> Element? { index >= 0 && index < count ? self[index] : nil }
}

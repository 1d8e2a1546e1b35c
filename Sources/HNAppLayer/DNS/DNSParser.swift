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
    struct Answer { var name: [UInt8]; var type: UInt16; var ttl: UInt32; var data: JSONValue? }
    struct Message {
        var id: UInt16
        var flags: UInt16
        var questions: [Question]
        var answers: [Answer]
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
        var answers: [Answer] = []
        for _ in 0..<min(Int(an), maxRecords) {
            guard let (n, next) = name(m, at: offset), let type = m.u16(next), let ttl = m.u32(next + 4),
                  let length = m.u16(next + 8), let rdata = m.slice(next + 10, Int(length)) else { break }
            answers.append(Answer(name: n, type: type, ttl: ttl, data: rdataValue(type, rdata, message: m, at: next + 10)))
            offset = next + 10 + Int(length)
        }
        return Message(id: id, flags: flags, questions: questions, answers: answers)
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
            return name(message, at: offset).map { .string(printable($0.name)) }
        case 15:
            guard let pref = rdata.u16(0), let n = name(message, at: offset + 2) else { return nil }
            return .string("\(pref) " + printable(n.name))
        case 6:  // SOA: mname, rname, then five 32-bit counters
            guard let m = name(message, at: offset), let r = name(message, at: m.next),
                  let serial = message.u32(r.next), let refresh = message.u32(r.next + 4), let retry = message.u32(r.next + 8),
                  let expire = message.u32(r.next + 12), let minimum = message.u32(r.next + 16) else { return nil }
            return .object([("mname", .string(printable(m.name))), ("rname", .string(printable(r.name))),
                            ("serial", .int(Int64(serial))), ("refresh", .int(Int64(refresh))), ("retry", .int(Int64(retry))),
                            ("expire", .int(Int64(expire))), ("minimum", .int(Int64(minimum)))])
        case 16:
            var text: [UInt8] = []
            var i = 0
            while let l = rdata.u8(i), let s = rdata.slice(i + 1, Int(l)) { text += s.rawBuffer; i += 1 + Int(l) }
            return .string(printable(text))
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
        case 12: "PTR"
        case 15: "MX"
        case 16: "TXT"
        case 28: "AAAA"
        case 33: "SRV"
        case 35: "NAPTR"
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

    /// The EVE `dns` record (Suricata's version 3 layout) and the detection buffers.
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
            fields.append(("queries", .array(m.questions.map { .object([("rrname", .string(printable($0.name))), ("rrtype", .string(typeName($0.type)))]) })))
        }
        if m.isResponse && !m.answers.isEmpty {
            fields.append(("answers", .array(m.answers.map { a in
                var o: [(String, JSONValue)] = [("rrname", .string(printable(a.name))), ("rrtype", .string(typeName(a.type))), ("ttl", .int(Int64(a.ttl)))]
                if let d = a.data { o.append((a.type == 6 ? "soa" : "rdata", d)) }
                return .object(o)
            })))
            var grouped: [(String, [JSONValue])] = []
            for a in m.answers {
                guard let d = a.data else { continue }
                let t = typeName(a.type)
                if let i = grouped.firstIndex(where: { $0.0 == t }) { grouped[i].1.append(d) } else { grouped.append((t, [d])) }
            }
            if !grouped.isEmpty { fields.append(("grouped", .object(grouped.map { ($0.0, .array($0.1)) }))) }
        }
        var buffers: [(InspectionBuffer, [UInt8])] = []
        if !m.isResponse, let q = m.questions.first { buffers.append((.dnsQuery, (q.name))) }
        if let a = m.answers.first { buffers.append((.dnsAnswerName, (a.name))) }
        return AppEvent(eventType: "dns", record: .object(fields), transactionID: transactionID, buffers: BufferBlock(buffers), toServer: !m.isResponse)
    }
}

extension Array {
    subscript(safe index: Int) -> Element? { index >= 0 && index < count ? self[index] : nil }
}

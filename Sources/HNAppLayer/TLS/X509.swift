import HNDecode

/// The few X.509 fields an analyst reads in a TLS record (subject, issuer, serial, validity),
/// from a DER certificate. Every length is checked against its enclosing element.
struct X509Summary {
    var subject = ""
    var issuer = ""
    var serial = ""
    var notBefore = ""
    var notAfter = ""
    /// The DNS names of the subjectAltName extension.
    var subjectAltNames: [String] = []

    /// One DER element: tag, and the view of its contents.
    static func element(_ d: ByteView, at offset: Int) -> (tag: UInt8, content: ByteView, next: Int)? {
        guard let tag = d.u8(offset), let first = d.u8(offset + 1) else { return nil }
        var length = Int(first), header = 2
        if first & 0x80 != 0 {
            let n = Int(first & 0x7F)
            guard n >= 1, n <= 4 else { return nil }
            length = 0
            for i in 0..<n {
                guard let b = d.u8(offset + 2 + i) else { return nil }
                length = length << 8 | Int(b)
            }
            header += n
        }
        guard let content = d.slice(offset + header, length) else { return nil }
        return (tag, content, offset + header + length)
    }

    static func children(_ d: ByteView) -> [(tag: UInt8, content: ByteView)] {
        var out: [(UInt8, ByteView)] = []
        var offset = 0
        while offset < d.count, out.count < 64, let e = element(d, at: offset) {
            out.append((e.tag, e.content))
            offset = e.next
        }
        return out
    }

    static let attributeNames: [String: String] = [
        "2.5.4.3": "CN", "2.5.4.6": "C", "2.5.4.7": "L", "2.5.4.8": "ST", "2.5.4.10": "O", "2.5.4.11": "OU",
        "2.5.4.5": "serialNumber", "2.5.4.12": "title", "2.5.4.9": "street", "2.5.4.17": "postalCode",
        "2.5.4.4": "SN", "2.5.4.42": "GN", "1.2.840.113549.1.9.1": "Email", "0.9.2342.19200300.100.1.25": "DC",
        "0.9.2342.19200300.100.1.1": "UID",
    ]

    static func oid(_ d: ByteView) -> String {
        guard let first = d.u8(0) else { return "" }
        var parts = [String(first / 40), String(first % 40)]
        var value = 0
        for i in 1..<max(1, d.count) {
            guard let b = d.u8(i) else { break }
            value = value << 7 | Int(b & 0x7F)
            if b & 0x80 == 0 { parts.append(String(value)); value = 0 }
        }
        return parts.joined(separator: ".")
    }

    /// A distinguished name as Suricata prints it: `C=US, O=Example, CN=host`.
    static func name(_ d: ByteView) -> String {
        var parts: [String] = []
        for set in children(d) {
            for attribute in children(set.content) {
                let fields = children(attribute.content)
                guard fields.count == 2 else { continue }
                let key = attributeNames[oid(fields[0].content)] ?? oid(fields[0].content)
                parts.append("\(key)=\(printable(fields[1].content.rawBuffer))")
            }
        }
        return parts.joined(separator: ", ")
    }

    static func time(_ tag: UInt8, _ d: ByteView) -> String {
        let text = String(decoding: d.rawBuffer, as: UTF8.self)
        let digits = Array(text.prefix { $0.isNumber })
        var year: String, rest: ArraySlice<Character>
        if tag == 0x17, digits.count >= 10 {  // UTCTime YYMMDDHHMM[SS]
            let yy = Int(String(digits[0..<2])) ?? 0
            year = String(yy >= 50 ? 1900 + yy : 2000 + yy)
            rest = digits[2...]
        } else if digits.count >= 12 {         // GeneralizedTime YYYYMMDDHHMM[SS]
            year = String(digits[0..<4])
            rest = digits[4...]
        } else {
            return text
        }
        let r = Array(rest)
        func two(_ i: Int) -> String { i + 1 < r.count ? String(r[i...i + 1]) : "00" }
        return "\(year)-\(two(0))-\(two(2))T\(two(4)):\(two(6)):\(two(8))"
    }

    static func parse(_ der: ByteView) -> X509Summary? {
        guard let cert = element(der, at: 0), cert.tag == 0x30, let tbs = element(cert.content, at: 0), tbs.tag == 0x30 else { return nil }
        var fields = children(tbs.content)
        if let first = fields.first, first.tag == 0xA0 { fields.removeFirst() }  // [0] version
        guard fields.count >= 5, fields[0].tag == 0x02 else { return nil }
        var s = X509Summary()
        let hex = Array("0123456789ABCDEF")
        s.serial = fields[0].content.rawBuffer.map { String(hex[Int($0 >> 4)]) + String(hex[Int($0 & 0xF)]) }.joined(separator: ":")
        s.issuer = name(fields[2].content)
        let validity = children(fields[3].content)
        if validity.count == 2 {
            s.notBefore = time(validity[0].tag, validity[0].content)
            s.notAfter = time(validity[1].tag, validity[1].content)
        }
        s.subject = name(fields[4].content)
        // Extensions ([3]): subjectAltName (2.5.29.17), its dNSName entries ([2]).
        if let extensions = fields.first(where: { $0.tag == 0xA3 }), let list = children(extensions.content).first {
            for ext in children(list.content) {
                let parts = children(ext.content)
                guard parts.count >= 2, parts[0].tag == 0x06, oid(parts[0].content) == "2.5.29.17", let value = parts.last,
                      value.tag == 0x04, let names = element(value.content, at: 0) else { continue }
                for n in children(names.content) where n.tag == 0x82 && s.subjectAltNames.count < 64 {
                    s.subjectAltNames.append(printable(n.content.rawBuffer))
                }
            }
        }
        return s
    }
}

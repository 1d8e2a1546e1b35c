/// The message of an SMTP transaction, read line by line as Suricata's MIME decoder reads it
/// for EVE's `email` object: the From, To and Cc headers (folded lines joined, addresses split
/// at commas outside quotes and angle brackets) and the names of attachments (a MIME part's
/// `Content-Disposition` filename or `Content-Type` name), through nested multiparts. The
/// body itself is not kept. Bounded: header lines, parts and names are capped.
struct MailMessage {
    static let maxHeaderLength = 8192
    static let maxAddresses = 256
    static let maxAttachments = 256
    static let maxBoundaries = 16

    var from: [UInt8]? = nil
    var to: [[UInt8]] = []
    var cc: [[UInt8]] = []
    var attachments: [[UInt8]] = []
    /// In the message's headers (true at the start) or a part's.
    var inHeaders = true
    var inPartHeaders = false
    var header: [UInt8] = []
    /// The multipart boundaries open, outermost first; the next one a part's headers declare.
    var boundaries: [[UInt8]] = []
    var partName: [UInt8]? = nil
    var partBoundary: [UInt8]? = nil

    mutating func line(_ line: [UInt8]) {
        if inHeaders || inPartHeaders {
            if let first = line.first, first == 0x20 || first == 0x09, !header.isEmpty {
                if header.count < MailMessage.maxHeaderLength { header += line.prefix(MailMessage.maxHeaderLength - header.count) }
                return
            }
            finishHeader()
            if line.isEmpty {
                if inPartHeaders { endPartHeaders() }
                inHeaders = false
                inPartHeaders = false
                return
            }
            header = Array(line.prefix(MailMessage.maxHeaderLength))
            return
        }
        // Body: a boundary line starts a part's headers or closes its multipart.
        guard line.count > 2, line[0] == 0x2D, line[1] == 0x2D else { return }
        for (depth, b) in boundaries.enumerated().reversed() {
            let rest = line.dropFirst(2)
            guard rest.starts(with: b) else { continue }
            let tail = rest.dropFirst(b.count)
            if tail.starts(with: [0x2D, 0x2D]) {
                boundaries.removeSubrange(depth...)
            } else {
                boundaries.removeSubrange((depth + 1)...)
                inPartHeaders = true
                partName = nil
                partBoundary = nil
            }
            return
        }
    }

    /// The end of the message: the last header (a message without a body) is taken.
    mutating func finish() {
        finishHeader()
        if inPartHeaders { endPartHeaders() }
    }

    mutating func finishHeader() {
        defer { header.removeAll(keepingCapacity: true) }
        guard let colon = header.firstIndex(of: 0x3A) else { return }
        let name = String(decoding: header[..<colon], as: UTF8.self).trimmingSpaces.lowercased()
        let value = Array(header[(colon + 1)...].drop { $0 == 0x20 || $0 == 0x09 })
        switch name {
        case "from" where inHeaders: from = value.trimmedTrailingSpaces
        case "to" where inHeaders: to += MailMessage.addresses(value).prefix(MailMessage.maxAddresses - to.count)
        case "cc" where inHeaders: cc += MailMessage.addresses(value).prefix(MailMessage.maxAddresses - cc.count)
        case "content-type":
            if let b = MailMessage.parameter(value, "boundary") {
                if inHeaders { if boundaries.count < MailMessage.maxBoundaries { boundaries.append(b) } } else { partBoundary = b }
            }
            if !inHeaders, partName == nil, let n = MailMessage.parameter(value, "name") { partName = n }
        case "content-disposition" where !inHeaders:
            if let n = MailMessage.parameter(value, "filename") { partName = n }
        default: break
        }
    }

    mutating func endPartHeaders() {
        if let partName, attachments.count < MailMessage.maxAttachments { attachments.append(partName) }
        if let partBoundary, boundaries.count < MailMessage.maxBoundaries { boundaries.append(partBoundary) }
        partName = nil
        partBoundary = nil
    }

    /// `a@b, "c, d" <e@f>` → [`a@b`, `"c, d" <e@f>`].
    static func addresses(_ value: [UInt8]) -> [[UInt8]] {
        var out: [[UInt8]] = [], current: [UInt8] = []
        var quoted = false, angle = false
        for b in value {
            switch b {
            case 0x22: quoted.toggle()
            case 0x3C where !quoted: angle = true
            case 0x3E where !quoted: angle = false
            case 0x2C where !quoted && !angle:
                let a = current.trimmedSpaces
                if !a.isEmpty { out.append(a) }
                current.removeAll(keepingCapacity: true)
                continue
            default: break
            }
            current.append(b)
        }
        let a = current.trimmedSpaces
        if !a.isEmpty { out.append(a) }
        return out
    }

    /// A parameter of a MIME header value (`name="x.txt"`, `boundary=abc`), unquoted.
    static func parameter(_ value: [UInt8], _ wanted: String) -> [UInt8]? {
        for part in value.split(separator: 0x3B).dropFirst() {
            let p = Array(part).trimmedSpaces
            guard let eq = p.firstIndex(of: 0x3D) else { continue }
            guard String(decoding: p[..<eq], as: UTF8.self).trimmingSpaces.lowercased() == wanted else { continue }
            var v = Array(p[(eq + 1)...]).trimmedSpaces
            if v.count >= 2, v.first == 0x22, v.last == 0x22 { v = Array(v.dropFirst().dropLast()) }
            return v
        }
        return nil
    }

    /// The `email` object: status, from, to, cc, attachment.
    var record: JSONValue {
        var fields: [(String, JSONValue)] = [("status", .string("PARSE_DONE"))]
        if let from { fields.append(("from", .string(suricataText(from)))) }
        if !to.isEmpty { fields.append(("to", .array(to.map { .string(suricataText($0)) }))) }
        if !cc.isEmpty { fields.append(("cc", .array(cc.map { .string(suricataText($0)) }))) }
        if !attachments.isEmpty { fields.append(("attachment", .array(attachments.map { .string(suricataText($0)) }))) }
        return .object(fields)
    }
}

extension Array where Element == UInt8 {
    var trimmedSpaces: [UInt8] { Array(drop { $0 == 0x20 || $0 == 0x09 }).trimmedTrailingSpaces }
    var trimmedTrailingSpaces: [UInt8] {
        var a = self
        while let l = a.last, l == 0x20 || l == 0x09 { a.removeLast() }
        return a
    }
}

extension String {
    var trimmingSpaces: String {
        String(String(drop { $0 == " " || $0 == "\t" }.reversed()).drop { $0 == " " || $0 == "\t" }.reversed())
    }
}

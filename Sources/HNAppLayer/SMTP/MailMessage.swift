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

    /// The attachments as files: name, decoded size, and their bytes when kept (the first
    /// `maxFileBytes` of the message's).
    struct File {
        var name: [UInt8]
        var size = 0
        var bytes: [UInt8] = []
    }
    /// Bytes kept, all attachments together.
    static let maxFileBytes = 1 << 20
    var kept = 0
    let keepFiles: Bool
    var files: [File] = []
    enum Encoding { case base64, quotedPrintable, other }
    var partEncoding = Encoding.other
    /// The body lines now are an attachment's (the last of `files`), in this encoding.
    var inFile = false
    var fileEncoding = Encoding.other
    /// Base64 digits not yet making up a 4-digit group.
    var quartet: [UInt8] = []
    /// URLs seen in the message's text, and whether the current part is text (plain, HTML,
    /// or a message: a part without Content-Type keeps the one before, as Suricata's does).
    static let maxURLs = 256
    var urls: [[UInt8]] = []
    var textPart = true
    /// A line's end not yet added to the file (it is, if another line follows).
    var endOwed = false
    /// The last line handed on was a piece of a longer one.
    var pieceOpen = false

    init(keepFiles: Bool = false) {
        self.keepFiles = keepFiles
    }

    /// One line of the message; `continued`: a piece of a longer line, its end not yet come.
    mutating func line(_ line: [UInt8], continued: Bool = false) {
        if inFile && (continued || pieceOpen) {
            // The rest of a long body line: file data, never a boundary.
            fileLine(line, end: !continued)
            pieceOpen = continued
            return
        }
        pieceOpen = continued
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
        guard line.count > 2, line[0] == 0x2D, line[1] == 0x2D else { bodyLine(line, end: !continued); return }
        for (depth, b) in boundaries.enumerated().reversed() {
            let rest = line.dropFirst(2)
            guard rest.starts(with: b) else { continue }
            inFile = false
            endOwed = false
            let tail = rest.dropFirst(b.count)
            if tail.starts(with: [0x2D, 0x2D]) {
                boundaries.removeSubrange(depth...)
            } else {
                boundaries.removeSubrange((depth + 1)...)
                inPartHeaders = true
                partName = nil
                partBoundary = nil
                partEncoding = .other
            }
            return
        }
        bodyLine(line, end: !continued)
    }

    /// A body line that is not a boundary: an attachment's data, or text whose URLs are
    /// noted.
    mutating func bodyLine(_ line: [UInt8], end: Bool) {
        if inFile { fileLine(line, end: end) } else if textPart { noteURLs(line) }
    }

    /// The URLs (`http://…`, logged without the scheme as Suricata logs them by default) in
    /// a line of text, up to a space, quote, angle bracket, `]` or tab.
    mutating func noteURLs(_ line: [UInt8]) {
        let scheme = Array("http://".utf8)
        guard line.count >= scheme.count, urls.count < MailMessage.maxURLs else { return }
        var i = 0
        while i + scheme.count <= line.count {
            var match = true
            for k in 0..<scheme.count where line[i + k] | 0x20 != scheme[k] | 0x20 { match = false; break }
            guard match else { i += 1; continue }
            var j = i + scheme.count
            while j < line.count, ![0x20, 0x22, 0x27, 0x3C, 0x3E, 0x5D, 0x09, 0x0D, 0x0A].contains(line[j]) { j += 1 }
            if urls.count < MailMessage.maxURLs { urls.append(Array(line[(i + scheme.count)..<j])) }
            i = j
        }
    }

    /// A body line of an attachment (or a piece of one, `end` false), decoded into its file.
    /// A line's end is added before the next line's bytes: the one before a boundary belongs
    /// to the boundary (RFC 2046 §5.1.1).
    mutating func fileLine(_ line: [UInt8], end: Bool) {
        guard inFile, !files.isEmpty else { return }
        let i = files.count - 1
        func add(_ b: UInt8) {
            files[i].size += 1
            if keepFiles && kept < MailMessage.maxFileBytes {
                files[i].bytes.append(b)
                kept += 1
            }
        }
        switch fileEncoding {
        case .base64:
            for c in line {
                let v: UInt8
                switch c {
                case 0x41...0x5A: v = c - 0x41
                case 0x61...0x7A: v = c - 0x61 + 26
                case 0x30...0x39: v = c - 0x30 + 52
                case 0x2B: v = 62
                case 0x2F: v = 63
                case 0x3D: v = 0xFF  // padding
                default: continue
                }
                quartet.append(v)
                guard quartet.count == 4 else { continue }
                let q = quartet
                quartet.removeAll(keepingCapacity: true)
                guard q[0] != 0xFF, q[1] != 0xFF else { continue }
                add(q[0] << 2 | q[1] >> 4)
                if q[2] != 0xFF { add(q[1] << 4 | q[2] >> 2) }
                if q[2] != 0xFF && q[3] != 0xFF { add(q[2] << 6 | q[3]) }
            }
        case .quotedPrintable:
            // As Suricata decodes it: "=XX" (upper-case hex) is a byte, a final "=" a soft
            // break; a malformed escape is dropped (and a truncated one ends the line).
            if endOwed { add(0x0D); add(0x0A) }
            var j = 0
            var soft = false
            while j < line.count {
                let c = line[j]
                guard c == 0x3D else { add(c); j += 1; continue }
                if j == line.count - 1 { soft = true; break }
                if j + 2 >= line.count { break }
                if let h = MailMessage.hex(line[j + 1]), let l = MailMessage.hex(line[j + 2]) { add(h << 4 | l) }
                j += 3
            }
            endOwed = !soft && end
        case .other:
            if endOwed { add(0x0D); add(0x0A) }
            for c in line { add(c) }
            endOwed = end
            noteURLs(line)
        }
    }

    static func hex(_ c: UInt8) -> UInt8? {
        switch c {
        case 0x30...0x39: c - 0x30
        case 0x41...0x46: c - 0x41 + 10
        default: nil
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
            let type = String(decoding: value.prefix { $0 != 0x3B }, as: UTF8.self).trimmingSpaces.lowercased()
            textPart = type == "text/plain" || type == "text/html"
            if let b = MailMessage.parameter(value, "boundary") {
                if inHeaders { if boundaries.count < MailMessage.maxBoundaries { boundaries.append(b) } } else { partBoundary = b }
            }
            if !inHeaders, partName == nil, let n = MailMessage.parameter(value, "name") { partName = n }
        case "content-disposition" where !inHeaders:
            if let n = MailMessage.parameter(value, "filename") { partName = n }
        case "content-transfer-encoding" where !inHeaders:
            let e = String(decoding: value, as: UTF8.self).trimmingSpaces.lowercased()
            partEncoding = e == "base64" ? .base64 : e == "quoted-printable" ? .quotedPrintable : .other
        default: break
        }
    }

    mutating func endPartHeaders() {
        if let partName, attachments.count < MailMessage.maxAttachments {
            attachments.append(partName)
            files.append(File(name: partName))
            inFile = true
            fileEncoding = partEncoding
            quartet.removeAll()
            endOwed = false
        }
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

    /// A parameter of a MIME header value (`name="x.txt"`, `boundary=abc`), unquoted; a value
    /// split in RFC 2231 continuations (`filename*0=…; filename*1=…`) is joined.
    static func parameter(_ value: [UInt8], _ wanted: String) -> [UInt8]? {
        var pieces: [(Int, [UInt8])] = []
        for part in value.split(separator: 0x3B).dropFirst() {
            let p = Array(part).trimmedSpaces
            guard let eq = p.firstIndex(of: 0x3D) else { continue }
            let name = String(decoding: p[..<eq], as: UTF8.self).trimmingSpaces.lowercased()
            var v = Array(p[(eq + 1)...]).trimmedSpaces
            if v.count >= 2, v.first == 0x22, v.last == 0x22 { v = Array(v.dropFirst().dropLast()) }
            if name == wanted { return v }
            // name*N or name*N* (the latter percent-encoded; kept as written).
            guard name.hasPrefix(wanted + "*") else { continue }
            let index = name.dropFirst(wanted.count + 1).prefix { $0 != "*" }
            if let n = Int(index), n < 64 { pieces.append((n, v)) }
        }
        guard !pieces.isEmpty else { return nil }
        return pieces.sorted { $0.0 < $1.0 }.flatMap(\.1)
    }

    /// The `email` object: status, from, to, cc, attachment.
    var record: JSONValue {
        var fields: [(String, JSONValue)] = [("status", .string("PARSE_DONE"))]
        if let from { fields.append(("from", .string(suricataText(from)))) }
        if !to.isEmpty { fields.append(("to", .array(to.map { .string(suricataText($0)) }))) }
        if !cc.isEmpty { fields.append(("cc", .array(cc.map { .string(suricataText($0)) }))) }
        if !urls.isEmpty { fields.append(("url", .array(urls.map { .string(suricataText($0)) }))) }
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

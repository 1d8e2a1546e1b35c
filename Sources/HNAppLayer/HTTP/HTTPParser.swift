import HNDecode

/// One HTTP/1.x request and, once seen, its response. The fields of each head live in the
/// inspection buffers of its event (one block per head, shared with the event), and are read
/// back from there for the EVE record.
struct HTTPTransaction {
    var id: Int
    /// Buffers of the request head (empty for a response seen without its request).
    var request = BufferBlock.empty
    /// Buffers of the response head, once seen.
    var response = BufferBlock.empty
    var statusCode: Int? = nil
    var requestBody: [UInt8] = []
    var requestBodyLength = 0
    var responseBody: [UInt8] = []
    var responseBodyLength = 0
    /// The request carried `Authorization: Basic` (the credentials are not kept).
    var basicAuth = false
    var logged = false

    func field(_ buffer: InspectionBuffer, response: Bool = false) -> ByteView? {
        (response ? self.response : request).view(buffer)
    }
}

/// An HTTP/1.0 and 1.1 parser for both directions of a flow: request and status lines,
/// headers with folding, Content-Length and chunked bodies (kept up to a limit), pipelining,
/// and responses paired with requests in order. Every length is bounded: a head longer than
/// `maxHeadBytes` stops parsing of that direction (recorded), it never grows memory.
///
/// Heads are parsed in place in the direction's buffer: lines and header fields are ranges,
/// and the inspection buffers are written straight into a reused block builder, so a head
/// costs one allocation (its block) besides the EVE record.
final class HTTPParser {
    /// Longest request or response head (line and headers) accepted.
    static let maxHeadBytes = 64 << 10
    /// Body bytes kept for inspection (Suricata's request/response-body limits are similar).
    static let bodyLimit = 64 << 10
    /// Requests waiting for a response at most (pipelining without answers is not followed
    /// further: memory stays bounded).
    static let maxPendingRequests = 256

    enum Phase {
        case head
        case body(remaining: Int)
        case chunkSize
        case chunkData(remaining: Int)
        case chunkDataEnd
        case trailers
        /// Response body delimited by the connection closing.
        case untilClose
        /// After CONNECT: the request side holds its bytes until the response says whether
        /// the tunnel opened (2xx: they are the tunnel's), the response side holds what
        /// follows a 2xx (RFC 9110 §9.3.6).
        case tunnel
        case failed
    }

    /// A header field of the head being parsed: its name, and its value as pieces (one per
    /// line when folded), joined by single spaces.
    struct Field {
        var name: Range<Int>
        var pieces: Range<Int>
    }

    var requestPhase = Phase.head
    var responsePhase = Phase.head
    var requestBuffer: [UInt8] = []
    var responseBuffer: [UInt8] = []
    var transactions: [HTTPTransaction] = []
    /// Index into `transactions` of the request being received and of the response expected.
    var nextResponse = 0
    var nextID = 0
    var anomalies: [String] = []
    /// A CONNECT was answered 2xx: the rest of the flow is the tunnel's (the application
    /// layer takes the bytes held in both buffers and detects the protocol inside).
    var tunnelOpen = false
    /// A CONNECT was refused: requests held behind it are parsed after the response.
    var resumeRequests = false
    /// The pipeline's parser scratch: the head being parsed and the block being built.
    let scratch: ParserScratch
    var fields: [Field] {
        get { scratch.fields }
        _modify { yield &scratch.fields }
    }
    var pieces: [Range<Int>] {
        get { scratch.pieces }
        _modify { yield &scratch.pieces }
    }
    var builder: BufferBlock.Builder {
        get { scratch.builder }
        _modify { yield &scratch.builder }
    }

    init(scratch: ParserScratch = ParserScratch()) { self.scratch = scratch }

    // MARK: Input

    func receive(_ data: ByteView, toServer: Bool, events: inout [AppEvent]) {
        if toServer {
            if case .failed = requestPhase { return }
            requestBuffer.append(contentsOf: data.rawBuffer)
            parseRequests(&events)
        } else {
            if case .failed = responsePhase { return }
            responseBuffer.append(contentsOf: data.rawBuffer)
            parseResponses(&events)
            if resumeRequests {
                resumeRequests = false
                parseRequests(&events)
            }
        }
    }

    /// `size` bytes were lost. Inside a body of known length (or a chunk, or a body read to
    /// the close) they are skipped, as Suricata does, and the transaction goes on (a body lost
    /// to its end completes it); anywhere else the direction cannot be followed any more.
    func gap(toServer: Bool, size: Int, events: inout [AppEvent]) {
        let phase = toServer ? requestPhase : responsePhase
        let buffered = toServer ? requestBuffer.count : responseBuffer.count
        var next: Phase? = nil
        if buffered == 0, size > 0 {
            switch phase {
            case .body(let remaining) where size < remaining: next = .body(remaining: remaining - size)
            case .body(let remaining) where size == remaining:
                if toServer {
                    requestPhase = .head
                    events.append(requestBodyEvent())
                } else {
                    finishResponse(&events)
                }
                return
            case .chunkData(let remaining) where size < remaining: next = .chunkData(remaining: remaining - size)
            case .chunkData(let remaining) where size == remaining: next = .chunkDataEnd
            case .untilClose: next = .untilClose
            default: break
            }
        }
        if toServer { requestPhase = next ?? .failed; if next == nil { requestBuffer = [] } } else {
            responsePhase = next ?? .failed
            if next == nil { responseBuffer = [] }
        }
    }

    /// The end of a head starting at `start`: where its blank line begins and where the body
    /// starts.
    static func findHeadEnd(_ b: UnsafeRawBufferPointer, from start: Int) -> (headEnd: Int, bodyStart: Int)? {
        var i = start
        while i + 1 < b.count {
            if b[i] == 0x0A {
                if b[i + 1] == 0x0A { return (i + 1, i + 2) }
                if b[i + 1] == 0x0D && i + 2 < b.count && b[i + 2] == 0x0A { return (i + 1, i + 3) }
            }
            i += 1
        }
        return nil
    }

    /// Reads the lines of `b[start..<end]` (each ends at a line feed, less one carriage return
    /// before it; a last line without one counts when not empty): returns the first line, and
    /// leaves the header fields of the others in `fields` and `pieces`.
    func scanHead(_ b: UnsafeRawBufferPointer, _ start: Int, _ end: Int) -> Range<Int>? {
        fields.removeAll(keepingCapacity: true)
        pieces.removeAll(keepingCapacity: true)
        var first: Range<Int>? = nil
        var lineStart = start
        while lineStart < end {
            var e = lineStart
            while e < end && b[e] != 0x0A { e += 1 }
            var lineEnd = e
            if e < end && lineEnd > lineStart && b[lineEnd - 1] == 0x0D { lineEnd -= 1 }
            if first == nil {
                first = lineStart..<lineEnd
            } else if lineEnd > lineStart {
                headerLine(b, lineStart..<lineEnd)
            }
            lineStart = e + 1
        }
        return first
    }

    /// One header line; a line starting with white space continues the previous field.
    func headerLine(_ b: UnsafeRawBufferPointer, _ line: Range<Int>) {
        let c = b[line.lowerBound]
        if (c == 0x20 || c == 0x09), !fields.isEmpty {
            pieces.append(HTTPParser.trim(b, line))
            fields[fields.count - 1].pieces = fields[fields.count - 1].pieces.lowerBound..<pieces.count
            return
        }
        var colon = line.lowerBound
        while colon < line.upperBound && b[colon] != UInt8(ascii: ":") { colon += 1 }
        guard colon < line.upperBound else { return }
        fields.append(Field(name: HTTPParser.trim(b, line.lowerBound..<colon), pieces: pieces.count..<(pieces.count + 1)))
        pieces.append(HTTPParser.trim(b, (colon + 1)..<line.upperBound))
    }

    /// Without leading spaces and tabs, and trailing spaces, tabs and carriage returns.
    static func trim(_ b: UnsafeRawBufferPointer, _ r: Range<Int>) -> Range<Int> {
        var lo = r.lowerBound, hi = r.upperBound
        while lo < hi && (b[lo] == 0x20 || b[lo] == 0x09) { lo += 1 }
        while hi > lo && (b[hi - 1] == 0x20 || b[hi - 1] == 0x09 || b[hi - 1] == 0x0D) { hi -= 1 }
        return lo..<hi
    }

    /// Splits a start line at spaces into at most three parts, empty parts omitted (the
    /// third keeps whatever follows the second separator).
    static func split(_ b: UnsafeRawBufferPointer, _ r: Range<Int>) -> (count: Int, parts: (Range<Int>, Range<Int>, Range<Int>)) {
        var parts = (r.lowerBound..<r.lowerBound, r.lowerBound..<r.lowerBound, r.lowerBound..<r.lowerBound)
        var n = 0
        func put(_ p: Range<Int>) {
            switch n {
            case 0: parts.0 = p
            case 1: parts.1 = p
            default: parts.2 = p
            }
            n += 1
        }
        var s = r.lowerBound, i = r.lowerBound
        while i < r.upperBound {
            if b[i] == 0x20 {
                let appended = s != i
                if appended { put(s..<i) }
                i += 1
                s = i
                if appended && n == 2 { break }
                continue
            }
            i += 1
        }
        if s != r.upperBound { put(s..<r.upperBound) }
        return (n, parts)
    }

    /// Index in `fields` of the first field named `name` (lower-case), case-insensitively.
    func field(_ b: UnsafeRawBufferPointer, _ name: StaticString) -> Int? {
        fields.firstIndex { HTTPParser.equalsLowercased(b, $0.name, name) }
    }

    /// Adds the bytes of `b[r]` as `buffer`.
    func add(_ buffer: InspectionBuffer, _ b: UnsafeRawBufferPointer, _ r: Range<Int>) {
        builder.add(buffer, UnsafeRawBufferPointer(rebasing: b[r]))
    }

    /// Writes the value of a field (its pieces joined by spaces) into the open buffer.
    func appendValue(_ b: UnsafeRawBufferPointer, _ f: Field) {
        for k in f.pieces {
            if k > f.pieces.lowerBound { builder.append(0x20) }
            builder.append(UnsafeRawBufferPointer(rebasing: b[pieces[k]]))
        }
    }

    /// The value of a field, as one array (for the rare checks that read a whole value).
    func value(_ b: UnsafeRawBufferPointer, _ f: Field) -> [UInt8] {
        var out: [UInt8] = []
        for k in f.pieces {
            if k > f.pieces.lowerBound { out.append(0x20) }
            out.append(contentsOf: b[pieces[k]])
        }
        return out
    }

    /// Adds the value of the first field named `name` as `buffer`, if there is one.
    func addField(_ buffer: InspectionBuffer, _ b: UnsafeRawBufferPointer, _ name: StaticString) {
        guard let i = field(b, name) else { return }
        builder.begin(buffer)
        appendValue(b, fields[i])
        builder.end()
    }

    func contentLength(_ b: UnsafeRawBufferPointer) -> Int? {
        guard let i = field(b, "content-length") else { return nil }
        // The digits at the start of the value (a folded value continues after a space).
        let first = pieces[fields[i].pieces.lowerBound]
        var end = first.lowerBound
        while end < first.upperBound && b[end] >= 48 && b[end] <= 57 { end += 1 }
        let digits = first.lowerBound..<end
        guard !digits.isEmpty, digits.count <= 15 else { return nil }
        var n = 0
        for k in digits { n = n * 10 + Int(b[k] - 48) }
        return n
    }

    func isChunked(_ b: UnsafeRawBufferPointer) -> Bool {
        let chunked: StaticString = "chunked"
        let n = chunked.utf8CodeUnitCount
        for f in fields where HTTPParser.equalsLowercased(b, f.name, "transfer-encoding") {
            // "chunked" has no space: it is in the joined value when it is in one piece.
            for k in f.pieces {
                let r = pieces[k]
                guard r.count >= n else { continue }
                for start in r.lowerBound...(r.upperBound - n) where HTTPParser.equalsLowercased(b, start..<(start + n), chunked) {
                    return true
                }
            }
        }
        return false
    }

    /// The request carries `Authorization: Basic …` (credentials in clear; never kept).
    func basicAuth(_ b: UnsafeRawBufferPointer) -> Bool {
        guard let i = field(b, "authorization") else { return false }
        let auth = value(b, fields[i])
        return auth.count >= 6 && String(decoding: auth.prefix(6), as: UTF8.self).lowercased() == "basic "
    }

    static func equalsLowercased(_ b: UnsafeRawBufferPointer, _ r: Range<Int>, _ name: StaticString) -> Bool {
        guard r.count == name.utf8CodeUnitCount else { return false }
        let p = name.utf8Start
        for k in 0..<r.count {
            let c = b[r.lowerBound + k]
            if c.asciiLowercased != p[k] { return false }
        }
        return true
    }

    /// Adds `http.header` (`Name: value\r\n` for every field) and `http.header_names`
    /// (`\r\nName\r\n…\r\n`).
    func addHeaderBuffers(_ b: UnsafeRawBufferPointer) {
        builder.begin(.httpHeader)
        for f in fields {
            builder.append(UnsafeRawBufferPointer(rebasing: b[f.name]))
            builder.append(0x3A)
            builder.append(0x20)
            appendValue(b, f)
            builder.append(0x0D)
            builder.append(0x0A)
        }
        builder.end()
        builder.begin(.httpHeaderNames)
        builder.append(0x0D)
        builder.append(0x0A)
        for f in fields {
            builder.append(UnsafeRawBufferPointer(rebasing: b[f.name]))
            builder.append(0x0D)
            builder.append(0x0A)
        }
        builder.append(0x0D)
        builder.append(0x0A)
        builder.end()
    }

    static let methods: [String] = ["GET", "POST", "HEAD", "PUT", "DELETE", "OPTIONS", "CONNECT", "TRACE", "PATCH",
                                    "PROPFIND", "PROPPATCH", "MKCOL", "COPY", "MOVE", "LOCK", "UNLOCK", "SEARCH", "REPORT"]

    /// Does `bytes` start like an HTTP request (method and a space)?
    static let methodBytes: [[UInt8]] = methods.map { Array($0.utf8) }

    static func looksLikeRequest(_ bytes: ByteView) -> Bool {
        for u in methodBytes {
            guard bytes.count > u.count else { continue }
            if (0..<u.count).allSatisfy({ bytes.u8($0) == u[$0] }) && bytes.u8(u.count) == 0x20 { return true }
        }
        return false
    }

    static func isMethod(_ b: UnsafeRawBufferPointer, _ r: Range<Int>) -> Bool {
        methodBytes.contains { $0.count == r.count && $0.elementsEqual(b[r]) }
    }

    static func looksLikeResponse(_ bytes: ByteView) -> Bool {
        bytes.count >= 5 && bytes.rawBuffer.prefix(5).elementsEqual("HTTP/".utf8)
    }

    // MARK: Requests

    /// What reading a head found.
    enum HeadResult {
        /// A head ending at this offset (its body starts there).
        case head(bodyStart: Int)
        /// Not complete yet.
        case wait
        case failed
    }

    /// Finds the end of the head starting at `start` and hands `parse` where its lines end
    /// and where its body starts; a head still open past `maxHeadBytes` stops the direction.
    func readHead(_ b: UnsafeRawBufferPointer, from start: Int, tooLong: String, _ parse: (Int, Int) -> Bool) -> HeadResult {
        guard let end = HTTPParser.findHeadEnd(b, from: start) else {
            if b.count - start > HTTPParser.maxHeadBytes {
                anomalies.append(tooLong)
                return .failed
            }
            return .wait
        }
        return parse(end.headEnd, end.bodyStart) ? .head(bodyStart: end.bodyStart) : .failed
    }

    func parseRequests(_ events: inout [AppEvent]) {
        var consumed = 0
        loop: while consumed < requestBuffer.count {
            switch requestPhase {
            case .head:
                // Leading blank lines between requests are tolerated.
                while consumed < requestBuffer.count && (requestBuffer[consumed] == 0x0D || requestBuffer[consumed] == 0x0A) { consumed += 1 }
                let start = consumed
                let result = requestBuffer.withUnsafeBytes { b in
                    readHead(b, from: start, tooLong: "request head too long") {
                        requestHead(b, start: start, linesEnd: $0, headEnd: $1, events: &events)
                    }
                }
                switch result {
                case .wait: break loop
                case .failed:
                    requestPhase = .failed
                    break loop
                case .head(let bodyStart):
                    consumed = bodyStart
                }
            case .body(let remaining):
                let n = min(remaining, requestBuffer.count - consumed)
                appendBody(requestBuffer[consumed..<(consumed + n)], request: true)
                consumed += n
                if remaining - n == 0 {
                    requestPhase = .head
                    events.append(requestBodyEvent())
                } else {
                    requestPhase = .body(remaining: remaining - n)
                }
            case .chunkSize, .chunkData, .chunkDataEnd, .trailers:
                var phase = requestPhase
                let done = parseChunked(&phase, &consumed, buffer: requestBuffer, request: true)
                requestPhase = phase
                // Not done means parseChunked used all it could: wait for more data.
                guard done else { break loop }
                events.append(requestBodyEvent())
            case .untilClose, .failed:
                consumed = requestBuffer.count
            case .tunnel:
                break loop
            }
        }
        requestBuffer.removeFirst(min(consumed, requestBuffer.count))
    }

    /// A request head in `b[start..<headEnd]` whose lines end at `linesEnd`: a new
    /// transaction and its head event, and the phase of what follows. False when the head
    /// cannot be followed (the direction stops).
    func requestHead(_ b: UnsafeRawBufferPointer, start: Int, linesEnd: Int, headEnd: Int, events: inout [AppEvent]) -> Bool {
        guard let first = scanHead(b, start, linesEnd) else { return false }
        let (count, parts) = HTTPParser.split(b, first)
        guard count >= 2 else {
            anomalies.append("request line without a URI")
            return false
        }
        guard transactions.count < HTTPParser.maxPendingRequests else {
            anomalies.append("too many requests without a response")
            return false
        }
        var tx = HTTPTransaction(id: nextID)
        nextID += 1
        tx.request = requestHeadBlock(b, method: parts.0, uri: parts.1, protocol: count > 2 ? parts.2 : first.upperBound..<first.upperBound,
                                      line: first, head: start..<headEnd)
        tx.basicAuth = basicAuth(b)
        let chunked = isChunked(b)
        let length = contentLength(b)
        transactions.append(tx)
        events.append(AppEvent(eventType: "http", record: nil, transactionID: tx.id, buffers: tx.request, toServer: true))
        if HTTPParser.equalsLowercased(b, parts.0, "connect") {
            requestPhase = .tunnel  // what follows waits for the response
        } else if chunked {
            requestPhase = .chunkSize
        } else if let n = length, n > 0 {
            requestPhase = .body(remaining: n)
            if scratch.keepBodies { transactions[transactions.count - 1].requestBody.reserveCapacity(min(n, HTTPParser.bodyLimit)) }
        } else {
            requestPhase = .head
        }
        return true
    }

    /// The inspection buffers of a request head, in one block.
    func requestHeadBlock(_ b: UnsafeRawBufferPointer, method: Range<Int>, uri: Range<Int>, protocol proto: Range<Int>,
                          line: Range<Int>, head: Range<Int>) -> BufferBlock {
        add(.httpMethod, b, method)
        builder.begin(.httpURI)
        percentDecode(b, uri)
        builder.end()
        add(.httpURIRaw, b, uri)
        add(.httpProtocol, b, proto)
        add(.httpRequestLine, b, line)
        if let i = field(b, "host") {
            // Lower-cased, without port (unless an IPv6 literal) and trailing dots.
            builder.begin(.httpHost)
            appendValue(b, fields[i])
            let host = builder.current
            if host.first != UInt8(ascii: "["), let colon = host.lastIndex(of: UInt8(ascii: ":")) {
                builder.truncateCurrent(to: colon - host.startIndex)
            }
            while builder.current.last == UInt8(ascii: ".") { builder.truncateCurrent(to: builder.current.count - 1) }
            builder.lowercaseCurrent()
            builder.end()
            addField(.httpHostRaw, b, "host")
        }
        addField(.httpUserAgent, b, "user-agent")
        addField(.httpCookie, b, "cookie")
        addField(.httpReferer, b, "referer")
        addField(.httpAccept, b, "accept")
        addField(.httpAcceptLanguage, b, "accept-language")
        addField(.httpAcceptEncoding, b, "accept-encoding")
        addField(.httpConnection, b, "connection")
        addField(.httpContentType, b, "content-type")
        addField(.httpContentLength, b, "content-length")
        var nl = head.lowerBound
        while nl < head.upperBound && b[nl] != 0x0A { nl += 1 }
        if nl < head.upperBound { add(.httpHeaderRaw, b, (nl + 1)..<head.upperBound) }
        addHeaderBuffers(b)
        add(.httpStart, b, head)
        return builder.build()
    }

    /// Writes the URI with `%XX` escapes decoded into the open buffer.
    func percentDecode(_ b: UnsafeRawBufferPointer, _ r: Range<Int>) {
        var i = r.lowerBound
        while i < r.upperBound {
            if b[i] == 0x25, i + 2 < r.upperBound, let h = HTTPParser.hex(b[i + 1]), let l = HTTPParser.hex(b[i + 2]) {
                builder.append(h << 4 | l)
                i += 3
            } else {
                builder.append(b[i])
                i += 1
            }
        }
    }

    /// Advances a chunked body; returns true when the last chunk and trailers are complete.
    func parseChunked(_ phase: inout Phase, _ consumed: inout Int, buffer: [UInt8], request: Bool) -> Bool {
        while consumed < buffer.count {
            switch phase {
            case .chunkSize:
                guard let nl = buffer[consumed...].firstIndex(of: 0x0A) else {
                    if buffer.count - consumed > 1024 { phase = .failed }
                    return false
                }
                let line = buffer[consumed..<nl].prefix { $0 != 0x3B && $0 != 0x0D && $0 != 0x20 }
                guard !line.isEmpty, line.count <= 8, let size = Int(String(decoding: line, as: UTF8.self), radix: 16) else {
                    anomalies.append("invalid chunk size")
                    phase = .failed
                    return false
                }
                consumed = nl + 1
                phase = size == 0 ? .trailers : .chunkData(remaining: size)
            case .chunkData(let remaining):
                let n = min(remaining, buffer.count - consumed)
                appendBody(buffer[consumed..<(consumed + n)], request: request)
                consumed += n
                phase = remaining - n == 0 ? .chunkDataEnd : .chunkData(remaining: remaining - n)
            case .chunkDataEnd:
                guard let nl = buffer[consumed...].firstIndex(of: 0x0A) else { return false }
                consumed = nl + 1
                phase = .chunkSize
            case .trailers:
                guard let nl = buffer[consumed...].firstIndex(of: 0x0A) else { return false }
                let empty = nl == consumed || (nl == consumed + 1 && buffer[consumed] == 0x0D)
                consumed = nl + 1
                if empty {
                    phase = .head
                    return true
                }
            default:
                return false
            }
        }
        return false
    }

    func appendBody(_ bytes: ArraySlice<UInt8>, request: Bool) {
        let keep = scratch.keepBodies
        if request {
            guard let i = transactions.indices.last else { return }
            transactions[i].requestBodyLength += bytes.count
            guard keep else { return }
            let room = HTTPParser.bodyLimit - transactions[i].requestBody.count
            if room > 0 { transactions[i].requestBody += bytes.prefix(room) }
        } else {
            guard nextResponse < transactions.count else { return }
            transactions[nextResponse].responseBodyLength += bytes.count
            guard keep else { return }
            let room = HTTPParser.bodyLimit - transactions[nextResponse].responseBody.count
            if room > 0 { transactions[nextResponse].responseBody += bytes.prefix(room) }
        }
    }

    // MARK: Responses

    func parseResponses(_ events: inout [AppEvent]) {
        var consumed = 0
        loop: while consumed < responseBuffer.count {
            switch responsePhase {
            case .head:
                while consumed < responseBuffer.count && (responseBuffer[consumed] == 0x0D || responseBuffer[consumed] == 0x0A) { consumed += 1 }
                let start = consumed
                let result = responseBuffer.withUnsafeBytes { b in
                    readHead(b, from: start, tooLong: "response head too long") { linesEnd, _ in
                        responseHead(b, start: start, linesEnd: linesEnd, events: &events)
                    }
                }
                switch result {
                case .wait: break loop
                case .failed:
                    responsePhase = .failed
                    break loop
                case .head(let bodyStart):
                    consumed = bodyStart
                    afterResponseHead(&events)
                }
            case .body(let remaining):
                let n = min(remaining, responseBuffer.count - consumed)
                appendBody(responseBuffer[consumed..<(consumed + n)], request: false)
                consumed += n
                if remaining - n == 0 { finishResponse(&events) } else { responsePhase = .body(remaining: remaining - n) }
            case .chunkSize, .chunkData, .chunkDataEnd, .trailers:
                var phase = responsePhase
                let done = parseChunked(&phase, &consumed, buffer: responseBuffer, request: false)
                responsePhase = phase
                guard done else { break loop }
                finishResponse(&events)
            case .untilClose:
                appendBody(responseBuffer[consumed...], request: false)
                consumed = responseBuffer.count
            case .failed:
                consumed = responseBuffer.count
            case .tunnel:
                break loop
            }
        }
        responseBuffer.removeFirst(min(consumed, responseBuffer.count))
    }

    /// How the response body is delimited, decided while its head's fields are at hand.
    var responseFraming: (chunked: Bool, length: Int?) = (false, nil)

    /// A response head in `b[start...]` whose lines end at `linesEnd`: its event, paired
    /// with the oldest request waiting. False when it is not a response.
    func responseHead(_ b: UnsafeRawBufferPointer, start: Int, linesEnd: Int, events: inout [AppEvent]) -> Bool {
        guard let first = scanHead(b, start, linesEnd), first.count >= 5,
              b[first.lowerBound..<(first.lowerBound + 5)].elementsEqual("HTTP/".utf8) else {
            anomalies.append("response without a status line")
            return false
        }
        if nextResponse >= transactions.count {
            // A response with no request seen (midstream): give it a transaction.
            transactions.append(HTTPTransaction(id: nextID))
            nextID += 1
        }
        let (count, parts) = HTTPParser.split(b, first)
        let empty = first.upperBound..<first.upperBound
        let code = count > 1 ? parts.1 : empty
        add(.httpStatCode, b, code)
        add(.httpStatMsg, b, count > 2 ? parts.2 : empty)
        add(.httpProtocol, b, parts.0)  // http.protocol reads either direction's
        add(.httpResponseLine, b, first)
        addField(.httpServer, b, "server")
        addField(.httpLocation, b, "location")
        addField(.httpContentType, b, "content-type")
        addField(.httpContentLength, b, "content-length")
        var nl = first.upperBound
        while nl < linesEnd && b[nl] != 0x0A { nl += 1 }
        if nl < linesEnd { add(.httpHeaderRaw, b, (nl + 1)..<linesEnd) }
        addHeaderBuffers(b)
        transactions[nextResponse].response = builder.build()
        transactions[nextResponse].statusCode = Int(String(decoding: b[code], as: UTF8.self))
        responseFraming = (isChunked(b), contentLength(b))
        events.append(AppEvent(eventType: "http", record: nil, transactionID: transactions[nextResponse].id,
                               buffers: transactions[nextResponse].response, toServer: false))
        return true
    }

    /// The phase after a response head: its body's framing, or the transaction's end.
    func afterResponseHead(_ events: inout [AppEvent]) {
        let tx = transactions[nextResponse]
        let code = tx.statusCode ?? 0
        let method = tx.field(.httpMethod)
        let isHead = method.map { HTTPParser.equalsLowercased($0.rawBuffer, 0..<$0.count, "head") } ?? false
        let noBody = isHead || (code >= 100 && code < 200) || code == 204 || code == 304
        let isConnect = method.map { HTTPParser.equalsLowercased($0.rawBuffer, 0..<$0.count, "connect") } ?? false
        if isConnect && code >= 200 && code < 300 {
            // The tunnel is open: no body, and everything after this head belongs to it.
            finishResponse(&events)
            responsePhase = .tunnel
            tunnelOpen = true
            return
        }
        if isConnect && code >= 200, case .tunnel = requestPhase {
            requestPhase = .head
            resumeRequests = true
        }
        if code >= 100 && code < 200 {
            // An interim response: the final one follows for the same request.
            responsePhase = .head
        } else if noBody {
            finishResponse(&events)
        } else if responseFraming.chunked {
            responsePhase = .chunkSize
        } else if let n = responseFraming.length {
            if n == 0 {
                finishResponse(&events)
            } else {
                responsePhase = .body(remaining: n)
                if scratch.keepBodies { transactions[nextResponse].responseBody.reserveCapacity(min(n, HTTPParser.bodyLimit)) }
            }
        } else {
            responsePhase = .untilClose
        }
    }

    func finishResponse(_ events: inout [AppEvent]) {
        responsePhase = .head
        guard nextResponse < transactions.count else { return }
        events.append(responseBodyEvent(nextResponse))
        events.append(logEvent(nextResponse))
        // Completed transactions are dropped: a long keep-alive connection keeps only the
        // requests still waiting for their response.
        transactions.removeFirst(nextResponse + 1)
        nextResponse = 0
    }

    /// At flow end: log transactions never completed (request without response, body until close).
    func flush(_ events: inout [AppEvent]) {
        // A response head cut off by the connection closing is taken as complete (as libhtp).
        if case .head = responsePhase, responseBuffer.starts(with: "HTTP/".utf8), responseBuffer.count <= HTTPParser.maxHeadBytes {
            responseBuffer += [0x0D, 0x0A, 0x0D, 0x0A]
            parseResponses(&events)
        }
        // A request line cut off by the end of the connection is still logged (as libhtp does).
        if case .head = requestPhase, !requestBuffer.isEmpty, requestBuffer.count <= HTTPParser.maxHeadBytes {
            requestBuffer.withUnsafeBytes { b in
                guard let first = scanHead(b, 0, b.count) else { return }
                let (count, parts) = HTTPParser.split(b, first)
                guard count >= 2, HTTPParser.isMethod(b, parts.0) else { return }
                var tx = HTTPTransaction(id: nextID)
                nextID += 1
                tx.request = requestHeadBlock(b, method: parts.0, uri: parts.1, protocol: count > 2 ? parts.2 : first.upperBound..<first.upperBound,
                                              line: first, head: 0..<b.count)
                tx.basicAuth = basicAuth(b)
                transactions.append(tx)
                events.append(AppEvent(eventType: "http", record: nil, transactionID: tx.id, buffers: tx.request, toServer: true))
            }
            requestBuffer = []
        }
        if case .untilClose = responsePhase, nextResponse < transactions.count {
            events.append(responseBodyEvent(nextResponse))
        }
        for i in transactions.indices where !transactions[i].logged {
            events.append(logEvent(i))
        }
    }

    // MARK: Events

    static func hex(_ b: UInt8) -> UInt8? {
        switch b {
        case 48...57: b - 48
        case 65...70: b - 55
        case 97...102: b - 87
        default: nil
        }
    }

    func requestBodyEvent() -> AppEvent {
        guard let tx = transactions.last else { return AppEvent(eventType: "http", record: nil, transactionID: 0, buffers: .empty, toServer: true) }
        // No buffer when the body was not kept (no rule reads it).
        if !tx.requestBody.isEmpty {
            builder.add(.httpRequestBody, tx.requestBody)
            // A POST or PUT body is an upload: `file.data` too, as Suricata tracks it as a file.
            if let method = tx.field(.httpMethod), HTTPParser.isUpload(method) { builder.alias(.fileData) }
        }
        return AppEvent(eventType: "http", record: nil, transactionID: tx.id, buffers: builder.build(), toServer: true)
    }

    static func isUpload(_ method: ByteView) -> Bool {
        let m = method.rawBuffer
        return m.elementsEqual("POST".utf8) || m.elementsEqual("PUT".utf8)
    }

    func responseBodyEvent(_ index: Int) -> AppEvent {
        let tx = transactions[index]
        if !tx.responseBody.isEmpty {
            builder.add(.httpResponseBody, tx.responseBody)
            builder.alias(.fileData)
        }
        return AppEvent(eventType: "http", record: nil, transactionID: tx.id, buffers: builder.build(), toServer: false)
    }

    /// The EVE `http` record of a transaction, in Suricata's field order.
    func logEvent(_ index: Int) -> AppEvent {
        transactions[index].logged = true
        let tx = transactions[index]
        var event = AppEvent(eventType: "http", record: .object(fields(tx)), transactionID: tx.id, buffers: .empty, toServer: true)
        if tx.basicAuth { event.notes.append(.credentialsInClear("HTTP Basic")) }
        if tx.statusCode == 401 { event.notes.append(.authFailure) }
        return event
    }

    /// The `http` object of a transaction still open (for an alert on it), by id.
    func snapshot(_ id: Int) -> JSONValue? {
        transactions.first { $0.id == id }.map { .object(fields($0)) }
    }

    /// The fields of a transaction's `http` object, with the headers listed when asked.
    func fields(_ tx: HTTPTransaction) -> [(String, JSONValue)] {
        var fields = HTTPParser.fields(tx)
        if scratch.httpRequestHeaders, let raw = tx.field(.httpHeaderRaw) { fields.append(("request_headers", HTTPParser.headerList(raw))) }
        if scratch.httpResponseHeaders, let raw = tx.field(.httpHeaderRaw, response: true) {
            fields.append(("response_headers", HTTPParser.headerList(raw)))
        }
        return fields
    }

    /// A raw header block as EVE's list of `{name, value}` (folded lines joined).
    static func headerList(_ raw: ByteView) -> JSONValue {
        var out: [JSONValue] = []
        var name: [UInt8] = [], value: [UInt8] = []
        var open = false
        func close() {
            if open { out.append(.object([("name", .string(printable(name))), ("value", .string(printable(value)))])) }
            open = false
        }
        for var line in raw.toArray().split(separator: 0x0A, omittingEmptySubsequences: false) {
            if line.last == 0x0D { line = line.dropLast() }
            if line.isEmpty { continue }
            if let first = line.first, first == 0x20 || first == 0x09, open {
                value += [0x20] + line.drop { $0 == 0x20 || $0 == 0x09 }
                continue
            }
            close()
            guard let colon = line.firstIndex(of: 0x3A) else { continue }
            name = Array(line[..<colon])
            value = Array(line[(colon + 1)...].drop { $0 == 0x20 || $0 == 0x09 })
            while let l = value.last, l == 0x20 || l == 0x09 { value.removeLast() }
            open = true
        }
        close()
        return .array(out)
    }

    /// The fields of a transaction's `http` object, as far as it has come.
    static func fields(_ tx: HTTPTransaction) -> [(String, JSONValue)] {
        var fields: [(String, JSONValue)] = []
        fields.reserveCapacity(12)
        if let host = tx.field(.httpHostRaw)?.rawBuffer {
            if host.first != UInt8(ascii: "["), let colon = host.lastIndex(of: UInt8(ascii: ":")) {
                let port = Int(String(decoding: host[(colon + 1)...], as: UTF8.self))
                fields.append(("hostname", .string(printable(host[..<colon]))))
                if let port { fields.append(("http_port", .int(Int64(port)))) }
            } else {
                fields.append(("hostname", .string(printable(host))))
            }
        }
        func text(_ key: String, _ buffer: InspectionBuffer, response: Bool = false) {
            if let v = tx.field(buffer, response: response), v.count > 0 { fields.append((key, .string(printable(v.rawBuffer)))) }
        }
        // Present but empty header values are logged as empty strings.
        func header(_ key: String, _ buffer: InspectionBuffer, response: Bool = false) {
            if let v = tx.field(buffer, response: response) { fields.append((key, .string(printable(v.rawBuffer)))) }
        }
        text("url", .httpURIRaw)
        header("http_user_agent", .httpUserAgent)
        if let ct = tx.field(.httpContentType, response: true)?.rawBuffer {
            fields.append(("http_content_type", .string(printable(ct.prefix { $0 != UInt8(ascii: ";") }))))
        }
        header("http_refer", .httpReferer)
        text("http_method", .httpMethod)
        text("protocol", .httpProtocol)
        if let code = tx.statusCode {
            fields.append(("status", .int(Int64(code))))
        } else {
            text("status_string", .httpStatCode, response: true)
        }
        header("redirect", .httpLocation, response: true)
        fields.append(("length", .int(Int64(tx.responseBodyLength))))
        return fields
    }
}

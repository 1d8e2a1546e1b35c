import HNDecode

/// One HTTP/1.x request and, once seen, its response.
struct HTTPTransaction {
    var id: Int
    var method: [UInt8] = []
    var uri: [UInt8] = []
    var requestProtocol: [UInt8] = []
    var requestLine: [UInt8] = []
    var requestHeaders: [(name: [UInt8], value: [UInt8])] = []
    var requestHead: [UInt8] = []
    var requestBody: [UInt8] = []
    var requestBodyLength = 0
    var statusCode: Int? = nil
    var statusCodeText: [UInt8] = []
    var statusMessage: [UInt8] = []
    var responseProtocol: [UInt8] = []
    var responseLine: [UInt8] = []
    var responseHeaders: [(name: [UInt8], value: [UInt8])] = []
    var responseBody: [UInt8] = []
    var responseBodyLength = 0
    var logged = false

    func header(_ name: String, response: Bool = false) -> [UInt8]? {
        let lower = Array(name.lowercased().utf8)
        for h in response ? responseHeaders : requestHeaders where HTTPParser.lowercased(h.name) == lower { return h.value }
        return nil
    }
}

/// An HTTP/1.0 and 1.1 parser for both directions of a flow: request and status lines,
/// headers with folding, Content-Length and chunked bodies (kept up to a limit), pipelining,
/// and responses paired with requests in order. Every length is bounded: a head longer than
/// `maxHeadBytes` stops parsing of that direction (recorded), it never grows memory.
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
        case failed
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
        }
    }

    /// Bytes were lost: the direction cannot be followed any more.
    func gap(toServer: Bool) {
        if toServer { requestPhase = .failed; requestBuffer = [] } else { responsePhase = .failed; responseBuffer = [] }
    }

    static func findHeadEnd(_ b: [UInt8]) -> (headEnd: Int, bodyStart: Int)? {
        var i = 0
        while i + 1 < b.count {
            if b[i] == 0x0A {
                if b[i + 1] == 0x0A { return (i + 1, i + 2) }
                if b[i + 1] == 0x0D && i + 2 < b.count && b[i + 2] == 0x0A { return (i + 1, i + 3) }
            }
            i += 1
        }
        return nil
    }

    static func lines(_ head: ArraySlice<UInt8>) -> [[UInt8]] {
        var out: [[UInt8]] = []
        var current: [UInt8] = []
        for b in head {
            if b == 0x0A {
                if current.last == 0x0D { current.removeLast() }
                out.append(current)
                current = []
            } else {
                current.append(b)
            }
        }
        if !current.isEmpty { out.append(current) }
        return out
    }

    /// Headers from the lines after the first, unfolding continuation lines.
    static func headers(_ lines: ArraySlice<[UInt8]>) -> [(name: [UInt8], value: [UInt8])] {
        var result: [(name: [UInt8], value: [UInt8])] = []
        for line in lines where !line.isEmpty {
            if (line[0] == 0x20 || line[0] == 0x09), !result.isEmpty {
                result[result.count - 1].value += [0x20] + trim(ArraySlice(line))
                continue
            }
            guard let colon = line.firstIndex(of: UInt8(ascii: ":")) else { continue }
            result.append((trim(line[..<colon]), trim(line[(colon + 1)...])))
        }
        return result
    }

    static func trim(_ s: ArraySlice<UInt8>) -> [UInt8] {
        var slice = s
        while let f = slice.first, f == 0x20 || f == 0x09 { slice = slice.dropFirst() }
        while let l = slice.last, l == 0x20 || l == 0x09 || l == 0x0D { slice = slice.dropLast() }
        return Array(slice)
    }

    static func lowercased(_ b: [UInt8]) -> [UInt8] { b.map { $0 >= 65 && $0 <= 90 ? $0 | 0x20 : $0 } }

    static func contentLength(_ headers: [(name: [UInt8], value: [UInt8])]) -> Int? {
        for h in headers where lowercased(h.name) == Array("content-length".utf8) {
            let digits = h.value.prefix { $0 >= 48 && $0 <= 57 }
            guard !digits.isEmpty, digits.count <= 15 else { return nil }
            return Int(String(decoding: digits, as: UTF8.self))
        }
        return nil
    }

    static func isChunked(_ headers: [(name: [UInt8], value: [UInt8])]) -> Bool {
        headers.contains { lowercased($0.name) == Array("transfer-encoding".utf8) && lowercased($0.value).contains(Array("chunked".utf8)) }
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

    static func looksLikeResponse(_ bytes: ByteView) -> Bool {
        let p = Array("HTTP/".utf8)
        return bytes.count >= 5 && (0..<5).allSatisfy { bytes.u8($0) == p[$0] }
    }

    // MARK: Requests

    func parseRequests(_ events: inout [AppEvent]) {
        var consumed = 0
        loop: while consumed < requestBuffer.count {
            switch requestPhase {
            case .head:
                // Leading blank lines between requests are tolerated.
                while consumed < requestBuffer.count && (requestBuffer[consumed] == 0x0D || requestBuffer[consumed] == 0x0A) { consumed += 1 }
                let rest = Array(requestBuffer[consumed...])
                guard let end = HTTPParser.findHeadEnd(rest) else {
                    if rest.count > HTTPParser.maxHeadBytes {
                        anomalies.append("request head too long")
                        requestPhase = .failed
                    }
                    break loop
                }
                let headLines = HTTPParser.lines(rest[0..<end.headEnd])
                guard let first = headLines.first else { requestPhase = .failed; break loop }
                let parts = first.split(separator: 0x20, maxSplits: 2, omittingEmptySubsequences: true)
                guard parts.count >= 2 else {
                    anomalies.append("request line without a URI")
                    requestPhase = .failed
                    break loop
                }
                guard transactions.count < HTTPParser.maxPendingRequests else {
                    anomalies.append("too many requests without a response")
                    requestPhase = .failed
                    break loop
                }
                var tx = HTTPTransaction(id: nextID)
                nextID += 1
                tx.method = Array(parts[0])
                tx.uri = Array(parts[1])
                tx.requestProtocol = parts.count > 2 ? Array(parts[2]) : []
                tx.requestLine = first
                tx.requestHeaders = HTTPParser.headers(headLines.dropFirst())
                tx.requestHead = Array(rest[0..<end.bodyStart])
                transactions.append(tx)
                consumed += end.bodyStart
                events.append(requestHeadEvent(transactions.count - 1))
                if HTTPParser.isChunked(tx.requestHeaders) {
                    requestPhase = .chunkSize
                } else if let n = HTTPParser.contentLength(tx.requestHeaders), n > 0 {
                    requestPhase = .body(remaining: n)
                } else {
                    requestPhase = .head
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
            }
        }
        requestBuffer.removeFirst(min(consumed, requestBuffer.count))
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
        if request {
            guard let i = transactions.indices.last else { return }
            transactions[i].requestBodyLength += bytes.count
            let room = HTTPParser.bodyLimit - transactions[i].requestBody.count
            if room > 0 { transactions[i].requestBody += bytes.prefix(room) }
        } else {
            guard nextResponse < transactions.count else { return }
            transactions[nextResponse].responseBodyLength += bytes.count
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
                let rest = Array(responseBuffer[consumed...])
                guard let end = HTTPParser.findHeadEnd(rest) else {
                    if rest.count > HTTPParser.maxHeadBytes { anomalies.append("response head too long"); responsePhase = .failed }
                    break loop
                }
                let headLines = HTTPParser.lines(rest[0..<end.headEnd])
                guard let first = headLines.first, first.starts(with: Array("HTTP/".utf8)) else {
                    anomalies.append("response without a status line")
                    responsePhase = .failed
                    break loop
                }
                if nextResponse >= transactions.count {
                    // A response with no request seen (midstream): give it a transaction.
                    transactions.append(HTTPTransaction(id: nextID))
                    nextID += 1
                }
                let parts = first.split(separator: 0x20, maxSplits: 2, omittingEmptySubsequences: true)
                var tx = transactions[nextResponse]
                tx.responseProtocol = parts.first.map(Array.init) ?? []
                tx.statusCodeText = parts.count > 1 ? Array(parts[1]) : []
                tx.statusCode = Int(String(decoding: tx.statusCodeText, as: UTF8.self))
                tx.statusMessage = parts.count > 2 ? Array(parts[2]) : []
                tx.responseLine = first
                tx.responseHeaders = HTTPParser.headers(headLines.dropFirst())
                transactions[nextResponse] = tx
                consumed += end.bodyStart
                events.append(responseHeadEvent(nextResponse))
                let code = tx.statusCode ?? 0
                let noBody = HTTPParser.lowercased(tx.method) == Array("head".utf8) || (code >= 100 && code < 200) || code == 204 || code == 304
                if code >= 100 && code < 200 {
                    // An interim response: the final one follows for the same request.
                    responsePhase = .head
                } else if noBody {
                    finishResponse(&events)
                } else if HTTPParser.isChunked(tx.responseHeaders) {
                    responsePhase = .chunkSize
                } else if let n = HTTPParser.contentLength(tx.responseHeaders) {
                    if n == 0 { finishResponse(&events) } else { responsePhase = .body(remaining: n) }
                } else {
                    responsePhase = .untilClose
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
            }
        }
        responseBuffer.removeFirst(min(consumed, responseBuffer.count))
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
        if case .head = responsePhase, responseBuffer.starts(with: Array("HTTP/".utf8)), responseBuffer.count <= HTTPParser.maxHeadBytes {
            responseBuffer += [0x0D, 0x0A, 0x0D, 0x0A]
            parseResponses(&events)
        }
        // A request line cut off by the end of the connection is still logged (as libhtp does).
        if case .head = requestPhase, !requestBuffer.isEmpty, requestBuffer.count <= HTTPParser.maxHeadBytes {
            let line = HTTPParser.lines(requestBuffer[...]).first ?? []
            let parts = line.split(separator: 0x20, maxSplits: 2, omittingEmptySubsequences: true)
            if parts.count >= 2, HTTPParser.methods.contains(String(decoding: parts[0], as: UTF8.self)) {
                var tx = HTTPTransaction(id: nextID)
                nextID += 1
                tx.method = Array(parts[0])
                tx.uri = Array(parts[1])
                tx.requestProtocol = parts.count > 2 ? Array(parts[2]) : []
                tx.requestLine = line
                tx.requestHeaders = HTTPParser.headers(HTTPParser.lines(requestBuffer[...]).dropFirst())
                tx.requestHead = requestBuffer
                transactions.append(tx)
                events.append(requestHeadEvent(transactions.count - 1))
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

    static func percentDecoded(_ uri: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(uri.count)
        var i = 0
        while i < uri.count {
            if uri[i] == 0x25, i + 2 < uri.count, let h = hex(uri[i + 1]), let l = hex(uri[i + 2]) {
                out.append(h << 4 | l)
                i += 3
            } else {
                out.append(uri[i])
                i += 1
            }
        }
        return out
    }

    static func hex(_ b: UInt8) -> UInt8? {
        switch b {
        case 48...57: b - 48
        case 65...70: b - 55
        case 97...102: b - 87
        default: nil
        }
    }

    /// The Host header (or an absolute URI's authority) lower-cased, without port.
    static func normalizedHost(_ tx: HTTPTransaction) -> [UInt8]? {
        guard var host = tx.header("host") else { return nil }
        if host.first != UInt8(ascii: "["), let colon = host.lastIndex(of: UInt8(ascii: ":")) { host = Array(host[..<colon]) }
        while host.last == UInt8(ascii: ".") { host.removeLast() }
        return lowercased(host)
    }

    func requestHeadEvent(_ index: Int) -> AppEvent {
        let tx = transactions[index]
        var buffers: [(InspectionBuffer, OwnedBytes)] = []
        func add(_ b: InspectionBuffer, _ bytes: [UInt8]?) { if let bytes { buffers.append((b, OwnedBytes(bytes))) } }
        add(.httpMethod, tx.method)
        add(.httpURI, HTTPParser.percentDecoded(tx.uri))
        add(.httpURIRaw, tx.uri)
        add(.httpProtocol, tx.requestProtocol)
        add(.httpRequestLine, tx.requestLine)
        add(.httpHost, HTTPParser.normalizedHost(tx))
        add(.httpHostRaw, tx.header("host"))
        add(.httpUserAgent, tx.header("user-agent"))
        add(.httpCookie, tx.header("cookie"))
        add(.httpReferer, tx.header("referer"))
        add(.httpAccept, tx.header("accept"))
        add(.httpAcceptLanguage, tx.header("accept-language"))
        add(.httpAcceptEncoding, tx.header("accept-encoding"))
        add(.httpConnection, tx.header("connection"))
        add(.httpContentType, tx.header("content-type"))
        add(.httpContentLength, tx.header("content-length"))
        add(.httpHeader, HTTPParser.normalizedHeaders(tx.requestHeaders))
        if let nl = tx.requestHead.firstIndex(of: 0x0A) { add(.httpHeaderRaw, Array(tx.requestHead[(nl + 1)...])) }
        add(.httpHeaderNames, HTTPParser.headerNames(tx.requestHeaders))
        add(.httpStart, tx.requestHead)
        return AppEvent(eventType: "http", record: nil, transactionID: tx.id, buffers: buffers, toServer: true)
    }

    func requestBodyEvent() -> AppEvent {
        guard let tx = transactions.last else { return AppEvent(eventType: "http", record: nil, transactionID: 0, buffers: [], toServer: true) }
        return AppEvent(eventType: "http", record: nil, transactionID: tx.id,
                        buffers: [(.httpRequestBody, OwnedBytes(tx.requestBody))], toServer: true)
    }

    func responseHeadEvent(_ index: Int) -> AppEvent {
        let tx = transactions[index]
        var buffers: [(InspectionBuffer, OwnedBytes)] = []
        func add(_ b: InspectionBuffer, _ bytes: [UInt8]?) { if let bytes { buffers.append((b, OwnedBytes(bytes))) } }
        add(.httpStatCode, tx.statusCodeText)
        add(.httpStatMsg, tx.statusMessage)
        add(.httpResponseLine, tx.responseLine)
        add(.httpServer, tx.header("server", response: true))
        add(.httpLocation, tx.header("location", response: true))
        add(.httpContentType, tx.header("content-type", response: true))
        add(.httpContentLength, tx.header("content-length", response: true))
        add(.httpHeader, HTTPParser.normalizedHeaders(tx.responseHeaders))
        add(.httpHeaderNames, HTTPParser.headerNames(tx.responseHeaders))
        return AppEvent(eventType: "http", record: nil, transactionID: tx.id, buffers: buffers, toServer: false)
    }

    func responseBodyEvent(_ index: Int) -> AppEvent {
        let tx = transactions[index]
        let body = OwnedBytes(tx.responseBody)
        return AppEvent(eventType: "http", record: nil, transactionID: tx.id,
                        buffers: tx.responseBody.isEmpty ? [] : [(.httpResponseBody, body), (.fileData, body)], toServer: false)
    }

    static func normalizedHeaders(_ headers: [(name: [UInt8], value: [UInt8])]) -> [UInt8] {
        var out: [UInt8] = []
        for h in headers { out += h.name + Array(": ".utf8) + h.value + [0x0D, 0x0A] }
        return out
    }

    static func headerNames(_ headers: [(name: [UInt8], value: [UInt8])]) -> [UInt8] {
        var out: [UInt8] = [0x0D, 0x0A]
        for h in headers { out += h.name + [0x0D, 0x0A] }
        return out + [0x0D, 0x0A]
    }

    /// The EVE `http` record of a transaction, in Suricata's field order.
    func logEvent(_ index: Int) -> AppEvent {
        transactions[index].logged = true
        let tx = transactions[index]
        var fields: [(String, JSONValue)] = []
        if let host = tx.header("host") {
            var h = host
            if h.first != UInt8(ascii: "["), let colon = h.lastIndex(of: UInt8(ascii: ":")) {
                let port = Int(String(decoding: h[(colon + 1)...], as: UTF8.self))
                h = Array(h[..<colon])
                fields.append(("hostname", .string(printable(h))))
                if let port { fields.append(("http_port", .int(Int64(port)))) }
            } else {
                fields.append(("hostname", .string(printable(h))))
            }
        }
        if !tx.uri.isEmpty { fields.append(("url", .string(printable(tx.uri)))) }
        if let ua = tx.header("user-agent") { fields.append(("http_user_agent", .string(printable(ua)))) }
        if let ct = tx.header("content-type", response: true) {
            fields.append(("http_content_type", .string(printable(ct.prefix { $0 != UInt8(ascii: ";") }))))
        }
        if let ref = tx.header("referer") { fields.append(("http_refer", .string(printable(ref)))) }
        if !tx.method.isEmpty { fields.append(("http_method", .string(printable(tx.method)))) }
        if !tx.requestProtocol.isEmpty { fields.append(("protocol", .string(printable(tx.requestProtocol)))) }
        if let code = tx.statusCode {
            fields.append(("status", .int(Int64(code))))
        } else if !tx.statusCodeText.isEmpty {
            fields.append(("status_string", .string(printable(tx.statusCodeText))))
        }
        if let loc = tx.header("location", response: true) { fields.append(("redirect", .string(printable(loc)))) }
        fields.append(("length", .int(Int64(tx.responseBodyLength))))
        var event = AppEvent(eventType: "http", record: .object(fields), transactionID: tx.id, buffers: [], toServer: true)
        if let auth = tx.header("authorization"), auth.count >= 6,
           String(decoding: auth.prefix(6), as: UTF8.self).lowercased() == "basic " {
            event.notes.append(.credentialsInClear("HTTP Basic"))
        }
        if tx.statusCode == 401 { event.notes.append(.authFailure) }
        return event
    }
}

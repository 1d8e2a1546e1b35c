import HNCapGen
import Testing
@testable import HNAppLayer

@Suite struct HTTPParserTests {
    let request = Array("GET /a%20b/index.php?id=1 HTTP/1.1\r\nHost: Portal.HealthNet.lu:8080\r\nUser-Agent: curl/8.0\r\nX-Long: part1\r\n part2\r\nCookie: s=1\r\n\r\n".utf8)
    let response = Array("HTTP/1.1 200 OK\r\nServer: Apache\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: 5\r\n\r\nhello".utf8)

    @Test func requestBuffersAreRegisteredWhateverTheSplit() {
        for chunks in splits(request) {
            let p = HTTPParser()
            var events: [AppEvent] = []
            feed(chunks) { p.receive($0, toServer: true, events: &events) }
            #expect(buffer(events, .httpMethod) == "GET")
            #expect(buffer(events, .httpURI) == "/a b/index.php?id=1")
            #expect(buffer(events, .httpURIRaw) == "/a%20b/index.php?id=1")
            #expect(buffer(events, .httpHost) == "portal.healthnet.lu")
            #expect(buffer(events, .httpUserAgent) == "curl/8.0")
            #expect(buffer(events, .httpCookie) == "s=1")
            #expect(buffer(events, .httpHeader)?.contains("X-Long: part1 part2\r\n") == true)
            #expect(buffer(events, .httpHeaderNames) == "\r\nHost\r\nUser-Agent\r\nX-Long\r\nCookie\r\n\r\n")
        }
    }

    @Test func responseCompletesTheTransactionAndLogsIt() throws {
        for chunks in splits(response) {
            let p = HTTPParser()
            var events: [AppEvent] = []
            feed([request]) { p.receive($0, toServer: true, events: &events) }
            feed(chunks) { p.receive($0, toServer: false, events: &events) }
            #expect(buffer(events, .httpStatCode) == "200")
            // http.protocol reads the response's too.
            #expect(events.filter { !$0.toServer }.contains { $0.buffers.view(.httpProtocol)?.toArray() == Array("HTTP/1.1".utf8) })
            #expect(buffer(events, .httpStatMsg) == "OK")
            #expect(buffer(events, .httpResponseBody) == "hello")
            let log = try #require(records(events).first)
            guard case .string(let host)? = log["hostname"], case .int(let port)? = log["http_port"],
                  case .int(let status)? = log["status"], case .int(let length)? = log["length"],
                  case .string(let type)? = log["http_content_type"] else {
                Issue.record("missing fields in \(log)")
                return
            }
            #expect(host == "Portal.HealthNet.lu" && port == 8080 && status == 200 && length == 5 && type == "text/html")
        }
    }

    @Test func bodiesAreNotKeptWhenNoRuleReadsThemButTheirLengthIsLogged() throws {
        let post = Array("POST /up HTTP/1.1\r\nHost: a\r\nContent-Length: 4\r\n\r\nabcd".utf8)
        for keep in [true, false] {
            let scratch = ParserScratch()
            scratch.keepBodies = keep
            let p = HTTPParser(scratch: scratch)
            var events: [AppEvent] = []
            feed([post]) { p.receive($0, toServer: true, events: &events) }
            feed([response]) { p.receive($0, toServer: false, events: &events) }
            #expect(buffer(events, .httpRequestBody) == (keep ? "abcd" : nil))
            #expect(buffer(events, .httpResponseBody) == (keep ? "hello" : nil))
            // file.data is the bodies' bytes again (a POST's is an upload), not a second copy.
            let files = events.compactMap { $0.buffers.view(.fileData).map { String(decoding: $0.rawBuffer, as: UTF8.self) } }
            #expect(files == (keep ? ["abcd", "hello"] : []))
            let log = try #require(records(events).first)
            guard case .int(let length)? = log["length"] else {
                Issue.record("no length in \(log)")
                continue
            }
            #expect(length == 5)
        }
    }

    @Test func chunkedBodyAndPipelinedRequests() {
        let two = Array("POST /up HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nabcd\r\n3;ext=1\r\nefg\r\n0\r\n\r\nGET /next HTTP/1.1\r\nHost: a\r\n\r\n".utf8)
        for chunks in splits(two) {
            let p = HTTPParser()
            var events: [AppEvent] = []
            feed(chunks) { p.receive($0, toServer: true, events: &events) }
            #expect(buffer(events, .httpRequestBody) == "abcdefg")
            #expect(p.transactions.count == 2)
            #expect(p.transactions.map { string($0.field(.httpURIRaw)) } == ["/up", "/next"])
        }
    }

    @Test func headWithoutAnEndIsBoundedAndStopsTheDirection() {
        let p = HTTPParser()
        var events: [AppEvent] = []
        let huge = Array("GET / HTTP/1.1\r\nX: ".utf8) + [UInt8](repeating: 0x41, count: HTTPParser.maxHeadBytes + 10)
        feed([huge]) { p.receive($0, toServer: true, events: &events) }
        #expect(p.requestBuffer.isEmpty || p.requestBuffer.count <= HTTPParser.maxHeadBytes + 100)
        #expect(p.anomalies.contains("request head too long"))
        feed([request]) { p.receive($0, toServer: true, events: &events) }
        #expect(p.transactions.isEmpty)
    }

    @Test func everyTruncationOfARequestIsSafe() {
        for n in 0...request.count {
            let p = HTTPParser()
            var events: [AppEvent] = []
            feed([Array(request.prefix(n))]) { p.receive($0, toServer: true, events: &events) }
            p.flush(&events)
        }
    }

    @Test func headRequestsAndNoContentResponsesHaveNoBody() {
        let p = HTTPParser()
        var events: [AppEvent] = []
        feed([Array("HEAD / HTTP/1.1\r\nHost: a\r\n\r\n".utf8)]) { p.receive($0, toServer: true, events: &events) }
        feed([Array("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n".utf8)]) { p.receive($0, toServer: false, events: &events) }
        #expect(records(events).count == 2)
        #expect(p.transactions.isEmpty)
    }

    @Test func keepAliveConnectionsKeepOnlyPendingTransactions() {
        let p = HTTPParser()
        var events: [AppEvent] = []
        for _ in 0..<1000 {
            feed([request]) { p.receive($0, toServer: true, events: &events) }
            feed([response]) { p.receive($0, toServer: false, events: &events) }
        }
        #expect(records(events).count == 1000)
        #expect(p.transactions.isEmpty)
        // Requests that are never answered stop being followed at the cap.
        for _ in 0..<(HTTPParser.maxPendingRequests + 10) { feed([request]) { p.receive($0, toServer: true, events: &events) } }
        #expect(p.transactions.count == HTTPParser.maxPendingRequests)
        #expect(p.anomalies.contains("too many requests without a response"))
    }

    @Test func aGapInsideABodyIsSkippedAndOneElsewhereStopsTheDirection() {
        let p = HTTPParser()
        var events: [AppEvent] = []
        let head = Array("HTTP/1.0 200 OK\r\nContent-Length: 10\r\n\r\nabc".utf8)
        feed([Array("GET /1 HTTP/1.0\r\n\r\nGET /2 HTTP/1.0\r\n\r\n".utf8)]) { p.receive($0, toServer: true, events: &events) }
        feed([head]) { p.receive($0, toServer: false, events: &events) }
        p.gap(toServer: false, size: 4, events: &events)          // 4 of the 7 body bytes left are lost
        feed([Array("xyzHTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\n".utf8)]) { p.receive($0, toServer: false, events: &events) }
        p.gap(toServer: false, size: 2, events: &events)          // the whole second body: complete
        let statuses = records(events).compactMap { r -> Int64? in if case .int(let s)? = r["status"] { return s } else { return nil } }
        #expect(statuses == [200, 200])
        // A gap in a head cannot be skipped.
        p.gap(toServer: false, size: 3, events: &events)
        #expect({ if case .failed = p.responsePhase { return true } else { return false } }())
    }

    @Test func dumpAllHeadersListsEveryHeaderOfBothHeads() throws {
        let scratch = ParserScratch()
        scratch.httpRequestHeaders = true
        scratch.httpResponseHeaders = true
        let p = HTTPParser(scratch: scratch)
        var events: [AppEvent] = []
        feed([request]) { p.receive($0, toServer: true, events: &events) }
        feed([response]) { p.receive($0, toServer: false, events: &events) }
        let log = try #require(records(events).first)
        guard case .array(let sent)? = log["request_headers"], case .array(let got)? = log["response_headers"] else {
            Issue.record("no header lists in \(log)"); return
        }
        #expect(sent.map { $0["name"] } == ["Host", "User-Agent", "X-Long", "Cookie"].map { .string($0) })
        #expect(sent[2]["value"] == .string("part1 part2"))
        #expect(got.count == 3 && got[1]["value"] == .string("text/html; charset=utf-8"))
        // Off by default.
        let q = HTTPParser()
        var quiet: [AppEvent] = []
        feed([request]) { q.receive($0, toServer: true, events: &quiet) }
        feed([response]) { q.receive($0, toServer: false, events: &quiet) }
        #expect(records(quiet).first?["request_headers"] == nil)
    }
}

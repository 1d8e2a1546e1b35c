import HNAppLayer
@testable import HNOutput
import Testing

/// The eve-log `dns` settings applied to a parsed message (Suricata's version 3 layout).
@Suite struct DNSLayoutTests {
    static let request = JSONValue.object([
        ("version", .int(3)), ("type", .string("request")), ("tx_id", .int(0)), ("id", .int(7)), ("flags", .string("0100")),
        ("rd", .bool(true)), ("opcode", .int(0)),
        ("queries", .array([.object([("rrname", .string("a.lu")), ("rrtype", .string("A"))]),
                            .object([("rrname", .string("a.lu")), ("rrtype", .string("MX"))])])),
    ])
    static let response = JSONValue.object([
        ("version", .int(3)), ("type", .string("response")), ("tx_id", .int(1)), ("id", .int(7)), ("flags", .string("8180")),
        ("qr", .bool(true)), ("rd", .bool(true)), ("ra", .bool(true)), ("opcode", .int(0)), ("rcode", .string("NOERROR")),
        ("queries", .array([.object([("rrname", .string("a.lu")), ("rrtype", .string("A"))])])),
        ("answers", .array([.object([("rrname", .string("a.lu")), ("rrtype", .string("CNAME")), ("ttl", .int(5)), ("rdata", .string("b.lu"))]),
                            .object([("rrname", .string("b.lu")), ("rrtype", .string("A")), ("ttl", .int(5)), ("rdata", .string("10.0.0.1"))])])),
        ("grouped", .object([("CNAME", .array([.string("b.lu")])), ("A", .array([.string("10.0.0.1")]))])),
    ])

    func keys(_ v: JSONValue) -> [String] {
        if case .object(let pairs) = v { return pairs.map(\.0) }
        return []
    }

    @Test func version3IsWrittenAsParsedByDefault() {
        let out = DNSLayout.records(DNSLayoutTests.response, settings: EVESettings())
        #expect(out.count == 1 && keys(out[0]) == keys(DNSLayoutTests.response))
    }

    @Test func version2WritesAQueryPerQuestionAndOneAnswer() {
        var settings = EVESettings()
        settings.dnsVersion = 2
        let queries = DNSLayout.records(DNSLayoutTests.request, settings: settings)
        #expect(queries.count == 2)
        #expect(keys(queries[0]) == ["type", "id", "rrname", "rrtype", "tx_id", "opcode"])
        guard case .string(let t)? = queries[1]["rrtype"], case .string(let kind)? = queries[1]["type"] else { Issue.record("query"); return }
        #expect(t == "MX" && kind == "query")
        let answer = DNSLayout.records(DNSLayoutTests.response, settings: settings)
        #expect(answer.count == 1)
        #expect(keys(answer[0]) == ["version", "type", "id", "flags", "qr", "rd", "ra", "opcode", "rrname", "rrtype", "rcode", "answers", "grouped"])
        settings.dnsFormats = ["grouped"]
        #expect(!keys(DNSLayout.records(DNSLayoutTests.response, settings: settings)[0]).contains("answers"))
    }

    @Test func requestsResponsesAndTypesFilter() {
        var settings = EVESettings()
        settings.dnsRequests = false
        #expect(DNSLayout.records(DNSLayoutTests.request, settings: settings).isEmpty)
        #expect(DNSLayout.records(DNSLayoutTests.response, settings: settings).count == 1)
        settings = EVESettings()
        settings.dnsTypes = ["mx"]
        // The request has an MX question (only it is kept); the response has none.
        let kept = DNSLayout.records(DNSLayoutTests.request, settings: settings)
        guard case .array(let q)? = kept.first?["queries"] else { Issue.record("queries"); return }
        #expect(q.count == 1)
        #expect(DNSLayout.records(DNSLayoutTests.response, settings: settings).isEmpty)
        settings.dnsTypes = ["a"]
        guard case .array(let answers)? = DNSLayout.records(DNSLayoutTests.response, settings: settings).first?["answers"] else { Issue.record("answers"); return }
        #expect(answers.count == 1)
    }
}

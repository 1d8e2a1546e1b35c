import HNCapGen
import Testing
@testable import HNAppLayer
@testable import HNDecode

@Suite struct DNSParserTests {
    @Test func queryAndCompressedAnswersParse() throws {
        let response = Payloads.dnsResponse(id: 7, name: "portal.healthnet.lu", addresses: [[10, 20, 2, 43], Frames.ipv6("2001:db8::1")])
        try response.withUnsafeBytes { raw in
            let m = try #require(DNSParser.parse(ByteView(raw)))
            #expect(m.id == 7 && m.isResponse && m.rcode == 0)
            #expect(m.questions.map { String(decoding: $0.name, as: UTF8.self) } == ["portal.healthnet.lu"])
            #expect(m.answers.count == 2)
            #expect(String(decoding: m.answers[0].name, as: UTF8.self) == "portal.healthnet.lu")
            guard case .string(let a)? = m.answers[0].data, case .string(let aaaa)? = m.answers[1].data else {
                Issue.record("no rdata")
                return
            }
            #expect(a == "10.20.2.43" && aaaa == "2001:db8::1")
        }
    }

    @Test func soaAnswerIsReadField() throws {
        // Response with one SOA answer for the question name (pointer 0xC00C).
        var m: [UInt8] = [0, 5, 0x81, 0x80, 0, 1, 0, 1, 0, 0, 0, 0]
        m += [2] + Array("lu".utf8) + [0, 0, 6, 0, 1]
        let rdata: [UInt8] = [3] + Array("ns1".utf8) + [0xC0, 12] + [4] + Array("host".utf8) + [0xC0, 12]
            + Frames.be32(2026112301) + Frames.be32(3600) + Frames.be32(600) + Frames.be32(86400) + Frames.be32(300)
        m += [0xC0, 12, 0, 6, 0, 1] + Frames.be32(60) + Frames.be16(UInt16(rdata.count)) + rdata
        try m.withUnsafeBytes { raw in
            let msg = try #require(DNSParser.parse(ByteView(raw)))
            guard case .object(let soa)? = msg.answers.first?.data else { Issue.record("no SOA"); return }
            #expect(soa.map(\.0) == ["mname", "rname", "serial", "refresh", "retry", "expire", "minimum"])
            guard case .string(let mname) = soa[0].1, case .int(let serial) = soa[2].1 else { Issue.record("types"); return }
            #expect(mname == "ns1.lu" && serial == 2026112301)
        }
    }

    @Test func strictQueryTestAcceptsQueriesOnlyForAnyPort() {
        Payloads.dnsQuery(id: 3, name: "portal.healthnet.lu").withUnsafeBytes { #expect(DNSParser.looksLikeQuery(ByteView($0))) }
        Payloads.dnsResponse(id: 3, name: "a.lu", addresses: [[1, 2, 3, 4]]).withUnsafeBytes { #expect(!DNSParser.looksLikeQuery(ByteView($0))) }
        // A query with trailing garbage, or random bytes, is not DNS.
        (Payloads.dnsQuery(id: 3, name: "a.lu") + [1, 2, 3]).withUnsafeBytes { #expect(!DNSParser.looksLikeQuery(ByteView($0))) }
        var random = SeededRandom(seed: 11)
        var accepted = 0
        for _ in 0..<10_000 { random.bytes(40).withUnsafeBytes { if DNSParser.looksLikeQuery(ByteView($0)) { accepted += 1 } } }
        #expect(accepted == 0)
    }

    @Test func compressionLoopIsRefused() {
        // Header, then a question whose name is a pointer to itself.
        let message: [UInt8] = [0, 1, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0xC0, 12, 0, 1, 0, 1]
        message.withUnsafeBytes { #expect(DNSParser.parse(ByteView($0)) == nil) }
    }

    @Test func overlongNameIsRefused() {
        var message: [UInt8] = [0, 1, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0]
        for _ in 0..<20 { message += [63] + [UInt8](repeating: 0x61, count: 63) }
        message += [0, 0, 1, 0, 1]
        message.withUnsafeBytes { #expect(DNSParser.parse(ByteView($0)) == nil) }
    }

    @Test func everyTruncationIsSafe() {
        let response = Payloads.dnsResponse(id: 9, name: "a.b.example", addresses: [[1, 2, 3, 4]])
        for n in 0...response.count {
            Array(response.prefix(n)).withUnsafeBytes { _ = DNSParser.parse(ByteView($0)) }
        }
    }

    @Test func eventHasSuricataVersion3Layout() {
        let query = Payloads.dnsQuery(id: 0x1234, name: "lab.healthnet.lu", type: 28)
        query.withUnsafeBytes { raw in
            guard let m = DNSParser.parse(ByteView(raw)) else { Issue.record("no parse"); return }
            let e = DNSParser.event(m, transactionID: 0)
            guard case .int(let v)? = e.record?["version"], case .string(let t)? = e.record?["type"] else { Issue.record("fields"); return }
            #expect(v == 3 && t == "request")
            #expect(buffer([e], .dnsQuery) == "lab.healthnet.lu")
        }
    }

    /// A response to `name` with the given answer and authority records (type, rdata).
    static func response(_ name: String, type: UInt16, answers: [(UInt16, [UInt8])], authorities: [(UInt16, [UInt8])] = []) -> [UInt8] {
        var m: [UInt8] = [0, 5, 0x81, 0x80, 0, 1] + Frames.be16(UInt16(answers.count)) + Frames.be16(UInt16(authorities.count)) + [0, 0]
        for label in name.split(separator: ".") { m += [UInt8(label.utf8.count)] + Array(label.utf8) }
        m += [0] + Frames.be16(type) + [0, 1]
        for (t, rdata) in answers + authorities { m += [0xC0, 12] + Frames.be16(t) + [0, 1] + Frames.be32(60) + Frames.be16(UInt16(rdata.count)) + rdata }
        return m
    }

    @Test func recordsAreLoggedAsSuricataDoes() throws {
        // TXT with two strings (the second empty): two entries; SRV as an object; NULL bytes
        // as text with \xNN beyond ASCII; an NS authority.
        let txt: [UInt8] = [3] + Array("v=1".utf8) + [0]
        let srv: [UInt8] = Frames.be16(20) + Frames.be16(1) + Frames.be16(5060) + [3] + Array("sip".utf8) + [0xC0, 12]
        let null: [UInt8] = Array("VACKD".utf8) + [0x03, 0xC5, 0xE9]
        let ns: [UInt8] = [2] + Array("ns".utf8) + [0xC0, 12]
        let m = DNSParserTests.response("t.lu", type: 16, answers: [(16, txt), (33, srv), (10, null)], authorities: [(2, ns)])
        try m.withUnsafeBytes { raw in
            let msg = try #require(DNSParser.parse(ByteView(raw)))
            let e = DNSParser.event(msg, transactionID: 1)
            guard case .array(let answers)? = e.record?["answers"], case .array(let auth)? = e.record?["authorities"] else {
                Issue.record("sections")
                return
            }
            #expect(answers.count == 4 && auth.count == 1)
            guard case .string(let first)? = answers[0]["rdata"], case .string(let second)? = answers[1]["rdata"],
                  case .int(let port)? = answers[2]["srv"]?["port"], case .string(let target)? = answers[2]["srv"]?["name"],
                  case .string(let bytes)? = answers[3]["rdata"], case .string(let type)? = answers[3]["rrtype"],
                  case .string(let server)? = auth[0]["rdata"] else { Issue.record("fields"); return }
            #expect(first == "v=1" && second == "")
            #expect(port == 5060 && target == "sip.t.lu")
            #expect(bytes == "VACKD\u{03}\\xc5\\xe9" && type == "NULL")
            #expect(server == "ns.t.lu")
        }
    }
}

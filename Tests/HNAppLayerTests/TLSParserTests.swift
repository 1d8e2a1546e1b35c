import HNCapGen
import Testing
@testable import HNAppLayer
import HNDecode

@Suite struct TLSParserTests {
    @Test func clientHelloGivesSNIAndJA3WhateverTheSplit() {
        var random = SeededRandom(seed: 1)
        let hello = Payloads.tlsClientHello(sni: "portal.healthnet.lu", random: &random)
        for chunks in splits(hello) {
            let p = TLSParser()
            var events: [AppEvent] = []
            feed(chunks) { p.receive($0, toServer: true, events: &events) }
            #expect(buffer(events, .tlsSNI) == "portal.healthnet.lu")
            #expect(buffer(events, .ja3Hash)?.count == 32)
            #expect(p.ja3?.hasPrefix("771,4865-4866-4867-") == true)
            #expect(p.clientALPNs.map { String(decoding: $0, as: UTF8.self) } == ["h2", "http/1.1"])
        }
    }

    /// The example of the JA4 specification (a Chrome ClientHello): its cipher and extension
    /// hashes are the published ones.
    @Test func ja4MatchesTheSpecificationExample() {
        let ciphers: [UInt16] = [0x1301, 0x1302, 0x1303, 0xC02B, 0xC02F, 0xC02C, 0xC030, 0xCCA9, 0xCCA8, 0xC013, 0xC014, 0x009C, 0x009D, 0x002F, 0x0035]
        let extensions: [UInt16] = [0x0000, 0x0017, 0x0012, 0x0033, 0x002D, 0x000D, 0x0023, 0x0010, 0x000B, 0x0005, 0x001B, 0x002B, 0xFF01, 0x000A, 0x4469, 0x0015]
        let sigs: [UInt16] = [0x0403, 0x0804, 0x0401, 0x0503, 0x0805, 0x0501, 0x0806, 0x0601]
        let ja4 = TLSParser.ja4(version: 0x0304, sni: true, ciphers: ciphers, extensions: extensions, alpn: Array("h2".utf8), signatureAlgorithms: sigs)
        #expect(ja4 == "t13d1516h2_8daaf6152771_e5627efa2ab1")
        #expect(TLSParser.ja4(version: 0x0303, sni: false, ciphers: [], extensions: [], alpn: nil, signatureAlgorithms: []) == "t12i000000_000000000000_000000000000")
    }

    @Test func clientHelloGivesAJA4Buffer() {
        var random = SeededRandom(seed: 5)
        let p = TLSParser()
        var events: [AppEvent] = []
        feed([Payloads.tlsClientHello(sni: "a.lu", random: &random)]) { p.receive($0, toServer: true, events: &events) }
        #expect(buffer(events, .ja4Hash)?.hasPrefix("t13d1509h2_8daaf6152771_") == true)
    }

    @Test func serverHelloNegotiatesTLS13AndLogs() {
        var random = SeededRandom(seed: 2)
        let p = TLSParser()
        var events: [AppEvent] = []
        feed([Payloads.tlsClientHello(sni: "a.lu", random: &random)]) { p.receive($0, toServer: true, events: &events) }
        feed([Payloads.tlsServerFlight(random: &random)]) { p.receive($0, toServer: false, events: &events) }
        #expect(p.serverVersion == 0x0304)
        #expect(p.facts.tlsVersion == 0x0304)
        guard case .string(let v)? = records(events).first?["version"] else { Issue.record("no tls record"); return }
        #expect(v == "TLS 1.3")
    }

    @Test func garbageStopsTheParserWithoutGrowth() {
        let p = TLSParser()
        var events: [AppEvent] = []
        feed([[0x16, 0x03, 0x01, 0xFF, 0xFF] + [UInt8](repeating: 0, count: 100)]) { p.receive($0, toServer: true, events: &events) }
        #expect(p.failed[0])
        #expect(p.recordBuffer[0].isEmpty)
    }

    @Test func everyTruncationIsSafe() {
        var random = SeededRandom(seed: 3)
        let hello = Payloads.tlsClientHello(sni: "x.lu", random: &random)
        for n in 0...hello.count {
            let p = TLSParser()
            var events: [AppEvent] = []
            feed([Array(hello.prefix(n))]) { p.receive($0, toServer: true, events: &events) }
        }
    }

    @Test func aServerTakingUpTheClientsSessionIdResumesIt() {
        var random = SeededRandom(seed: 3)
        let hello = Payloads.tlsClientHello(sni: "portal.healthnet.lu", random: &random)
        // Record (5) and handshake (4) headers, version (2), random (32): then the session id.
        let sid = Array(hello[44..<(44 + Int(hello[43]))])
        for (echo, resumed) in [(sid, true), ([UInt8](repeating: 7, count: 32), false)] {
            let p = TLSParser()
            var events: [AppEvent] = []
            feed([hello]) { p.receive($0, toServer: true, events: &events) }
            let body: [UInt8] = [0x03, 0x03] + [UInt8](repeating: 1, count: 32) + [UInt8(echo.count)] + echo + [0xC0, 0x2F, 0, 0, 0]
            let handshake: [UInt8] = [2, 0, 0, UInt8(body.count)] + body
            let record: [UInt8] = [0x16, 0x03, 0x03, 0, UInt8(handshake.count)] + handshake
            feed([record]) { p.receive($0, toServer: false, events: &events) }
            #expect(p.sessionResumed == resumed)
        }
    }

    /// A handshake record of TLS 1.2 holding these messages (type, body).
    static func handshake(_ messages: [(UInt8, [UInt8])]) -> [UInt8] {
        var body: [UInt8] = []
        for (type, m) in messages { body += [type, 0, UInt8(m.count >> 8), UInt8(m.count & 0xFF)] + m }
        return [22, 3, 3, UInt8(body.count >> 8), UInt8(body.count & 0xFF)] + body
    }

    @Test func aCertificateRequestWaitsForTheClientsCertificateAndCustomFieldsAreSuricatas() {
        var random = SeededRandom(seed: 5)
        let scratch = ParserScratch()
        scratch.tlsCustom = ["sni", "version", "server_handshake"]
        let p = TLSParser(scratch: scratch)
        var events: [AppEvent] = []
        feed([Payloads.tlsClientHello(sni: "lab.example", random: &random)]) { p.receive($0, toServer: true, events: &events) }
        let hello: [UInt8] = [3, 3] + [UInt8](repeating: 7, count: 32) + [0, 0xC0, 0x30, 0, 0, 19, 0xFF, 0x01, 0, 1, 0, 0, 0x0B, 0, 2, 1, 0,
                                                                         0, 0x23, 0, 0, 0, 0x17, 0, 0]
        let flight = TLSParserTests.handshake([(2, hello), (13, [1, 1, 0, 2, 4, 1, 0, 0]), (14, [])])
        feed([flight]) { p.receive($0, toServer: false, events: &events) }
        #expect(records(events).isEmpty)  // the client's certificate is still to come
        feed([TLSParserTests.handshake([(11, [0, 0, 0])])]) { p.receive($0, toServer: true, events: &events) }
        let log = records(events)
        #expect(log.count == 1)
        #expect(log.first?["sni"] == .string("lab.example") && log.first?["version"] == .string("TLS 1.2") && log.first?["ja3"] == nil)
        #expect(log.first?["server_handshake"] == .object([("version", .string("TLS 1.2")), ("cipher", .int(49200)),
                                                          ("exts", .array([.int(65281), .int(11), .int(35), .int(23)]))]))
        Array("hello".utf8).withUnsafeBytes { #expect(Base64.encode($0) == "aGVsbG8=") }
    }
}

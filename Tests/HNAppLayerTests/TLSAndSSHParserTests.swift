import HNCapGen
import Testing
@testable import HNAppLayer

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
        }
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
}

@Suite struct SSHParserTests {
    @Test func bannersAndHASSH() {
        var random = SeededRandom(seed: 4)
        let client = Payloads.sshBanner("OpenSSH_9.6") + Payloads.sshKexInit(random: &random, server: false)
        let server = Payloads.sshBanner("OpenSSH_9.2p1 Debian-2") + Payloads.sshKexInit(random: &random, server: true)
        for chunks in splits(client) {
            let p = SSHParser()
            var events: [AppEvent] = []
            feed(chunks) { p.receive($0, toServer: true, events: &events) }
            feed([server]) { p.receive($0, toServer: false, events: &events) }
            #expect(buffer(events, .sshSoftware) == "OpenSSH_9.6")
            #expect(buffer(events, .sshHassh)?.count == 32)
            #expect(p.hassh[0]?.hasPrefix("curve25519-sha256") == true)
            guard case .object(let fields)? = records(events).first else { Issue.record("no ssh record"); return }
            #expect(fields.map(\.0) == ["client", "server"])
        }
    }
}

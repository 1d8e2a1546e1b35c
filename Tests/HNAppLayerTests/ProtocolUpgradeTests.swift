import HNCapGen
import Testing
@testable import HNAppLayer
@testable import HNDecode
@testable import HNFlow

/// Sessions that change protocol on the way, through the application layer as the pipeline
/// drives it: STARTTLS and the like hand the flow to the TLS parser, a CONNECT tunnel is
/// detected anew; refusals keep the first protocol.
@Suite struct ProtocolUpgradeTests {
    final class Session {
        let layer = AppLayer()
        var flow = Flow()
        var events: [AppEvent] = []
        init(port: UInt16) {
            flow.proto = 6
            flow.client = IPAddress("10.20.1.15")!
            flow.server = IPAddress("10.20.2.25")!
            flow.clientPort = 40_000
            flow.serverPort = port
        }
        func client(_ text: String) { send(Array(text.utf8), toServer: true) }
        func server(_ text: String) { send(Array(text.utf8), toServer: false) }
        func send(_ bytes: [UInt8], toServer: Bool) {
            bytes.withUnsafeBytes { layer.stream(.data(ByteView($0)), toServer: toServer, flow: &flow, events: &events) }
        }
        func end() { layer.flowEnded(&flow, events: &events) }
        var appProto: String? { AppProtocol.name(flow.appProto) }
        var orig: String? { AppProtocol.name(flow.appProtoOrig) }
        func record(_ type: String) -> JSONValue? { events.first { $0.eventType == type && $0.record != nil }?.record }
        var notes: [AppNote] { events.flatMap(\.notes) }
    }

    static func hello(_ sni: String) -> [UInt8] {
        var random = SeededRandom(seed: 3)
        return Payloads.tlsClientHello(sni: sni, random: &random)
    }

    static func sni(_ s: Session) -> String? {
        guard case .string(let name)? = s.record("tls")?["sni"] else { return nil }
        return name
    }

    @Test func aCommandOnItsOwnPortIsRecognisedWithoutTheGreeting() {
        // Picked up without the server's greeting: QUIT to port 25 is SMTP, to port 21 FTP,
        // to port 80 nothing yet.
        for (port, expected) in [(UInt16(25), "smtp"), (21, "ftp"), (80, nil)] as [(UInt16, String?)] {
            let s = Session(port: port)
            s.client("QUIT\r\n")
            #expect(s.appProto == expected, "port \(port)")
        }
        func verb(_ text: String) -> String { Array(text.utf8).withUnsafeBytes { AppLayer.commandVerb(ByteView($0)) } }
        #expect(verb("mail FROM:<a@b>\r\n") == "MAIL")
        #expect(verb("QUIT") == "")  // not ended yet
        #expect(verb("QU\r\n") == "" && verb("G3T /\r\n") == "" && verb("\u{16}\u{03}\u{01}") == "")
    }

    @Test func smtpStartTLSHandsTheSessionToTheTLSParser() {
        let s = Session(port: 25)
        s.server("220 mx.healthnet.lu ESMTP\r\n")
        s.client("EHLO mail.chl.lu\r\n")
        s.server("250-mx.healthnet.lu\r\n250 STARTTLS\r\n")
        s.client("STARTTLS\r\n")
        s.server("220 2.0.0 Ready to start TLS\r\n")
        #expect(s.appProto == "tls" && s.orig == "smtp")
        s.send(ProtocolUpgradeTests.hello("mx.healthnet.lu"), toServer: true)
        #expect(buffer(s.events, .tlsSNI) == "mx.healthnet.lu")
        s.end()
        #expect(ProtocolUpgradeTests.sni(s) == "mx.healthnet.lu")
        guard case .bool(true)? = s.record("smtp")?["starttls"] else { Issue.record("smtp record without starttls"); return }
    }

    @Test func aClientHelloAfterSTARTTLSUpgradesEvenBeforeTheReplyIsRead() {
        // The server's 220 can reach the parser after the client's first TLS record when
        // the capture reorders the directions.
        let s = Session(port: 25)
        s.server("220 mx ESMTP\r\n")
        s.client("EHLO a\r\nSTARTTLS\r\n")
        s.send(ProtocolUpgradeTests.hello("mx.healthnet.lu"), toServer: true)
        #expect(s.appProto == "tls" && s.orig == "smtp")
        s.end()
        #expect(ProtocolUpgradeTests.sni(s) == "mx.healthnet.lu")
    }

    @Test func aRefusedSTARTTLSKeepsTheSessionInClear() {
        let s = Session(port: 25)
        s.server("220 mx ESMTP\r\n")
        s.client("EHLO a\r\nSTARTTLS\r\n")
        s.server("454 4.7.0 TLS not available\r\n")
        s.client("MAIL FROM:<lab@chl.lu>\r\n")
        #expect(s.appProto == "smtp" && s.orig == nil)
        #expect(buffer(s.events, .smtpMailFrom) == "<lab@chl.lu>")
    }

    @Test func ftpAuthTLSIMAPStartTLSAndPOP3STLSAllEndAsTLS() {
        let cases: [(UInt16, String, [(Bool, String)])] = [
            (21, "ftp", [(false, "220 FTP ready\r\n"), (true, "AUTH TLS\r\n"), (false, "234 AUTH TLS OK\r\n")]),
            (143, "imap", [(false, "* OK IMAP4rev1 ready\r\n"), (true, "a1 CAPABILITY\r\n"),
                           (false, "* CAPABILITY IMAP4rev1 STARTTLS\r\na1 OK done\r\n"), (true, "a2 STARTTLS\r\n"), (false, "a2 OK Begin TLS\r\n")]),
            (110, "pop3", [(false, "+OK POP3 ready\r\n"), (true, "CAPA\r\n"), (false, "+OK\r\nSTLS\r\n.\r\n"), (true, "STLS\r\n"),
                           (false, "+OK Begin TLS\r\n")]),
        ]
        for (port, name, exchange) in cases {
            let s = Session(port: port)
            for (toServer, line) in exchange { s.send(Array(line.utf8), toServer: toServer) }
            #expect(s.appProto == "tls" && s.orig == name, "\(name)")
            s.send(ProtocolUpgradeTests.hello("\(name).healthnet.lu"), toServer: true)
            s.end()
            #expect(ProtocolUpgradeTests.sni(s) == "\(name).healthnet.lu", "\(name)")
        }
    }

    @Test func aRefusedUpgradeOnIMAPAndPOP3StaysInClear() {
        let imap = Session(port: 143)
        imap.server("* OK ready\r\n")
        imap.client("a1 STARTTLS\r\n")
        imap.server("a1 BAD not now\r\n")
        imap.send(ProtocolUpgradeTests.hello("x"), toServer: true)
        #expect(imap.appProto == "imap")
        let pop = Session(port: 110)
        pop.server("+OK ready\r\n")
        pop.client("STLS\r\n")
        pop.server("-ERR no\r\n")
        #expect(pop.appProto == "pop3")
    }

    @Test func anHTTPConnectTunnelIsDetectedAnewInsideIt() {
        for early in [false, true] {
            let s = Session(port: 3128)
            s.client("CONNECT updates.example.com:443 HTTP/1.1\r\nHost: updates.example.com:443\r\n\r\n")
            // A client may send its ClientHello before the proxy's answer is read.
            if early { s.send(ProtocolUpgradeTests.hello("updates.example.com"), toServer: true) }
            s.server("HTTP/1.1 200 Connection established\r\n\r\n")
            if !early { s.send(ProtocolUpgradeTests.hello("updates.example.com"), toServer: true) }
            #expect(s.appProto == "tls" && s.orig == "http", "early: \(early)")
            s.end()
            #expect(ProtocolUpgradeTests.sni(s) == "updates.example.com", "early: \(early)")
            guard case .string("CONNECT")? = s.record("http")?["http_method"] else { Issue.record("no CONNECT record"); return }
        }
    }

    @Test func aRefusedConnectGoesOnAsHTTP() {
        let s = Session(port: 3128)
        s.client("CONNECT 198.51.100.80:8443 HTTP/1.1\r\nHost: x\r\n\r\nGET /proxy.pac HTTP/1.1\r\nHost: proxy\r\n\r\n")
        s.server("HTTP/1.1 407 Proxy Authentication Required\r\nContent-Length: 0\r\n\r\n")
        s.server("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
        #expect(s.appProto == "http" && s.orig == nil)
        let urls = records(s.events).compactMap { r -> String? in if case .string(let u)? = r["url"] { return u } else { return nil } }
        #expect(urls == ["198.51.100.80:8443", "/proxy.pac"])
    }

    @Test func loginExchangesAreNotedWithoutTheirCredentials() {
        let imap = Session(port: 143)
        imap.server("* OK ready\r\n")
        imap.client("a1 LOGIN anna s3cret\r\n")
        imap.server("a1 NO [AUTHENTICATIONFAILED] Invalid credentials\r\n")
        imap.client("a2 LOGIN anna s3cret2\r\n")
        imap.server("a2 OK LOGIN completed\r\n")
        #expect(imap.notes == [.authAttempt, .authFailure, .authAttempt, .authSuccess])
        let pop = Session(port: 110)
        pop.server("+OK ready\r\n")
        pop.client("USER anna\r\n")
        pop.server("+OK\r\n")
        pop.client("PASS s3cret\r\n")
        pop.server("-ERR [AUTH] Invalid login\r\n")
        #expect(pop.notes == [.authAttempt, .authFailure])
        let smtp = Session(port: 587)
        smtp.server("220 mx ESMTP\r\n")
        smtp.client("EHLO a\r\nAUTH LOGIN\r\n")
        smtp.server("334 VXNlcm5hbWU6\r\n")
        smtp.client("YW5uYQ==\r\n")
        smtp.server("334 UGFzc3dvcmQ6\r\n")
        smtp.client("czNjcmV0\r\n")
        smtp.server("535 5.7.8 Authentication credentials invalid\r\n")
        #expect(smtp.notes.filter { $0 != .credentialsInClear("SMTP AUTH LOGIN") } == [.authAttempt, .authFailure])
        let text = "\(imap.events.map(\.record)) \(pop.events.map(\.record)) \(smtp.events.map(\.record))"
        #expect(!text.contains("s3cret") && !text.contains("czNjcmV0"))
    }

    @Test func sshNotesTheUserAuthenticationPhaseOnlyAfterBothNewKeys() {
        var random = SeededRandom(seed: 5)
        let s = Session(port: 22)
        s.send(Payloads.sshBanner("OpenSSH_9.2p1"), toServer: false)
        s.send(Payloads.sshBanner("libssh_0.9.6"), toServer: true)
        s.send(Payloads.sshKexInit(random: &random, server: false), toServer: true)
        s.send(Payloads.sshKexInit(random: &random, server: true), toServer: false)
        s.send(Payloads.sshKeyExchange(random: &random, server: false), toServer: true)
        #expect(!s.notes.contains(.encryptedAuthPhase))
        s.send(Payloads.sshKeyExchange(random: &random, server: true), toServer: false)
        #expect(!s.notes.contains(.encryptedAuthPhase))
        s.send(random.bytes(96), toServer: true)
        #expect(s.notes == [.encryptedAuthPhase])
        // A banner grab never gets there.
        let grab = Session(port: 22)
        grab.send(Payloads.sshBanner("OpenSSH_9.2p1"), toServer: false)
        grab.send(Payloads.sshBanner("scanner"), toServer: true)
        grab.send(random.bytes(200), toServer: true)
        #expect(grab.notes.isEmpty)
    }

    @Test func aClientHelloAnsweredWithAMailGreetingIsTLSToTheServerAndSMTPBack() {
        let s = Session(port: 465)
        s.send(ProtocolUpgradeTests.hello("mail.example"), toServer: true)
        s.server("220 mail.example ESMTP\r\n")
        #expect(s.appProto == "tls" && AppProtocol.name(s.flow.appProtoToClient) == "smtp")
        // A TLS server answering in TLS leaves both sides the same.
        let t = Session(port: 443)
        t.send(ProtocolUpgradeTests.hello("portal.example"), toServer: true)
        #expect(t.appProto == "tls" && t.flow.appProtoToClient == 0)
    }

    @Test func aDatagramOfNoRecognisedProtocolFailsDetectionExceptOnDNSsPort() {
        func datagram(_ port: UInt16, _ payload: [UInt8]) -> UInt8 {
            let layer = AppLayer()
            var flow = Flow()
            flow.proto = 17
            flow.clientPort = 40_000
            flow.serverPort = port
            var events: [AppEvent] = []
            var packet = Packet()
            payload.withUnsafeBytes { raw in
                packet.payload = ByteView(raw)
                layer.datagram(packet, toServer: true, flow: &flow, events: &events)
            }
            return flow.appProto
        }
        #expect(datagram(161, [0x30, 0x26, 0x02, 0x01, 0x01]) == AppProtocol.failed)
        #expect(datagram(53, [0x30, 0x26, 0x02, 0x01, 0x01]) == 0)
        // NetBIOS name service looks like DNS but is not.
        #expect(datagram(137, Payloads.dnsQuery(id: 1, name: "WORKGROUP")) == AppProtocol.failed)
        #expect(datagram(5300, Payloads.dnsQuery(id: 1, name: "portal.healthnet.lu")) == AppProtocol.dns)
    }

    @Test func bootpWithTheMagicCookieBetweenPorts67And68IsDHCP() {
        let layer = AppLayer()
        var flow = Flow()
        flow.proto = 17
        flow.clientPort = 68
        flow.serverPort = 67
        var events: [AppEvent] = []
        var discover = [UInt8](repeating: 0, count: 240) + [53, 1, 1, 255]
        discover[0] = 1
        discover[236] = 0x63; discover[237] = 0x82; discover[238] = 0x53; discover[239] = 0x63
        var packet = Packet()
        discover.withUnsafeBytes { raw in
            packet.payload = ByteView(raw)
            layer.datagram(packet, toServer: true, flow: &flow, events: &events)
        }
        #expect(flow.appProto == AppProtocol.dhcp && AppProtocol.name(flow.appProto) == "dhcp")
    }

    @Test func ldapStartTLSHandsTheSessionToTLSNamingItsOrigin() throws {
        let s = Session(port: 389)
        let oid = Array("1.3.6.1.4.1.1466.20037".utf8)
        // ExtendedRequest (message 1): [APPLICATION 23] { [0] requestName }
        let request: [UInt8] = [0x30, UInt8(5 + 2 + oid.count), 0x02, 0x01, 0x01, 0x77, UInt8(2 + oid.count), 0x80, UInt8(oid.count)] + oid
        // ExtendedResponse: [APPLICATION 24] { resultCode success, matchedDN "", diagnostic "" }
        let response: [UInt8] = [0x30, 0x0C, 0x02, 0x01, 0x01, 0x78, 0x07, 0x0A, 0x01, 0x00, 0x04, 0x00, 0x04, 0x00]
        s.send(request, toServer: true)
        #expect(s.appProto == "ldap")
        s.send(response, toServer: false)
        var random = SeededRandom(seed: 8)
        s.send(ProtocolUpgradeTests.hello("dc1.example"), toServer: true)
        s.send(Payloads.tlsServerFlight(random: &random), toServer: false)
        #expect(s.appProto == "tls" && s.orig == "ldap")
        #expect(s.record("tls")?["from_proto"] == .string("ldap"))
    }

    @Test func aFirstChunkTooShortToTellIsKeptForTheNext() {
        let s = Session(port: 8080)
        s.client("GE")
        #expect(s.appProto == nil)
        s.client("T /index.html HTTP/1.1\r\nHost: portal\r\n\r\n")
        s.server("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")
        #expect(s.appProto == "http")
        guard case .string(let url)? = s.record("http")?["url"] else { Issue.record("no http record"); return }
        #expect(url == "/index.html")
        // Line ends before the first bytes are skipped, not taken for the protocol's start.
        let t = Session(port: 443)
        t.client("\r\n")
        t.send(ProtocolUpgradeTests.hello("portal.example"), toServer: true)
        #expect(t.appProto == "tls")
    }
}

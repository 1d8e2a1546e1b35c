/// Labelled attacks, one per behaviour detector and signature family, each from its own
/// address so every expected alert and incident is attributable. The expected figures follow
/// the shipped Rules/ and Config/hnsensor.yaml (priority policy in the README).
extension Scenarios {
    static let mailServer = Host("10.20.2.25", mac: 0x25)
    static let ftpServer = Host("10.20.2.21", mac: 0x21)
    static let terminalServer = Host("10.20.2.33", mac: 0x33)
    static let telnetBox = Host("10.20.2.23", mac: 0x23)
    static let c2 = Host("203.0.113.66", mac: 0xC2)

    /// Base32 (RFC 4648, lower case, no padding): how DNS tunnels encode data in labels.
    static func base32(_ bytes: [UInt8]) -> String {
        let alphabet = Array("abcdefghijklmnopqrstuvwxyz234567")
        var out = "", buffer = 0, bits = 0
        for b in bytes {
            buffer = buffer << 8 | Int(b)
            bits += 8
            while bits >= 5 {
                out.append(alphabet[(buffer >> (bits - 5)) & 31])
                bits -= 5
            }
        }
        if bits > 0 { out.append(alphabet[(buffer << (5 - bits)) & 31]) }
        return out
    }

    /// A TLS client contacting `server` (SNI `sni`) and exchanging a little data.
    @discardableResult
    static func tlsSession(_ s: Scenario, _ client: Host, _ server: Host, sport: UInt16, sni: String, at t: Int64, label: String) -> Int64 {
        let c = s.tcp(client, server, sport: sport, dport: 443, at: t, appProto: "tls", label: label).handshake()
        c.tls(sni: sni, clientData: 300, serverData: 800)
        c.close()
        return c.time
    }

    /// Each behaviour detector and signature family once: scans, brute force, beaconing to a
    /// listed C2, DNS tunnelling, lateral movement, a night-time RDP session, clear-text logins
    /// and obsolete TLS.
    public static func attacks() -> Scenario {
        let s = Scenario(name: "attacks", summary: "One labelled attack per detector and signature family; expected alerts and incidents in the labels.", seed: 0x484E_0004)
        let base = Scenario.baseTime

        // Port scan of the reverse proxy: 30 closed ports in 1.5 s.
        let scanner = Host("198.51.100.50", mac: 0xA0)
        for (i, port) in (UInt16(1000)...1029).enumerated() {
            s.tcp(scanner, proxy, sport: 45_000 + UInt16(i), dport: port, at: base + Int64(i) * 50_000_000, rtt: 1_000_000, label: "attack:port-scan").refused()
        }
        s.expectAlert(9_200_010, scanner, proxy)
        s.expectIncident("hn-recon-scanner", "information-gathering", "scanner", "P3", sources: [scanner], targets: [proxy])

        // Host sweep of the laboratory on SMB: 25 hosts, no answer.
        let sweeper = Host("198.51.100.51", mac: 0xA1)
        for h in 1...25 {
            s.tcp(sweeper, Host("10.20.3.\(h)", mac: UInt8(h)), sport: 46_000 + UInt16(h), dport: 445, at: base + 10_000_000_000 + Int64(h) * 20_000_000,
                  label: "attack:host-sweep").unanswered()
        }
        let twentieth = Host("10.20.3.20", mac: 20)
        s.expectAlert(9_200_020, sweeper, twentieth)
        s.expectIncident("hn-recon-scanner", "information-gathering", "scanner", "P3", sources: [sweeper], targets: [twentieth])

        // SSH password guessing: 12 short sessions, 5 s apart, each through the key exchange
        // to three refused passwords (small encrypted packets), then the server's disconnect.
        let guesser = Host("198.51.100.52", mac: 0xA2)
        for i in 0..<12 {
            let c = s.tcp(guesser, sshHost, sport: 47_000 + UInt16(i), dport: 22, at: base + 20_000_000_000 + Int64(i) * 5_000_000_000,
                          appProto: "ssh", label: "attack:brute-force").handshake()
            c.sshThroughKeyExchange(client: "libssh_0.9.6", &s.random)
            for _ in 0..<3 {
                c.send(fromClient: true, s.random.bytes(96))
                c.send(fromClient: false, s.random.bytes(52))
            }
            c.reset(fromClient: true)
        }
        s.expectAlert(9_200_030, guesser, sshHost)
        s.expectIncident("hn-brute-force", "intrusion-attempts", "brute-force", "P3", sources: [guesser], targets: [sshHost])

        // FTP password guessing in one session: ten refused logins.
        let ftpGuesser = Host("198.51.100.53", mac: 0xA3)
        let ftp = s.tcp(ftpGuesser, ftpServer, sport: 48_021, dport: 21, at: base + 100_000_000_000, appProto: "ftp", label: "attack:brute-force").handshake()
        ftp.send(fromClient: false, Payloads.bytes("220 FTP ready\r\n"))
        for i in 0..<10 {
            ftp.send(fromClient: true, Payloads.bytes("USER admin\r\n"))
            ftp.send(fromClient: false, Payloads.bytes("331 Password required\r\n"))
            ftp.send(fromClient: true, Payloads.bytes("PASS guess\(i)\r\n"))
            ftp.send(fromClient: false, Payloads.bytes("530 Login incorrect\r\n"))
        }
        ftp.send(fromClient: true, Payloads.bytes("QUIT\r\n"))
        ftp.send(fromClient: false, Payloads.bytes("221 Goodbye\r\n"))
        ftp.close()
        s.expectAlert(9_200_030, ftpGuesser, ftpServer)
        s.expectAlert(9_200_090, ftpGuesser, ftpServer)
        s.expectAlert(9_101_004, ftpGuesser, ftpServer, count: 10)
        s.expectIncident("hn-brute-force", "intrusion-attempts", "brute-force", "P3", sources: [ftpGuesser], targets: [ftpServer])
        s.expectIncident("hn-cleartext-credentials", "vulnerable", "information-disclosure", "P4", sources: [ftpGuesser], targets: [ftpServer])

        // A hospital workstation resolves a listed C2 domain and calls it every minute.
        let infected = Host("10.20.1.66", mac: 0x66)
        let id: UInt16 = 0xC2C2
        s.udp(infected, resolver, sport: 49_053, dport: 53, at: base + 120_000_000_000,
              request: Payloads.dnsQuery(id: id, name: "c2.example.net"),
              response: Payloads.dnsResponse(id: id, name: "c2.example.net", addresses: [c2.ip]), appProto: "dns", label: "attack:c2")
        s.expectAlert(9_300_003, infected, resolver)  // the domain, in the query (and its answer: same flow)
        s.expectAlert(9_300_001, infected, resolver)  // the C2 address in the answer
        for i in 0..<8 {
            let jitter = Int64(s.random.next() % 2_000_000_000) - 1_000_000_000
            tlsSession(s, infected, c2, sport: 49_100 + UInt16(i), sni: "c2.example.net", at: base + 121_000_000_000 + Int64(i) * 60_000_000_000 + jitter,
                       label: "attack:c2")
        }
        s.expectAlert(9_300_001, infected, c2, count: 8)
        s.expectAlert(9_300_003, infected, c2, count: 8)
        s.expectAlert(9_200_040, infected, c2)
        s.expectIncident("hn-malware-c2", "malicious-code", "infected-system", "P1", sources: [infected], targets: [c2])
        s.expectIncident("hn-indicator", "other", "blacklist", "P1", sources: [infected], targets: [resolver, c2])

        // DNS tunnelling: 120 queries with encoded 48-character labels in one minute.
        let tunneller = Host("10.20.1.67", mac: 0x67)
        for i in 0..<120 {
            let name = base32(s.random.bytes(30)) + ".t.tunnel-example.org"
            s.udp(tunneller, resolver, sport: UInt16(50_000 + i), dport: 53, at: base + 700_000_000_000 + Int64(i) * 500_000_000,
                  request: Payloads.dnsQuery(id: UInt16(i), name: name, type: 16), response: nil, appProto: "dns", label: "attack:dns-tunnel")
        }
        s.expectAlert(9_200_050, tunneller, resolver)
        s.expectAlert(9_200_051, tunneller, resolver)
        s.expectIncident("hn-data-leak", "information-content-security", "data-leak", "P1", sources: [tunneller], targets: [resolver])

        // Lateral movement: a hospital host opens SMB on twelve laboratory hosts.
        let pivot = Host("10.20.1.68", mac: 0x68)
        for h in 0..<12 {
            s.tcp(pivot, Host("10.20.3.\(101 + h)", mac: UInt8(101 + h)), sport: 51_000 + UInt16(h), dport: 445,
                  at: base + 800_000_000_000 + Int64(h) * 1_000_000_000, label: "attack:lateral-movement").refused()
        }
        let tenth = Host("10.20.3.110", mac: 110)
        s.expectAlert(9_200_070, pivot, tenth)
        s.expectIncident("hn-lateral-movement", "intrusions", "system-compromise", "P1", sources: [pivot], targets: [tenth])

        // Clear-text logins: Telnet, HTTP Basic, POP3.
        let nurse = Host("10.20.1.70", mac: 0x70)
        let telnet = s.tcp(nurse, telnetBox, sport: 52_023, dport: 23, at: base + 900_000_000_000, label: "attack:cleartext").handshake()
        telnet.send(fromClient: false, Payloads.bytes("login: "))
        telnet.send(fromClient: true, Payloads.bytes("nurse\r\n"))
        telnet.send(fromClient: false, Payloads.bytes("Password: "))
        telnet.send(fromClient: true, Payloads.bytes("not-kept\r\n"))
        telnet.close()
        s.expectAlert(9_200_090, nurse, telnetBox)
        s.expectAlert(9_101_003, nurse, telnetBox)
        s.expectIncident("hn-cleartext-credentials", "vulnerable", "information-disclosure", "P4", sources: [nurse], targets: [telnetBox])
        s.expectIncident("hn-policy", "vulnerable", "vulnerable-system", "P4", sources: [nurse], targets: [telnetBox])
        let clerk = Host("10.20.1.71", mac: 0x71)
        let basic = s.tcp(clerk, web, sport: 52_080, dport: 80, at: base + 910_000_000_000, appProto: "http", label: "attack:cleartext").handshake()
        basic.send(fromClient: true, Payloads.httpRequest(uri: "/admin/", host: "portal.healthnet.lu", userAgent: ua,
                                                          extraHeaders: ["Authorization: Basic Y2xlcms6bm90LWtlcHQ="]))
        basic.send(fromClient: false, Payloads.httpResponse(body: Payloads.htmlPage("Admin", size: 500)))
        basic.close()
        s.expectAlert(9_200_090, clerk, web)
        s.expectIncident("hn-cleartext-credentials", "vulnerable", "information-disclosure", "P4", sources: [clerk], targets: [web])
        let reader = Host("10.20.1.72", mac: 0x72)
        let pop = s.tcp(reader, mailServer, sport: 52_110, dport: 110, at: base + 920_000_000_000, appProto: "pop3", label: "attack:cleartext").handshake()
        pop.send(fromClient: false, Payloads.bytes("+OK POP3 ready\r\n"))
        pop.send(fromClient: true, Payloads.bytes("USER anna\r\n"))
        pop.send(fromClient: false, Payloads.bytes("+OK\r\n"))
        pop.send(fromClient: true, Payloads.bytes("PASS not-kept\r\n"))
        pop.send(fromClient: false, Payloads.bytes("+OK 2 messages\r\n"))
        pop.close()
        s.expectAlert(9_200_090, reader, mailServer)
        s.expectIncident("hn-cleartext-credentials", "vulnerable", "information-disclosure", "P4", sources: [reader], targets: [mailServer])

        // Obsolete TLS: the proxy answers with TLS 1.0 and an EXPORT cipher suite.
        let legacy = Host("10.20.1.73", mac: 0x73)
        let weak = s.tcp(legacy, proxy, sport: 52_443, dport: 443, at: base + 1_000_000_000_000, appProto: "tls", label: "attack:weak-tls").handshake()
        weak.send(fromClient: true, Payloads.tlsClientHello(sni: "old.healthnet.lu", random: &s.random))
        weak.send(fromClient: false, Payloads.tlsLegacyServerHello(version: 0x0301, cipher: 0x0003, random: &s.random))
        weak.send(fromClient: true, Payloads.tlsApplicationData(200, random: &s.random))
        weak.close()
        s.expectAlert(9_200_100, legacy, proxy)
        s.expectAlert(9_200_101, legacy, proxy)
        s.expectIncident("hn-weak-crypto", "vulnerable", "weak-crypto", "P4", sources: [legacy], targets: [proxy])

        // Web attacks on the DMZ web server and pre-authentication exploits of VPN portals.
        let attacker = Host("198.51.100.60", mac: 0xB0)
        var tw = base + 1_100_000_000_000
        let requests: [(method: String, uri: String, body: String, sids: [UInt32])] = [
            ("GET", "/portal/search?q=%3Cscript%3Ealert(1)%3C/script%3E", "", [9_100_004]),
            ("GET", "/cgi-bin/ping?host=127.0.0.1;cat%20/etc/passwd", "", [9_100_005]),
            ("GET", "/uploads/c99.php?act=ls", "", [9_100_006]),
            ("POST", "/uploads/img.php", "z=@eval(base64_decode($_POST[z0]));&z0=ZWNobyAx", [9_100_007]),
            ("GET", "/remote/fgt_lang?lang=/../../../..//////////dev/cmdb/sslvpn_websession", "", [9_100_100, 9_100_001]),
            ("GET", "/api/v1/totp/user-backup-code/../../system/active-users", "", [9_100_103, 9_100_001]),
        ]
        for (i, r) in requests.enumerated() {
            let c = s.tcp(attacker, web, sport: 54_000 + UInt16(i), dport: 80, at: tw, appProto: "http", label: "attack:web-exploit").handshake()
            c.send(fromClient: true, Payloads.httpRequest(method: r.method, uri: r.uri, host: "portal.healthnet.lu", userAgent: ua, body: Payloads.bytes(r.body)))
            c.send(fromClient: false, Payloads.httpResponse(status: 404, reason: "Not Found", body: Payloads.bytes("not found")))
            c.close()
            for sid in r.sids { s.expectAlert(sid, attacker, web) }
            tw = c.time + 500_000_000
        }
        s.expectIncident("hn-web-exploit", "intrusion-attempts", "exploit", "P3", sources: [attacker], targets: [web])

        // Malware: an executable downloaded over HTTP, fetched over FTP, attached to a mail.
        let executable = Payloads.windowsExecutable(random: &s.random)
        let downloader = Host("10.20.1.74", mac: 0x74)
        let dropSite = Host("203.0.113.80", mac: 0xD0)
        let download = s.tcp(downloader, dropSite, sport: 55_080, dport: 80, at: base + 1_200_000_000_000, appProto: "http", label: "attack:malware").handshake()
        download.send(fromClient: true, Payloads.httpRequest(uri: "/invoice.exe", host: "dl.example.com", userAgent: ua))
        download.send(fromClient: false, Payloads.httpResponse(contentType: "application/octet-stream", body: executable))
        download.close()
        s.expectAlert(9_102_001, dropSite, downloader)
        s.expectIncident("hn-malware-transfer", "malicious-code", "malware-distribution", "P1", sources: [dropSite], targets: [downloader])

        let fetcher = Host("10.20.1.75", mac: 0x75)
        let files2 = Host("10.20.2.26", mac: 0x26)
        let control = s.tcp(fetcher, files2, sport: 55_021, dport: 21, at: base + 1_210_000_000_000, appProto: "ftp", label: "attack:malware").handshake()
        control.send(fromClient: false, Payloads.bytes("220 FTP ready\r\n"))
        control.send(fromClient: true, Payloads.bytes("USER anonymous\r\n"))
        control.send(fromClient: false, Payloads.bytes("331 Password required\r\n"))
        control.send(fromClient: true, Payloads.bytes("PASS guest\r\n"))
        control.send(fromClient: false, Payloads.bytes("230 Logged in\r\n"))
        control.send(fromClient: true, Payloads.bytes("PASV\r\n"))
        control.send(fromClient: false, Payloads.bytes("227 Entering Passive Mode (10,20,2,26,195,81).\r\n"))
        control.send(fromClient: true, Payloads.bytes("RETR tool.exe\r\n"))
        let data = s.tcp(fetcher, files2, sport: 55_022, dport: 50_001, at: control.time, appProto: "ftp-data", label: "attack:malware").handshake()
        data.send(fromClient: false, executable)
        data.close()
        control.time = data.time
        control.send(fromClient: false, Payloads.bytes("150 Opening data connection\r\n226 Transfer complete\r\n"))
        control.send(fromClient: true, Payloads.bytes("QUIT\r\n"))
        control.send(fromClient: false, Payloads.bytes("221 Goodbye\r\n"))
        control.close()
        s.expectAlert(9_102_002, files2, fetcher)
        s.expectAlert(9_101_004, fetcher, files2)
        s.expectAlert(9_200_090, fetcher, files2)
        s.expectIncident("hn-malware-transfer", "malicious-code", "malware-distribution", "P1", sources: [files2], targets: [fetcher])
        s.expectIncident("hn-cleartext-credentials", "vulnerable", "information-disclosure", "P4", sources: [fetcher], targets: [files2])

        let sender = Host("198.51.100.61", mac: 0xB1)
        let mail = s.tcp(sender, mailServer, sport: 55_025, dport: 25, at: base + 1_220_000_000_000, appProto: "smtp", label: "attack:malware").handshake()
        mail.send(fromClient: false, Payloads.bytes("220 mail.healthnet.lu ESMTP\r\n"))
        mail.send(fromClient: true, Payloads.bytes("EHLO sender.example.com\r\n"))
        mail.send(fromClient: false, Payloads.bytes("250 mail.healthnet.lu\r\n"))
        mail.send(fromClient: true, Payloads.bytes("MAIL FROM:<billing@example.com>\r\nRCPT TO:<accounts@healthnet.lu>\r\nDATA\r\n"))
        mail.send(fromClient: false, Payloads.bytes("250 OK\r\n250 OK\r\n354 Go ahead\r\n"))
        mail.send(fromClient: true, Payloads.bytes("Subject: invoice\r\nContent-Type: application/octet-stream; name=invoice.exe\r\nContent-Transfer-Encoding: base64\r\n\r\n")
                  + Payloads.bytes(Payloads.base64(executable)) + Payloads.bytes("\r\n.\r\nQUIT\r\n"))
        mail.send(fromClient: false, Payloads.bytes("250 Queued\r\n221 Bye\r\n"))
        mail.close()
        s.expectAlert(9_102_003, sender, mailServer)
        s.expectIncident("hn-malware-transfer", "malicious-code", "malware-distribution", "P3", sources: [sender], targets: [mailServer])

        // An ICMP echo flood of the web server: 2,000 requests in two seconds, never answered.
        let flooder = Host("198.51.100.70", mac: 0xB2)
        var flood = FlowLabel(client: flooder.address, clientPort: 0, server: web.address, serverPort: 0, proto: "ICMP")
        flood.label = "attack:flood"
        for i in 0..<2000 {
            let frame = s.ipFrame(flooder, web, proto: 1, Frames.icmpEcho(type: 8, id: 0x0F0F, seq: UInt16(i), payload: [UInt8](repeating: 0x41, count: 32)))
            s.emit(frame, at: base + 1_300_000_000_000 + Int64(i) * 1_000_000)
            flood.packetsToServer += 1
            flood.bytesToServer += frame.count
        }
        s.labels.append(flood)
        s.expectAlert(9_200_112, flooder, web)
        s.expectIncident("hn-dos", "availability", "dos", "P2", sources: [flooder], targets: [web])

        // Remote maintenance at 23:00 local time (22:00 UTC).
        let technician = Host("10.20.1.69", mac: 0x69)
        let rdp = s.tcp(technician, terminalServer, sport: 53_389, dport: 3389, at: base + 14 * 3_600_000_000_000, label: "attack:remote-maintenance").handshake()
        rdp.send(fromClient: true, s.random.bytes(300))
        rdp.send(fromClient: false, s.random.bytes(900))
        rdp.close()
        s.expectAlert(9_200_081, technician, terminalServer)
        s.expectIncident("hn-remote-maintenance", "vulnerable", "potentially-unwanted-accessible", "P4", sources: [technician], targets: [terminalServer])
        return s
    }
}

extension Payloads {
    /// The first bytes of a Windows PE file: MZ header, DOS stub with its message, then data.
    public static func windowsExecutable(random: inout SeededRandom) -> [UInt8] {
        var header = [UInt8](repeating: 0, count: 64)
        let start: [UInt8] = [0x4D, 0x5A, 0x90, 0x00, 0x03, 0x00, 0x00, 0x00, 0x04, 0x00, 0x00, 0x00, 0xFF, 0xFF, 0x00, 0x00, 0xB8]
        header.replaceSubrange(0..<start.count, with: start)
        header[0x3C] = 0x80
        let stub: [UInt8] = [0x0E, 0x1F, 0xBA, 0x0E, 0x00, 0xB4, 0x09, 0xCD, 0x21, 0xB8, 0x01, 0x4C, 0xCD, 0x21]
            + bytes("This program cannot be run in DOS mode.\r\r\n$")
        return header + stub + [UInt8](repeating: 0, count: 128 - 64 - stub.count - 0 > 0 ? 128 - 64 - stub.count : 0) + bytes("PE\0\0") + random.bytes(2000)
    }

    /// RFC 4648 base64 in 76-character lines, as mail attachments are written.
    public static func base64(_ data: [UInt8]) -> String {
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/")
        var out = "", line = 0
        var i = 0
        while i < data.count {
            let b0 = Int(data[i]), b1 = i + 1 < data.count ? Int(data[i + 1]) : 0, b2 = i + 2 < data.count ? Int(data[i + 2]) : 0
            out.append(alphabet[b0 >> 2])
            out.append(alphabet[(b0 & 3) << 4 | b1 >> 4])
            out.append(i + 1 < data.count ? alphabet[(b1 & 15) << 2 | b2 >> 6] : "=")
            out.append(i + 2 < data.count ? alphabet[b2 & 63] : "=")
            i += 3
            line += 4
            if line == 76 { out += "\r\n"; line = 0 }
        }
        return out
    }

    /// A TLS 1.2-or-older ServerHello (with the record version it names) and a
    /// ServerHelloDone: an old server picking an old protocol and cipher.
    public static func tlsLegacyServerHello(version: UInt16, cipher: UInt16, random: inout SeededRandom) -> [UInt8] {
        let hello: [UInt8] = Frames.be16(version) + random.bytes(32) + vector(1, random.bytes(32)) + Frames.be16(cipher) + [0]
        let body = [0x02] + vector(3, hello) + [0x0E, 0, 0, 0]
        return [0x16] + Frames.be16(version) + vector(2, body)
    }
}

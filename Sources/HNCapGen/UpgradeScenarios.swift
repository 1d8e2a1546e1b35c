/// Sessions that change protocol on the way: SMTP, FTP, IMAP and POP3 upgraded to TLS, and
/// HTTP CONNECT tunnels through the HealthNet web proxy. Each upgraded flow must end as `tls`
/// with its first protocol as `app_proto_orig`, and its TLS record (SNI, version) logged.
extension Scenarios {
    /// TLS after the upgrade: ClientHello with `sni`, the server's flight, a little data.
    static func tlsAfterUpgrade(_ c: TCPConversation, sni: String, version: String = "TLS 1.3", legacy: Bool = false) {
        c.tls(sni: sni, legacy: legacy, clientData: 400, serverData: 300)
        c.expect(#"{"event_type": "tls", "tls.sni": "\#(sni)", "tls.version": "\#(version)"}"#)
        c.close()
    }

    /// The hospital's mail server relaying to the DMZ MX: EHLO, STARTTLS accepted, then the
    /// ClientHello; no AUTH (relays do not log in). The caller sends the rest.
    static func relayWithSTARTTLS(_ s: Scenario, sport: UInt16, at t: Int64) -> TCPConversation {
        let c = s.tcp(mailRelay, mailServer, sport: sport, dport: 25, at: t, appProto: "smtp").handshake()
        c.alternate(serverFirst: true, [
            "220 mx.healthnet.lu ESMTP\r\n",
            "EHLO mail.chl.lu\r\n",
            "250-mx.healthnet.lu\r\n250-PIPELINING\r\n250 STARTTLS\r\n",
            "STARTTLS\r\n",
            "220 2.0.0 Ready to start TLS\r\n",
        ])
        return c.upgraded(from: "smtp", to: "tls")
    }

    public static func upgrades() -> Scenario {
        let s = Scenario(name: "upgrades", summary: "STARTTLS on SMTP, IMAP and POP3, FTP AUTH TLS, HTTP CONNECT tunnels through the web proxy; one refused STARTTLS and one refused CONNECT.", seed: 0x484E_0005)
        var t = Scenario.baseTime

        // The hospital's mail server relays to the DMZ MX with STARTTLS (no AUTH: relaying).
        let relay = relayWithSTARTTLS(s, sport: 40_025, at: t)
            .expect(#"{"event_type": "smtp", "smtp.helo": "mail.chl.lu", "smtp.starttls": true}"#)
        tlsAfterUpgrade(relay, sni: "mx.healthnet.lu")
        t = relay.time + 200_000_000

        // The same relay, STARTTLS refused: the message goes in clear, the flow stays SMTP.
        let plain = s.tcp(mailRelay, mailServer, sport: 40_026, dport: 25, at: t, appProto: "smtp").handshake()
        plain.alternate(serverFirst: true, [
            "220 mx.healthnet.lu ESMTP\r\n",
            "EHLO mail.chl.lu\r\n",
            "250-mx.healthnet.lu\r\n250 STARTTLS\r\n",
            "STARTTLS\r\n",
            "454 4.7.0 TLS not available\r\n",
            "MAIL FROM:<lab@chl.lu>\r\n",
            "250 OK\r\n",
            "RCPT TO:<results@lns.lu>\r\n",
            "250 OK\r\n",
            "DATA\r\n",
            "354 Go ahead\r\n",
            "Subject: results\r\n\r\nAttached.\r\n.\r\n",
            "250 Queued\r\n",
            "QUIT\r\n",
            "221 Bye\r\n",
        ])
        plain.expect(#"{"event_type": "smtp", "smtp.helo": "mail.chl.lu", "smtp.mail_from": "<lab@chl.lu>", "smtp.rcpt_to[0]": "<results@lns.lu>", "smtp.starttls": true}"#)
        plain.close()
        t = plain.time + 200_000_000

        // FTP with AUTH TLS (RFC 4217).
        let ftps = s.tcp(admin, ftpServer, sport: 40_021, dport: 21, at: t, appProto: "ftp").handshake()
        ftps.alternate(serverFirst: true, [
            "220 FTP ready\r\n",
            "AUTH TLS\r\n",
            "234 AUTH TLS OK\r\n",
        ])
        ftps.upgraded(from: "ftp", to: "tls")
            .expect(#"{"event_type": "ftp", "ftp.command": "AUTH", "ftp.command_data": "TLS", "ftp.completion_code[0]": "234"}"#)
        tlsAfterUpgrade(ftps, sni: "files.healthnet.lu")
        t = ftps.time + 200_000_000

        // IMAP STARTTLS; the mailbox server still answers with TLS 1.0 and an EXPORT cipher:
        // the weak-TLS detector applies to the upgraded session.
        let imap = s.tcp(workstation, mailbox, sport: 40_143, dport: 143, at: t, appProto: "imap", label: "policy:weak-tls").handshake()
        imap.alternate(serverFirst: true, [
            "* OK [CAPABILITY IMAP4rev1 STARTTLS LOGINDISABLED] ready\r\n",
            "a1 STARTTLS\r\n",
            "a1 OK Begin TLS negotiation now\r\n",
        ])
        imap.upgraded(from: "imap", to: "tls")
        tlsAfterUpgrade(imap, sni: "imap.healthnet.lu", version: "TLSv1", legacy: true)
        s.expectAlert(9_200_100, workstation, mailbox)
        s.expectAlert(9_200_101, workstation, mailbox)
        s.expectIncident("hn-weak-crypto", "vulnerable", "weak-crypto", "P4", sources: [workstation], targets: [mailbox])
        t = imap.time + 200_000_000

        // POP3 STLS (RFC 2595).
        let reader = Host("10.20.1.16", mac: 0x17)
        let pop = s.tcp(reader, mailbox, sport: 40_110, dport: 110, at: t, appProto: "pop3").handshake()
        pop.alternate(serverFirst: true, [
            "+OK POP3 ready\r\n",
            "CAPA\r\n",
            "+OK Capability list follows\r\nSTLS\r\nUSER\r\n.\r\n",
            "STLS\r\n",
            "+OK Begin TLS negotiation\r\n",
        ])
        pop.upgraded(from: "pop3", to: "tls")
        tlsAfterUpgrade(pop, sni: "pop.healthnet.lu")
        t = pop.time + 200_000_000

        // A browser reaches an update server through the web proxy: CONNECT, then TLS.
        let browser = Host("10.20.1.17", mac: 0x18)
        let tunnel = s.tcp(browser, webProxy, sport: 40_128, dport: 3128, at: t, appProto: "http").handshake()
        tunnel.send(fromClient: true, Payloads.bytes("CONNECT updates.example.com:443 HTTP/1.1\r\nHost: updates.example.com:443\r\nUser-Agent: \(ua)\r\n\r\n"))
        tunnel.send(fromClient: false, Payloads.bytes("HTTP/1.1 200 Connection established\r\n\r\n"))
        tunnel.upgraded(from: "http", to: "tls")
            .expect(#"{"event_type": "http", "http.http_method": "CONNECT", "http.url": "updates.example.com:443", "http.status": 200}"#)
        tlsAfterUpgrade(tunnel, sni: "updates.example.com")
        t = tunnel.time + 200_000_000

        // A CONNECT the proxy refuses: the flow stays HTTP.
        let refused = s.tcp(browser, webProxy, sport: 40_129, dport: 3128, at: t, appProto: "http").handshake()
        refused.send(fromClient: true, Payloads.bytes("CONNECT 198.51.100.80:8443 HTTP/1.1\r\nHost: 198.51.100.80:8443\r\n\r\n"))
        refused.send(fromClient: false, Payloads.bytes("HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n"))
        refused.expect(#"{"event_type": "http", "http.http_method": "CONNECT", "http.url": "198.51.100.80:8443", "http.status": 403}"#)
        refused.close()
        t = refused.time + 200_000_000

        // A workstation tunnels to a listed C2 domain through the proxy: the indicator is
        // found in the CONNECT request and in the SNI inside the tunnel.
        let infected = Host("10.20.1.66", mac: 0x66)
        let c2Tunnel = s.tcp(infected, webProxy, sport: 40_130, dport: 3128, at: t, appProto: "http", label: "attack:c2").handshake()
        c2Tunnel.send(fromClient: true, Payloads.bytes("CONNECT c2.example.net:443 HTTP/1.1\r\nHost: c2.example.net:443\r\n\r\n"))
        c2Tunnel.send(fromClient: false, Payloads.bytes("HTTP/1.1 200 Connection established\r\n\r\n"))
        c2Tunnel.upgraded(from: "http", to: "tls")
            .expect(#"{"event_type": "http", "http.http_method": "CONNECT", "http.url": "c2.example.net:443", "http.status": 200}"#)
        tlsAfterUpgrade(c2Tunnel, sni: "c2.example.net")
        s.expectAlert(9_300_003, infected, webProxy)
        s.expectIncident("hn-indicator", "other", "blacklist", "P1", sources: [infected], targets: [webProxy])
        return s
    }
}

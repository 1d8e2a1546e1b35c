/// Twenty minutes of an ordinary HealthNet morning with about 440 hosts and nothing wrong in
/// it: what the behaviour detectors must stay quiet on. Hospital, laboratory and pharmacy
/// workstations resolve names through their resolvers and browse (intranet HTTP, TLS inside
/// and outside HealthNet), the hospital resolver recurses to the internet, the hospital mail
/// server relays to the DMZ MX every half minute with STARTTLS and no AUTH, workstations map
/// the file server over SMB, servers keep time with NTP, administrators work over SSH, the
/// laboratory analysers upload results every 60 s, and the IT provider's monitoring station
/// (across its LAN-to-LAN link) polls the DMZ servers every 60 s with SNMP and HTTPS.
extension Scenarios {
    public static func benignDay() -> Scenario {
        let s = Scenario(name: "benign-day", summary: "A benign 20-minute morning, about 440 hosts: DNS, TLS and intranet browsing, mail relaying with STARTTLS, SMB, NTP, admin SSH, lab-result uploads and IT-provider monitoring every 60 s; no attack.", seed: 0x484E_0006)
        let start = Scenario.baseTime
        let minute: Int64 = 60_000_000_000
        let length = 20 * minute
        let hospitalResolver = Host("10.20.1.53", mac: 0x35)
        let labResolver = Host("10.20.3.53", mac: 0x36)
        let upstream = Host("198.51.100.53", mac: 0xD3)
        let fileServer = Host("10.20.0.45", mac: 0x2D)
        let ntp = Host("10.20.0.123", mac: 0x7B)
        let results = Host("10.20.2.90", mac: 0x5A)
        let monitor = Host("192.0.2.10", mac: 0xE0)  // the IT provider's LAN, beyond the LAN-to-LAN link
        let internet = (0..<24).map { Host("198.51.100.\(100 + $0)", mac: UInt8(0x90 + $0)) }
        let sites = ["www.public.lu", "sante.public.lu", "cns.lu", "news.example.com", "docs.example.org", "cdn.example.net",
                     "maps.example.com", "mail.example.org", "pubmed.example.gov", "weather.example.com", "wiki.example.org", "shop.example.com"]
        var hosts: [(Host, Host)] = []  // (workstation, its resolver)
        for i in 0..<200 { hosts.append((Host("10.20.1.\(20 + i)", mac: UInt8(truncatingIfNeeded: 0x40 + i)), hospitalResolver)) }
        for i in 0..<150 { hosts.append((Host("10.20.3.\(60 + i)", mac: UInt8(truncatingIfNeeded: 0x50 + i)), labResolver)) }
        for i in 0..<70 { hosts.append((Host("10.20.4.\(20 + i)", mac: UInt8(truncatingIfNeeded: 0x60 + i)), resolver)) }
        var port: UInt16 = 20_000
        func nextPort() -> UInt16 { port = port == 60_999 ? 20_000 : port + 1; return port }
        func at(_ offset: Int64) -> Int64 { start + offset }
        func jitter(_ range: Int64) -> Int64 { Int64(s.random.below(Int(range))) }

        // Workstations: a lookup and a visit or two each, spread over the twenty minutes.
        for (k, (ws, dns)) in hosts.enumerated() {
            var t = at(jitter(length - 2 * minute))
            let site = sites[k % sites.count]
            let id = UInt16(truncatingIfNeeded: s.random.next())
            let server = internet[k % internet.count]
            t = s.udp(ws, dns, sport: nextPort(), dport: 53, at: t, request: Payloads.dnsQuery(id: id, name: site),
                      response: Payloads.dnsResponse(id: id, name: site, addresses: [server.ip]), appProto: "dns")
            if dns.address == hospitalResolver.address && k % 4 == 0 {
                // A cache miss: the hospital resolver asks upstream.
                let rid = UInt16(truncatingIfNeeded: s.random.next())
                s.udp(hospitalResolver, upstream, sport: nextPort(), dport: 53, at: t - 600_000,
                      request: Payloads.dnsQuery(id: rid, name: site), response: Payloads.dnsResponse(id: rid, name: site, addresses: [server.ip]),
                      appProto: "dns")
            }
            let tls = s.tcp(ws, server, sport: nextPort(), dport: 443, at: t + 2_000_000, rtt: 12_000_000, appProto: "tls").handshake()
            tls.tls(sni: site, clientData: 200 + s.random.below(400), serverData: 1000 + s.random.below(3000))
            tls.close()
            if k % 3 == 0 {
                let http = s.tcp(ws, web, sport: nextPort(), dport: 80, at: tls.time + jitter(20_000_000_000), appProto: "http").handshake()
                http.send(fromClient: true, Payloads.httpRequest(uri: "/intranet/planning.html", host: "portal.healthnet.lu", userAgent: ua))
                http.send(fromClient: false, Payloads.httpResponse(body: Payloads.htmlPage("Planning", size: 800 + s.random.below(1500))))
                http.close()
            }
            if k % 8 == 0 {
                // Mapping the department share: SMB2 negotiate and a little traffic.
                let smb = s.tcp(ws, fileServer, sport: nextPort(), dport: 445, at: tls.time + jitter(30_000_000_000), appProto: "smb").handshake()
                smb.send(fromClient: true, Payloads.smb2Negotiate())
                smb.send(fromClient: false, Payloads.netbiosFrame(300, random: &s.random))
                smb.send(fromClient: true, Payloads.netbiosFrame(200, random: &s.random))
                smb.send(fromClient: false, Payloads.netbiosFrame(1200, random: &s.random))
                smb.close()
            }
        }

        // The hospital mail server relays to the DMZ MX every 30 s: STARTTLS, no AUTH.
        for i in 0..<40 {
            let c = relayWithSTARTTLS(s, sport: nextPort(), at: at(Int64(i) * 30_000_000_000 + jitter(3_000_000_000)))
            c.tls(sni: "mx.healthnet.lu", clientData: 1500 + s.random.below(6000), serverData: 120)
            c.close()
        }

        // Laboratory analysers upload results to the HealthNet results service every 60 s.
        for a in 0..<3 {
            let analyser = Host("10.20.3.\(10 + a)", mac: UInt8(0x0A + a))
            for i in 0..<20 {
                let c = s.tcp(analyser, results, sport: nextPort(), dport: 443, at: at(Int64(i) * minute + Int64(a) * 7_000_000_000 + jitter(400_000_000)),
                              appProto: "tls").handshake()
                c.tls(sni: "results.healthnet.lu", clientData: 2000 + s.random.below(2000), serverData: 200)
                c.close()
            }
        }

        // The IT provider's monitoring polls the DMZ servers every 60 s: SNMP and an HTTPS check.
        let watched = [web, proxy, sshHost, mailServer, results, fileServer, ftpServer, mailbox,
                       Host("10.20.2.53", mac: 0x37), Host("10.20.2.60", mac: 0x3C), Host("10.20.2.61", mac: 0x3D), Host("10.20.2.62", mac: 0x3E)]
        for i in 0..<20 {
            for (h, host) in watched.enumerated() {
                let t = at(Int64(i) * minute + Int64(h) * 1_500_000_000 + jitter(100_000_000))
                s.udp(monitor, host, sport: nextPort(), dport: 161, at: t, request: Payloads.snmpGet(community: "monitoring", random: &s.random),
                      response: Payloads.snmpGet(community: "monitoring", random: &s.random))
                if h < 4 {
                    let c = s.tcp(monitor, host, sport: nextPort(), dport: 443, at: t + 200_000_000, rtt: 6_000_000, appProto: "tls").handshake()
                    c.tls(sni: "status.healthnet.lu", clientData: 150, serverData: 400)
                    c.close()
                }
            }
        }

        // Servers keep time (chrony: a new source port for each request).
        for (k, server) in [web, proxy, mailServer, results, fileServer].enumerated() {
            for i in 0..<18 {
                let t = at(Int64(i) * 64_000_000_000 + Int64(k) * 900_000_000)
                s.udp(server, ntp, sport: nextPort(), dport: 123, at: t, request: Payloads.ntpPacket(mode: 3, random: &s.random),
                      response: Payloads.ntpPacket(mode: 4, random: &s.random))
            }
        }

        // Administrators work over SSH on three servers, minutes at a time.
        for (k, server) in [sshHost, web, mailServer].enumerated() {
            let c = s.tcp(admin, server, sport: nextPort(), dport: 22, at: at(Int64(k) * 5 * minute + minute), appProto: "ssh").handshake()
            c.sshThroughKeyExchange(client: "OpenSSH_9.6", &s.random)
            for _ in 0..<30 {
                c.time += 3_000_000_000
                c.send(fromClient: true, s.random.bytes(64))
                c.send(fromClient: false, s.random.bytes(200 + s.random.below(1200)))
            }
            c.close()
        }
        return s
    }
}

extension Payloads {
    /// An SMB2 NEGOTIATE request for dialects 2.0.2, 3.1.1 in its NetBIOS session frame.
    public static func smb2Negotiate() -> [UInt8] {
        var header = [UInt8](repeating: 0, count: 64)
        header[0] = 0xFE; header[1] = 0x53; header[2] = 0x4D; header[3] = 0x42; header[4] = 64
        var negotiate = [UInt8](repeating: 0, count: 36)
        negotiate[0] = 36; negotiate[2] = 2
        let request = header + negotiate + [0x02, 0x02, 0x11, 0x03]
        return [0, 0, UInt8(request.count >> 8), UInt8(request.count & 0xFF)] + request
    }

    /// A NetBIOS session frame of `n` opaque bytes (signed SMB3 traffic, as seen from outside).
    public static func netbiosFrame(_ n: Int, random: inout SeededRandom) -> [UInt8] {
        [0, 0, UInt8(n >> 8), UInt8(n & 0xFF)] + random.bytes(n)
    }

    /// An SNMPv2c get-request for sysUpTime (BER: SEQUENCE { version 1, community, PDU }).
    public static func snmpGet(community: String, random: inout SeededRandom) -> [UInt8] {
        let oid: [UInt8] = [0x06, 0x08, 0x2B, 0x06, 0x01, 0x02, 0x01, 0x01, 0x03, 0x00]
        let binding: [UInt8] = [0x30, UInt8(oid.count + 2)] + oid + [0x05, 0x00]
        let list: [UInt8] = [0x30, UInt8(binding.count)] + binding
        let requestID = random.bytes(4)
        let pdu: [UInt8] = [0x02, 0x04] + requestID + [0x02, 0x01, 0x00, 0x02, 0x01, 0x00] + list
        let body: [UInt8] = [0x02, 0x01, 0x01, 0x04, UInt8(community.utf8.count)] + Array(community.utf8) + [0xA0, UInt8(pdu.count)] + pdu
        return [0x30, UInt8(body.count)] + body
    }

    /// An NTPv4 packet (RFC 5905): mode 3 client, 4 server.
    public static func ntpPacket(mode: UInt8, random: inout SeededRandom) -> [UInt8] {
        [0x20 | mode, mode == 4 ? 2 : 0, 6, 0xEC] + [UInt8](repeating: 0, count: 8) + (mode == 4 ? Array("GPS\0".utf8) : [0, 0, 0, 0]) + random.bytes(32)
    }
}

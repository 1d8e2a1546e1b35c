/// The labelled scenarios written into Captures/. Each is a function of a fixed seed and the
/// fixed base time, so `hncapgen` regenerates byte-identical files.
public enum Scenarios {
    public static let all: [String: @Sendable () -> Scenario] = [
        "benign-small": benignSmall,
        "demo": demo,
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
        let s = Scenario(name: "demo", summary: "Demo: benign member traffic and a TCP port scan of the DMZ web server.", seed: 0x484E_0002)
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
        return s
    }

    static func addBrowsing(_ s: Scenario, client: Host, sport: UInt16, at t: inout Int64) {
        let id = UInt16(truncatingIfNeeded: s.random.next())
        t = s.udp(client, resolver, sport: sport &+ 1, dport: 53, at: t,
                  request: Payloads.dnsQuery(id: id, name: "portal.healthnet.lu"),
                  response: Payloads.dnsResponse(id: id, name: "portal.healthnet.lu", addresses: [proxy.ip, web.ip]),
                  appProto: "dns")
        t += 5_000_000
        let http = s.tcp(client, web, sport: sport &+ 2, dport: 80, at: t, appProto: "http").handshake()
        http.send(fromClient: true, Payloads.httpRequest(uri: "/intranet/index.html", host: "portal.healthnet.lu", userAgent: ua))
        http.send(fromClient: false, Payloads.httpResponse(body: Payloads.htmlPage("Portal", size: 3000)))
        http.close()
        t = http.time + 50_000_000
        let tls = s.tcp(client, proxy, sport: sport &+ 3, dport: 443, at: t, appProto: "tls").handshake()
        tls.send(fromClient: true, Payloads.tlsClientHello(sni: "portal.healthnet.lu", random: &s.random))
        tls.send(fromClient: false, Payloads.tlsServerFlight(random: &s.random))
        tls.send(fromClient: true, Payloads.tlsApplicationData(600, random: &s.random))
        tls.send(fromClient: false, Payloads.tlsApplicationData(5000, random: &s.random))
        tls.close()
        t = tls.time + 100_000_000
    }

    static func addSSHSession(_ s: Scenario, client: Host, sport: UInt16, at t: inout Int64) {
        let ssh = s.tcp(client, sshHost, sport: sport, dport: 22, at: t, appProto: "ssh").handshake()
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

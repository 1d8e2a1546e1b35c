/// An ordinary enterprise mix, for the per-protocol costs the bench capture under-weights:
/// per 80 flows, 31 HTTP (ports 80 and 8080; one request in five a POST with a 2-20 KB body;
/// response bodies mostly 1-20 KB, one in 32 100-600 KB, one in 256 1-3 MB), 14 TLS on 443
/// (a ClientHello with one of a few names, 1-40 KB of application data), 2 SSH, 30 DNS over
/// UDP and 3 ICMP echo. 640 flows per 10 s of packet time; about 20,000 flows in 336 MB.
public enum MixCapture {
    static let names = ["portal.healthnet.lu", "records.healthnet.lu", "lab.healthnet.lu", "mail.healthnet.lu",
                        "updates.vendor.example", "cdn.example.net", "bad.example.org", "api.example.com"]
    static let uris = ["/index.html", "/api/v1/patients/search", "/static/app.js", "/images/logo.png", "/login",
                       "/reports/monthly.pdf", "/wp-admin/admin-ajax.php", "/cgi-bin/status", "/download/update.exe",
                       "/api/v1/results"]
    static let agents = ["Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0 Safari/537.36",
                         "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0", "curl/7.88.1",
                         "python-requests/2.31.0", "Microsoft-CryptoAPI/10.0"]
    static let types = ["text/html", "application/json", "application/pdf", "image/png", "application/octet-stream"]

    public static func write(targetBytes: Int, seed: UInt64 = 0x31_7E, sink: ([UInt8]) -> Void) -> (packets: Int, flows: Int) {
        BatchedCapture.write(targetBytes: targetBytes, seed: seed, sink: sink) { s, batch, t in
            let servers = (0..<16).map { Host("10.20.\(2 + $0 / 8).\(100 + $0)", mac: UInt8(0xA0 + $0)) }
            for i in 0..<640 {
                let n = batch * 640 + i
                let client = Host("10.\(60 + n % 8).\((n / 8) % 250 + 1).\(n % 200 + 10)", mac: UInt8(n & 0xFF))
                // Spread over 9 s: a batch's flows end before the next batch's start.
                var start = t + Int64(i) * 14_000_000
                let sport = UInt16(1024 + (n * 3) % 60_000)
                let server = servers[s.random.below(servers.count)]
                switch n % 80 {
                case 0..<31:
                    let port: UInt16 = server.address.hasSuffix("0") || server.address.hasSuffix("2") ? 8080 : 80
                    let http = s.tcp(client, server, sport: sport, dport: port, at: start, appProto: "http").handshake()
                    let uri = uris[s.random.below(uris.count)] + (s.random.below(3) == 0 ? "?id=\(s.random.below(100_000))" : "")
                    let host = names[s.random.below(names.count)]
                    let post = s.random.below(5) == 0
                    http.send(fromClient: true, Payloads.httpRequest(method: post ? "POST" : "GET", uri: uri, host: host,
                                                                     userAgent: agents[s.random.below(agents.count)],
                                                                     body: post ? s.random.bytes(2_000 + s.random.below(18_000)) : []))
                    let draw = s.random.below(256)
                    let size = draw == 0 ? 1_000_000 + s.random.below(2_000_000) : draw < 8 ? 100_000 + s.random.below(500_000)
                        : 1_000 + s.random.below(19_000)
                    http.send(fromClient: false, Payloads.httpResponse(contentType: types[s.random.below(types.count)], body: s.random.bytes(size)))
                    http.close()
                case 31..<45:
                    let tls = s.tcp(client, Scenarios.proxy, sport: sport, dport: 443, at: start, appProto: "tls").handshake()
                    tls.tls(sni: names[s.random.below(names.count)], clientData: 500 + s.random.below(2_000),
                            serverData: 1_000 + s.random.below(39_000))
                    tls.close()
                case 45..<47:
                    Scenarios.addSSHSession(s, client: client, sport: sport, at: &start)
                case 47..<77:
                    let id = UInt16(truncatingIfNeeded: s.random.next())
                    let name = names[s.random.below(names.count)]
                    s.udp(client, Scenarios.resolver, sport: sport, dport: 53, at: start, request: Payloads.dnsQuery(id: id, name: name),
                          response: Payloads.dnsResponse(id: id, name: name, addresses: [server.ip]), appProto: "dns")
                default:
                    s.ping(client, Scenarios.gateway, at: start, count: 1)
                }
            }
        }
    }
}

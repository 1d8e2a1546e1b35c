import Foundation
import HNCapGen

/// Writes the seed corpora (`hnfuzz seeds DIR`): frames and sessions from the project's
/// capture generator, and the repository's rules, configuration and indicator files.
enum Seeds {
    static func write(to root: String, repository: String) throws {
        func put(_ target: String, _ name: String, _ bytes: [UInt8]) throws {
            let dir = root + "/" + target
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            try Data(bytes).write(to: URL(fileURLWithPath: dir + "/" + name))
        }
        func records(_ chunks: [(Bool, [UInt8])]) -> [UInt8] {
            var out: [UInt8] = []
            for (toServer, bytes) in chunks {
                var i = 0
                repeat {
                    let piece = Array(bytes[i..<min(i + 255, bytes.count)])
                    out += [toServer ? 0 : 1, UInt8(piece.count)] + piece
                    i += 255
                } while i < bytes.count
            }
            return out
        }
        // Frames of every scenario, Ethernet link type.
        for (name, make) in Scenarios.all.sorted(by: { $0.key < $1.key }) {
            let frames = make().frameList
            for (i, f) in frames.enumerated() where i % max(1, frames.count / 12) == 0 {
                try put("decode", "\(name)-\(i)", [0] + f)
            }
        }
        // Shard keys: every scenario frame behind Ethernet (link type index 0).
        for (name, make) in Scenarios.all.sorted(by: { $0.key < $1.key }) {
            let frames = make().frameList
            for (i, f) in frames.enumerated() where i % max(1, frames.count / 4) == 0 { try put("shard", "\(name)-\(i)", [0] + f) }
        }
        // Fragments: a UDP datagram cut in three.
        let a = Frames.ipv4("198.51.100.9"), b = Frames.ipv4("10.20.2.53")
        let udp = Frames.udp(src: a, dst: b, sport: 4000, dport: 53, payload: Payloads.dnsQuery(id: 1, name: String(repeating: "x", count: 40) + ".example.org"))
        var defrag: [UInt8] = []
        for (offset, more) in [(0, true), (16, true), (32, false)] {
            let end = more ? offset + 16 : udp.count
            var ip = Frames.ipv4Header(src: a, dst: b, proto: 17, id: 77, ttl: 64, payloadLength: end - offset)
            let word = UInt16(offset / 8) | (more ? 0x2000 : 0)
            ip[6] = UInt8(word >> 8); ip[7] = UInt8(word & 0xFF)
            let frame = Frames.ethernet(src: [2, 0, 0, 0, 0, 1], dst: [2, 0, 0, 0, 0, 2], type: 0x0800, ip + Array(udp[offset..<end]))
            defrag += [UInt8(frame.count >> 8), UInt8(frame.count & 0xFF)] + frame
        }
        try put("defrag", "udp-three-fragments", defrag)
        // A stream: handshake, an HTTP request in two segments, the response, out of order.
        let request = Payloads.httpRequest(uri: "/portal/index.html", host: "portal.healthnet.lu", userAgent: "Mozilla/5.0")
        let response = Payloads.httpResponse(body: Payloads.bytes("<html>ok</html>"))
        func seg(_ toServer: Bool, _ flags: UInt8, _ seq: Int, _ ack: Int, _ payload: [UInt8]) -> [UInt8] {
            [(toServer ? 0 : 0x80) | flags, UInt8(seq >> 8 & 255), UInt8(seq & 255), UInt8(ack >> 8 & 255), UInt8(ack & 255), UInt8(payload.count)] + payload
        }
        let half = request.count / 2
        var stream = seg(true, 0x02, 99, 0, []) + seg(false, 0x12, 999, 100, []) + seg(true, 0x10, 100, 1000, [])
        stream += seg(true, 0x18, 100 + half, 1000, Array(request[half...])) + seg(true, 0x18, 100, 1000, Array(request[..<half]))
        stream += seg(false, 0x18, 1000, 100 + request.count, response) + seg(true, 0x11, 100 + request.count, 1000 + response.count, [])
        try put("stream", "http-out-of-order", stream)
        // Application sessions.
        var random = SeededRandom(seed: 5)
        try put("app-http", "get", records([(true, request), (false, response)]))
        try put("app-http", "chunked-post", records([(true, Payloads.bytes("POST /up HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n")),
                                                      (false, Payloads.bytes("HTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n"))]))
        try put("app-dns", "query-answer", records([(true, Payloads.dnsQuery(id: 9, name: "portal.healthnet.lu")),
                                                     (false, Payloads.dnsResponse(id: 9, name: "portal.healthnet.lu", addresses: [b]))]))
        try put("app-tls", "hello", records([(true, Payloads.tlsClientHello(sni: "portal.healthnet.lu", random: &random)),
                                              (false, Payloads.tlsServerFlight(random: &random))]))
        try put("app-tls", "legacy", records([(true, Payloads.tlsClientHello(sni: "old.healthnet.lu", random: &random)),
                                               (false, Payloads.tlsLegacyServerHello(version: 0x0301, cipher: 0x0003, random: &random))]))
        try put("app-ssh", "banners", records([(false, Payloads.sshBanner("OpenSSH_9.2p1")), (true, Payloads.sshBanner("OpenSSH_9.6")),
                                                (true, Payloads.sshKexInit(random: &random, server: false))]))
        try put("app-smtp", "auth", records([(false, Payloads.bytes("220 mail ESMTP\r\n")), (true, Payloads.bytes("EHLO ws\r\n")),
                                              (false, Payloads.bytes("250-mail\r\n250 AUTH PLAIN\r\n")), (true, Payloads.bytes("AUTH PLAIN AGEAYg==\r\nMAIL FROM:<a@b>\r\nRCPT TO:<c@d>\r\nDATA\r\n")),
                                              (false, Payloads.bytes("235 ok\r\n250 ok\r\n250 ok\r\n354 go\r\n")), (true, Payloads.bytes("Subject: x\r\n\r\nhi\r\n.\r\nQUIT\r\n"))]))
        try put("app-ftp", "login-pasv", records([(false, Payloads.bytes("220 ready\r\n")), (true, Payloads.bytes("USER a\r\n")), (false, Payloads.bytes("331 pass\r\n")),
                                                   (true, Payloads.bytes("PASS b\r\n")), (false, Payloads.bytes("530 no\r\n")), (true, Payloads.bytes("PASV\r\n")),
                                                   (false, Payloads.bytes("227 Entering Passive Mode (10,20,2,21,195,80).\r\n")), (true, Payloads.bytes("EPRT |1|10.0.0.1|5282|\r\n"))]))
        let cookie = Payloads.bytes("Cookie: mstshash=admin\r\n")
        let cr: [UInt8] = [UInt8(6 + cookie.count + 8), 0xE0, 0, 0, 0, 0, 0] + cookie + [0x01, 0x00, 0x08, 0x00, 0x03, 0x00, 0x00, 0x00]
        try put("app-rdp", "connection-request", records([(true, [3, 0, 0, UInt8(4 + cr.count)] + cr)]))
        try put("app-smb", "negotiate", records([(true, Payloads.smb2Negotiate())]))
        // Upgrades: STARTTLS, AUTH TLS, STLS and CONNECT, each followed by a ClientHello.
        let hello = Payloads.tlsClientHello(sni: "mx.healthnet.lu", random: &random)
        try put("app-smtp", "starttls", records([(false, Payloads.bytes("220 mx ESMTP\r\n")), (true, Payloads.bytes("EHLO a\r\nSTARTTLS\r\n")),
                                                  (false, Payloads.bytes("220 go\r\n")), (true, hello)]))
        try put("app-ftp", "auth-tls", records([(false, Payloads.bytes("220 ready\r\n")), (true, Payloads.bytes("AUTH TLS\r\n")),
                                                 (false, Payloads.bytes("234 ok\r\n")), (true, hello)]))
        try put("app-imap", "login-starttls", records([(false, Payloads.bytes("* OK ready\r\n")), (true, Payloads.bytes("a1 LOGIN u {3}\r\n")),
                                                        (true, Payloads.bytes("abc\r\n")), (false, Payloads.bytes("a1 NO bad\r\n")),
                                                        (true, Payloads.bytes("a2 STARTTLS\r\n")), (false, Payloads.bytes("a2 OK go\r\n")), (true, hello)]))
        try put("app-pop3", "pass-stls", records([(false, Payloads.bytes("+OK ready\r\n")), (true, Payloads.bytes("USER a\r\nPASS b\r\n")),
                                                   (false, Payloads.bytes("+OK\r\n-ERR no\r\n")), (true, Payloads.bytes("CAPA\r\n")),
                                                   (false, Payloads.bytes("+OK\r\nSTLS\r\n.\r\n")), (true, Payloads.bytes("STLS\r\n")),
                                                   (false, Payloads.bytes("+OK go\r\n")), (true, hello)]))
        try put("app-proxy", "connect", records([(true, Payloads.bytes("CONNECT a.example:443 HTTP/1.1\r\nHost: a.example:443\r\n\r\n")),
                                                  (false, Payloads.bytes("HTTP/1.1 200 Connection established\r\n\r\n")), (true, hello)]))
        // Text formats from the repository.
        func file(_ path: String) -> [UInt8] { (FileManager.default.contents(atPath: repository + "/" + path)).map { [UInt8]($0) } ?? [] }
        var ruleIndex = 0
        for f in ["Rules/signatures/healthnet-web.rules", "Rules/signatures/healthnet-policy.rules", "Rules/signatures/healthnet-malware.rules"] {
            for line in String(decoding: file(f), as: UTF8.self).split(separator: "\n") where line.hasPrefix("alert") {
                try put("rules", "rule-\(ruleIndex)", Array(line.utf8))
                ruleIndex += 1
            }
        }
        try put("config", "hnsensor.yaml", file("Config/hnsensor.yaml"))
        try put("anomaly-config", "healthnet.yaml", file("Rules/anomalies/healthnet.yaml"))
        try put("correlation-rules", "healthnet.yaml", file("Rules/correlation/healthnet.yaml"))
        try put("intel-zeek", "example.intel", file("Rules/indicators/healthnet-example.intel"))
        try put("intel-misp-csv", "export.csv", Array("uuid,event_id,category,type,value,comment,to_ids,date\n1,2,Network activity,ip-dst,198.51.100.9,\"a, b\",1,0\n3,2,Network activity,domain|ip,c2.example.net|198.51.100.10,,1,0\n".utf8))
        try put("intel-json", "misp-event.json", Array(#"{"Event": {"info": "x", "Attribute": [{"type": "url", "value": "http://a.example/b", "to_ids": true}], "Object": [{"Attribute": [{"type": "ja3-fingerprint-md5", "value": "e7d705a3286e19ea42f587b344ee6865"}]}]}}"#.utf8))
        try put("intel-json", "stix-bundle.json", Array(#"{"type": "bundle", "objects": [{"type": "indicator", "id": "indicator--1", "pattern_type": "stix", "pattern": "[ipv4-addr:value = '198.51.100.7' OR domain-name:value = 'c2.example.org']"}]}"#.utf8))
        try put("intel-list", "blocklist.txt", Array("# list\n198.51.100.5\n203.0.113.0/25\nc2.example.com\nhttp://drop.example.com/a.exe\nmal@example.com\n".utf8))
    }
}

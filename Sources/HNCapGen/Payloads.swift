/// Application messages the generator puts on the wire: structurally valid DNS, HTTP/1.1,
/// TLS 1.3 handshake records and SSH banners, so the parsers see what real stacks send.
public enum Payloads {
    public static func bytes(_ s: String) -> [UInt8] { Array(s.utf8) }

    // MARK: DNS (RFC 1035)

    static func dnsName(_ name: String) -> [UInt8] {
        var out: [UInt8] = []
        for label in name.split(separator: ".") {
            out.append(UInt8(label.utf8.count))
            out += Array(label.utf8)
        }
        return out + [0]
    }

    public static func dnsQuery(id: UInt16, name: String, type: UInt16 = 1) -> [UInt8] {
        Frames.be16(id) + [0x01, 0x00] + Frames.be16(1) + Frames.be16(0) + Frames.be16(0) + Frames.be16(0)
            + dnsName(name) + Frames.be16(type) + Frames.be16(1)
    }

    /// A response with one A record per address, each naming the question by a compression
    /// pointer to offset 12.
    public static func dnsResponse(id: UInt16, name: String, addresses: [[UInt8]], ttl: UInt32 = 300) -> [UInt8] {
        var m = Frames.be16(id) + [0x81, 0x80] + Frames.be16(1) + Frames.be16(UInt16(addresses.count)) + Frames.be16(0) + Frames.be16(0)
        m += dnsName(name) + Frames.be16(1) + Frames.be16(1)
        for a in addresses {
            m += [0xC0, 0x0C] + Frames.be16(a.count == 4 ? 1 : 28) + Frames.be16(1) + Frames.be32(ttl) + Frames.be16(UInt16(a.count)) + a
        }
        return m
    }

    // MARK: HTTP/1.1

    public static func httpRequest(method: String = "GET", uri: String, host: String, userAgent: String,
                                   body: [UInt8] = [], extraHeaders: [String] = []) -> [UInt8] {
        var head = "\(method) \(uri) HTTP/1.1\r\nHost: \(host)\r\nUser-Agent: \(userAgent)\r\nAccept: */*\r\n"
        for h in extraHeaders { head += h + "\r\n" }
        if !body.isEmpty { head += "Content-Length: \(body.count)\r\n" }
        return bytes(head + "\r\n") + body
    }

    public static func httpResponse(status: Int = 200, reason: String = "OK", contentType: String = "text/html",
                                    body: [UInt8]) -> [UInt8] {
        bytes("HTTP/1.1 \(status) \(reason)\r\nServer: Apache\r\nContent-Type: \(contentType)\r\nContent-Length: \(body.count)\r\n\r\n") + body
    }

    public static func htmlPage(_ title: String, size: Int) -> [UInt8] {
        var page = "<!DOCTYPE html><html><head><title>\(title)</title></head><body>"
        while page.utf8.count < size - 14 { page += "<p>HealthNet member services.</p>" }
        return bytes(page + "</body></html>")
    }

    // MARK: TLS 1.3 (RFC 8446)

    static func vector(_ lengthBytes: Int, _ body: [UInt8]) -> [UInt8] {
        (lengthBytes == 1 ? [UInt8(body.count)] : lengthBytes == 2 ? Frames.be16(UInt16(body.count))
            : [UInt8(body.count >> 16), UInt8((body.count >> 8) & 0xFF), UInt8(body.count & 0xFF)]) + body
    }

    static func extensionBlock(_ type: UInt16, _ body: [UInt8]) -> [UInt8] {
        Frames.be16(type) + vector(2, body)
    }

    static func record(_ type: UInt8, _ body: [UInt8]) -> [UInt8] {
        [type, 0x03, 0x03] + vector(2, body)
    }

    public static func tlsClientHello(sni: String, alpn: [String] = ["h2", "http/1.1"], random: inout SeededRandom) -> [UInt8] {
        let ciphers: [UInt16] = [0x1301, 0x1302, 0x1303, 0xC02B, 0xC02F, 0xC02C, 0xC030, 0xCCA9, 0xCCA8, 0xC013, 0xC014, 0x009C, 0x009D, 0x002F, 0x0035]
        var ext: [UInt8] = []
        ext += extensionBlock(0x0000, vector(2, [0] + vector(2, bytes(sni))))            // server_name
        ext += extensionBlock(0x0017, [])                                                 // extended_master_secret
        ext += extensionBlock(0xFF01, [0])                                                // renegotiation_info
        ext += extensionBlock(0x000A, vector(2, [0x00, 0x1D, 0x00, 0x17, 0x00, 0x18]))     // supported_groups
        ext += extensionBlock(0x000B, vector(1, [0]))                                     // ec_point_formats
        ext += extensionBlock(0x0010, vector(2, alpn.flatMap { vector(1, bytes($0)) }))   // ALPN
        ext += extensionBlock(0x000D, vector(2, [0x04, 0x03, 0x08, 0x04, 0x04, 0x01, 0x05, 0x03, 0x08, 0x05, 0x05, 0x01]))
        ext += extensionBlock(0x0033, vector(2, [0x00, 0x1D] + vector(2, random.bytes(32))))  // key_share x25519
        ext += extensionBlock(0x002B, vector(1, [0x03, 0x04, 0x03, 0x03]))               // supported_versions
        var hello: [UInt8] = [0x03, 0x03] + random.bytes(32) + vector(1, random.bytes(32))
        hello += vector(2, ciphers.flatMap { Frames.be16($0) }) + vector(1, [0]) + vector(2, ext)
        return [0x16, 0x03, 0x01] + vector(2, [0x01] + vector(3, hello))
    }

    /// ServerHello, ChangeCipherSpec and an encrypted handshake record (as TLS 1.3 sends).
    public static func tlsServerFlight(random: inout SeededRandom) -> [UInt8] {
        var ext = extensionBlock(0x002B, [0x03, 0x04])
        ext += extensionBlock(0x0033, [0x00, 0x1D] + vector(2, random.bytes(32)))
        let hello: [UInt8] = [0x03, 0x03] + random.bytes(32) + vector(1, random.bytes(32)) + [0x13, 0x01, 0] + vector(2, ext)
        return record(0x16, [0x02] + vector(3, hello)) + record(0x14, [1]) + record(0x17, random.bytes(2400))
    }

    public static func tlsApplicationData(_ size: Int, random: inout SeededRandom) -> [UInt8] {
        record(0x17, random.bytes(size))
    }

    // MARK: SSH (RFC 4253)

    public static func sshBanner(_ software: String) -> [UInt8] { bytes("SSH-2.0-\(software)\r\n") }

    /// A binary packet carrying KEXINIT with the usual algorithm lists.
    public static func sshKexInit(random: inout SeededRandom, server: Bool) -> [UInt8] {
        let lists = [
            "curve25519-sha256,curve25519-sha256@libssh.org,ecdh-sha2-nistp256,diffie-hellman-group14-sha256",
            server ? "rsa-sha2-512,rsa-sha2-256,ssh-ed25519" : "ssh-ed25519,ecdsa-sha2-nistp256,rsa-sha2-512",
            "chacha20-poly1305@openssh.com,aes128-ctr,aes256-gcm@openssh.com", "chacha20-poly1305@openssh.com,aes128-ctr,aes256-gcm@openssh.com",
            "umac-64-etm@openssh.com,hmac-sha2-256-etm@openssh.com", "umac-64-etm@openssh.com,hmac-sha2-256-etm@openssh.com",
            "none,zlib@openssh.com", "none,zlib@openssh.com", "", "",
        ]
        var payload: [UInt8] = [20] + random.bytes(16)
        for l in lists { payload += Frames.be32(UInt32(l.utf8.count)) + bytes(l) }
        payload += [0] + Frames.be32(0)
        return sshPacket(payload)
    }

    /// A clear SSH binary packet (RFC 4253 §6): length, padding length, payload, padding.
    public static func sshPacket(_ payload: [UInt8]) -> [UInt8] {
        let padding = 8 - (payload.count + 5) % 8 + 4
        let length = UInt32(1 + payload.count + padding)
        return Frames.be32(length) + [UInt8(padding)] + payload + [UInt8](repeating: 0, count: padding)
    }

    /// The rest of an SSH key exchange after both KEXINITs (curve25519: ECDH_INIT 30 with the
    /// client's key, ECDH_REPLY 31 with host key, server key and signature), then NEWKEYS (21).
    public static func sshKeyExchange(random: inout SeededRandom, server: Bool) -> [UInt8] {
        let exchange: [UInt8] = server
            ? [31] + Frames.be32(51) + random.bytes(51) + Frames.be32(32) + random.bytes(32) + Frames.be32(83) + random.bytes(83)
            : [30] + Frames.be32(32) + random.bytes(32)
        return sshPacket(exchange) + sshPacket([21])
    }
}

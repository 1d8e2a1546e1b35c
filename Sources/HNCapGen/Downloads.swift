/// Many long HTTP downloads at once, written as a stream (the capture can be far larger than
/// memory: 1,000 downloads of 50 MB is 50 GB): every connection opens and sends its request,
/// then the server sends two 1,460-byte segments on each connection in turn, each pair
/// acknowledged, until every body is complete; then all close. For the memory a flow's body
/// may take (it must stay within the configured limits however long the body).
public enum Downloads {
    public static func write(count: Int, bytesEach: Int, sink: ([UInt8]) -> Void) -> (packets: Int, flows: Int) {
        var out = CaptureWriter(format: .pcapMicro)
        var time = Scenario.baseTime
        var packets = 0
        let server = Host("10.20.2.43", mac: 0x43)
        let mss = 1460
        // One body segment's bytes, the same every time (text, as a report would be).
        var block = [UInt8]()
        while block.count < mss { block += Array("HealthNet laboratory report, page of results. ".utf8) }
        block = Array(block.prefix(mss))
        var blockSum: UInt32 = 0
        for i in stride(from: 0, to: mss, by: 2) { blockSum += UInt32(block[i]) << 8 | UInt32(block[i + 1]) }

        struct Connection {
            let client: Host
            let sport: UInt16
            var clientSeq: UInt32
            var serverSeq: UInt32
            var left: Int
        }
        var connections: [Connection] = []
        for n in 0..<count {
            let a = 70 + n % 8, b = (n / 8) % 250 + 1, d = n % 200 + 10
            let client = Host("10.\(a).\(b).\(d)", mac: UInt8(n & 0xFF))
            let clientSeq = UInt32(truncatingIfNeeded: n &* 7919 &+ 1)
            let serverSeq = UInt32(truncatingIfNeeded: n &* 104_729 &+ 7)
            connections.append(Connection(client: client, sport: UInt16(20_000 + n % 40_000), clientSeq: clientSeq, serverSeq: serverSeq,
                                          left: bytesEach))
        }
        var ipID: UInt16 = 1
        /// Writes one segment of `c` and advances the sender's sequence number past it.
        func emit(_ c: inout Connection, fromClient: Bool, flags: UInt8, payload: [UInt8] = []) {
            let src = fromClient ? c.client : server, dst = fromClient ? server : c.client
            let l4 = Frames.tcp(src: src.ip, dst: dst.ip, sport: fromClient ? c.sport : 80, dport: fromClient ? 80 : c.sport,
                                seq: fromClient ? c.clientSeq : c.serverSeq, ack: flags & 0x10 != 0 ? (fromClient ? c.serverSeq : c.clientSeq) : 0,
                                flags: flags, payload: payload)
            let ip = Frames.ipv4Header(src: src.ip, dst: dst.ip, proto: 6, id: ipID, ttl: 64, payloadLength: l4.count)
            ipID &+= 1
            out.append(Frames.ethernet(src: src.mac, dst: dst.mac, type: 0x0800, ip + l4), at: time)
            time += 2_000
            packets += 1
            if out.bytes.count > 1 << 20 { sink(out.take()) }
            let advance = UInt32(payload.count) + (flags & 0x03 != 0 ? 1 : 0)  // SYN and FIN take one
            if fromClient { c.clientSeq &+= advance } else { c.serverSeq &+= advance }
        }
        // A server data segment of `block`, built from a template: only the sequence number,
        // the IP id and the two checksums change.
        func data(_ c: inout Connection, length: Int) {
            guard length == mss else {
                emit(&c, fromClient: false, flags: 0x18, payload: Array(block.prefix(length)))
                return
            }
            defer { c.serverSeq &+= UInt32(mss) }
            var frame = [UInt8](repeating: 0, count: 14 + 20 + 20 + mss)
            frame.replaceSubrange(0..<6, with: c.client.mac)
            frame.replaceSubrange(6..<12, with: server.mac)
            frame[12] = 0x08
            // IPv4
            let total = 20 + 20 + mss
            frame.replaceSubrange(14..<34, with: [0x45, 0, UInt8(total >> 8), UInt8(total & 0xFF), UInt8(ipID >> 8), UInt8(ipID & 0xFF),
                                                  0x40, 0, 64, 6, 0, 0] + server.ip + c.client.ip)
            ipID &+= 1
            var sum: UInt32 = 0
            for i in stride(from: 14, to: 34, by: 2) { sum += UInt32(frame[i]) << 8 | UInt32(frame[i + 1]) }
            while sum >> 16 != 0 { sum = (sum & 0xFFFF) + (sum >> 16) }
            frame[24] = UInt8(~sum >> 8 & 0xFF); frame[25] = UInt8(~sum & 0xFF)
            // TCP: ACK, window 64240
            let tcp = Frames.be16(80) + Frames.be16(c.sport) + Frames.be32(c.serverSeq) + Frames.be32(c.clientSeq) + [0x50, 0x10, 0xFA, 0xF0, 0, 0, 0, 0]
            frame.replaceSubrange(34..<54, with: tcp)
            var t: UInt32 = blockSum
            t += UInt32(server.ip[0]) << 8 | UInt32(server.ip[1]); t += UInt32(server.ip[2]) << 8 | UInt32(server.ip[3])
            t += UInt32(c.client.ip[0]) << 8 | UInt32(c.client.ip[1]); t += UInt32(c.client.ip[2]) << 8 | UInt32(c.client.ip[3])
            t += 6 + UInt32(20 + mss)
            for i in stride(from: 34, to: 54, by: 2) { t += UInt32(frame[i]) << 8 | UInt32(frame[i + 1]) }
            while t >> 16 != 0 { t = (t & 0xFFFF) + (t >> 16) }
            frame[50] = UInt8(~t >> 8 & 0xFF); frame[51] = UInt8(~t & 0xFF)
            frame.replaceSubrange(54..., with: block)
            out.append(frame, at: time)
            time += 2_000
            packets += 1
            if out.bytes.count > 1 << 20 { sink(out.take()) }
        }
        for i in connections.indices {
            emit(&connections[i], fromClient: true, flags: 0x02)
            emit(&connections[i], fromClient: false, flags: 0x12)
            emit(&connections[i], fromClient: true, flags: 0x10)
            let request = Payloads.httpRequest(uri: "/results/archive-\(i).pdf", host: "lab.healthnet.lu", userAgent: "Mozilla/5.0")
            emit(&connections[i], fromClient: true, flags: 0x18, payload: request)
            let head = Payloads.bytes("HTTP/1.1 200 OK\r\nServer: Apache\r\nContent-Type: application/pdf\r\nContent-Length: \(bytesEach)\r\n\r\n")
            emit(&connections[i], fromClient: false, flags: 0x18, payload: head)
            emit(&connections[i], fromClient: true, flags: 0x10)
        }
        var open = count
        while open > 0 {
            open = 0
            for i in connections.indices where connections[i].left > 0 {
                for _ in 0..<2 where connections[i].left > 0 {
                    let n = min(mss, connections[i].left)
                    data(&connections[i], length: n)
                    connections[i].left -= n
                }
                emit(&connections[i], fromClient: true, flags: 0x10)
                if connections[i].left > 0 { open += 1 }
            }
        }
        for i in connections.indices {
            emit(&connections[i], fromClient: true, flags: 0x11)
            emit(&connections[i], fromClient: false, flags: 0x11)
            emit(&connections[i], fromClient: true, flags: 0x10)
        }
        sink(out.take())
        return (packets, count)
    }
}

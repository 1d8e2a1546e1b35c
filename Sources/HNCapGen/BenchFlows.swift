/// A capture of `count` TCP connections open at the same time, for the memory-per-flow
/// benchmark: each gets a handshake and one small request, none is closed, and the whole
/// capture spans less than a minute of packet time, so every flow is still tracked at the
/// end. Clients 10.64.0.0/10 with varying ports, servers 192.0.2.0/24 port 80.
public enum BenchFlows {
    public static func write(count: Int, sink: ([UInt8]) -> Void) -> Int {
        var writer = CaptureWriter(format: .pcapMicro)
        sink(writer.take())
        let request = Array("GET / HTTP/1.1\r\nHost: bench\r\n\r\n".utf8)
        let start: Int64 = 1_790_000_000_000_000_000
        let step = Int64(40_000_000_000) / Int64(max(1, count))
        var packets = 0
        for i in 0..<count {
            let client: [UInt8] = [10, UInt8(64 + (i >> 22) & 63), UInt8(i >> 14 & 255), UInt8(i >> 6 & 255)]
            let server: [UInt8] = [192, 0, 2, UInt8(1 + i % 200)]
            let sport = UInt16(1024 + (i & 63) * 900 + i % 900)
            let t = start + Int64(i) * step
            let isn: UInt32 = 1000, sisn: UInt32 = 5000
            func send(_ fromClient: Bool, _ flags: UInt8, _ seq: UInt32, _ ack: UInt32, _ payload: [UInt8], _ at: Int64) {
                let (s, d) = fromClient ? (client, server) : (server, client)
                let (sp, dp) = fromClient ? (sport, UInt16(80)) : (UInt16(80), sport)
                let tcp = Frames.tcp(src: s, dst: d, sport: sp, dport: dp, seq: seq, ack: ack, flags: flags, payload: payload)
                let ip = Frames.ipv4Header(src: s, dst: d, proto: 6, id: 1, ttl: 64, payloadLength: tcp.count) + tcp
                writer.append(Frames.ethernet(src: [2, 0, 0, 0, 0, 1], dst: [2, 0, 0, 0, 0, 2], type: 0x0800, ip), at: at)
                packets += 1
            }
            send(true, 0x02, isn, 0, [], t)
            send(false, 0x12, sisn, isn + 1, [], t + 1000)
            send(true, 0x10, isn + 1, sisn + 1, [], t + 2000)
            send(true, 0x18, isn + 1, sisn + 1, request, t + 3000)
            if i % 4096 == 4095 { sink(writer.take()) }
        }
        sink(writer.take())
        return packets
    }
}

/// Writes a large benchmark capture straight to a file descriptor in time-ordered batches:
/// many concurrent clients doing HTTP, TLS, DNS, SSH and ping, until `targetBytes` is reached.
public enum BenchCapture {
    public static func write(targetBytes: Int, seed: UInt64 = 0xBE_7C, sink: ([UInt8]) -> Void) -> (packets: Int, flows: Int) {
        let header = CaptureWriter(format: .pcapMicro)
        sink(header.bytes)
        var written = header.bytes.count
        var packets = 0, flows = 0
        var t = Scenario.baseTime
        var batch = 0
        while written < targetBytes {
            let s = Scenario(name: "bench", summary: "", seed: seed &+ UInt64(batch))
            // 200 clients per batch, each starting a little later than the previous one.
            for i in 0..<200 {
                let n = batch * 200 + i
                let client = Host("10.\(20 + n % 8).\((n / 8) % 250 + 1).\(n % 200 + 10)", mac: UInt8(n & 0xFF))
                var start = t + Int64(i) * 2_000_000
                let sport = UInt16(1024 + (n * 4) % 60_000)
                switch n % 5 {
                case 0, 1:
                    Scenarios.addBrowsing(s, client: client, sport: sport, at: &start)
                case 2:
                    let tls = s.tcp(client, Scenarios.proxy, sport: sport, dport: 443, at: start, appProto: "tls").handshake()
                    tls.send(fromClient: true, Payloads.tlsClientHello(sni: "records.healthnet.lu", random: &s.random))
                    tls.send(fromClient: false, Payloads.tlsServerFlight(random: &s.random))
                    tls.send(fromClient: false, Payloads.tlsApplicationData(60_000, random: &s.random))
                    tls.close()
                case 3:
                    Scenarios.addSSHSession(s, client: client, sport: sport, at: &start)
                default:
                    start = s.ping(client, Scenarios.gateway, at: start, count: 2)
                }
            }
            flows += s.labels.count
            // Frames of a batch never precede the previous batch's: batches are 10 s apart.
            let body = s.captureBody()
            sink(body.bytes)
            written += body.bytes.count
            packets += body.count
            t += 10_000_000_000
            batch += 1
        }
        return (packets, flows)
    }
}

extension Scenario {
    /// The records of the scenario without a file header, for appending to a stream.
    func captureBody() -> (bytes: [UInt8], count: Int) {
        let headerSize = CaptureWriter(format: .pcapMicro).bytes.count
        return (Array(capture()[headerSize...]), frames.count)
    }
}

/// Writes a large benchmark capture straight to a file descriptor in time-ordered batches:
/// many concurrent clients doing HTTP, TLS, DNS, SSH and ping, until `targetBytes` is reached.
public enum BenchCapture {
    public static func write(targetBytes: Int, seed: UInt64 = 0xBE_7C, sink: ([UInt8]) -> Void) -> (packets: Int, flows: Int) {
        BatchedCapture.write(targetBytes: targetBytes, seed: seed, sink: sink) { s, batch, t in
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
        }
    }
}

/// A capture of long transfers, for the per-packet (steady-state) cost: each client downloads
/// 2 MB over TLS (16 KiB records) or 1 MB over HTTP, until `targetBytes` is reached. Almost
/// every packet is mid-flow data, so what a flow or a transaction costs is spread thin.
public enum BulkCapture {
    public static func write(targetBytes: Int, seed: UInt64 = 0xB0_1C, sink: ([UInt8]) -> Void) -> (packets: Int, flows: Int) {
        BatchedCapture.write(targetBytes: targetBytes, seed: seed, sink: sink) { s, batch, t in
            for i in 0..<10 {
                let n = batch * 10 + i
                let client = Host("10.\(40 + n % 8).\((n / 8) % 250 + 1).\(n % 200 + 10)", mac: UInt8(n & 0xFF))
                let start = t + Int64(i) * 20_000_000
                let sport = UInt16(1024 + (n * 4) % 60_000)
                if n % 2 == 0 {
                    let tls = s.tcp(client, Scenarios.proxy, sport: sport, dport: 443, at: start, appProto: "tls").handshake()
                    tls.send(fromClient: true, Payloads.tlsClientHello(sni: "records.healthnet.lu", random: &s.random))
                    tls.send(fromClient: false, Payloads.tlsServerFlight(random: &s.random))
                    var data: [UInt8] = []
                    for _ in 0..<128 { data += Payloads.tlsApplicationData(16 << 10, random: &s.random) }
                    tls.send(fromClient: false, data)
                    tls.close()
                } else {
                    let http = s.tcp(client, Scenarios.proxy, sport: sport, dport: 80, at: start, appProto: "http").handshake()
                    http.send(fromClient: true, Payloads.httpRequest(uri: "/archive/\(n).pdf", host: "records.healthnet.lu",
                                                                     userAgent: "Mozilla/5.0"))
                    http.send(fromClient: false, Payloads.httpResponse(contentType: "application/pdf", body: s.random.bytes(1 << 20)))
                    http.close()
                }
            }
        }
    }
}

/// Writes a capture batch by batch (batches 10 s apart in packet time) until `targetBytes`:
/// `fill` adds a batch's sessions to a fresh scenario, given the batch number and its time.
enum BatchedCapture {
    static func write(targetBytes: Int, seed: UInt64, sink: ([UInt8]) -> Void,
                      fill: (Scenario, Int, Int64) -> Void) -> (packets: Int, flows: Int) {
        let header = CaptureWriter(format: .pcapMicro)
        sink(header.bytes)
        var written = header.bytes.count
        var packets = 0, flows = 0
        var t = Scenario.baseTime
        var batch = 0
        while written < targetBytes {
            let s = Scenario(name: "batch", summary: "", seed: seed &+ UInt64(batch))
            fill(s, batch, t)
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

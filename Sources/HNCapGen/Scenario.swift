/// A host in a generated scenario.
public struct Host: Sendable {
    public let address: String
    public let ip: [UInt8]
    public let mac: [UInt8]

    public init(_ address: String, mac last: UInt8) {
        self.address = address
        self.ip = address.contains(":") ? Frames.ipv6(address) : Frames.ipv4(address)
        self.mac = [0x02, 0x48, 0x4E, 0x00, 0x00, last]  // locally administered
    }

    var isIPv6: Bool { ip.count == 16 }
}

/// The ground truth of one generated flow, as EVE should report it.
public struct FlowLabel: Sendable {
    public var client: String
    public var clientPort: Int
    public var server: String
    public var serverPort: Int
    public var proto: String
    public var packetsToServer = 0
    public var packetsToClient = 0
    public var bytesToServer = 0
    public var bytesToClient = 0
    public var state = "new"
    public var tcpState: String? = nil
    /// The application protocol the flow carries (for the application-layer parsers).
    public var appProto: String? = nil
    /// The protocol it started as, when it changed on the way (STARTTLS, CONNECT).
    public var appProtoOrig: String? = nil
    /// "benign" or the attack family the flow belongs to.
    public var label = "benign"
    /// Application-layer EVE records this flow must produce: each a JSON object of dotted
    /// paths (`http.hostname`, `dns.queries[0].rrname`) and their values, with `event_type`.
    public var records: [String] = []
}

/// Collects the frames of a scenario with their timestamps and the ground-truth labels of
/// its flows, then writes them in time order. Everything is derived from a fixed base time
/// and a fixed seed: regenerating gives byte-identical files.
public final class Scenario {
    /// 2026-11-02T08:00:00Z, a Monday morning at a hospital.
    public static let baseTime: Int64 = 1_793_606_400 * 1_000_000_000

    public let name: String
    public let summary: String
    public var random: SeededRandom
    var frames: [(time: Int64, order: Int, bytes: [UInt8])] = []
    public var labels: [FlowLabel] = []
    /// Alerts the scenario must raise with the shipped Rules/ and Config/hnsensor.yaml: sid,
    /// source, destination, how many.
    public var expectedAlerts: [(sid: UInt32, source: String, destination: String, count: Int)] = []
    /// Incidents it must open: correlation rule, RSIT class, priority, sources, targets.
    public var expectedIncidents: [(rule: String, taxonomy: String, type: String, priority: String, sources: [String], targets: [String])] = []
    private var nextIPID: UInt16 = 1

    public init(name: String, summary: String, seed: UInt64) {
        self.name = name
        self.summary = summary
        self.random = SeededRandom(seed: seed)
    }

    public var frameCount: Int { frames.count }
    /// The frames in time order (fuzzing seeds).
    public var frameList: [[UInt8]] { frames.sorted { ($0.time, $0.order) < ($1.time, $1.order) }.map(\.bytes) }

    func ipID() -> UInt16 {
        nextIPID &+= 1
        return nextIPID
    }

    func emit(_ frame: [UInt8], at time: Int64) {
        frames.append((time, frames.count, frame))
    }

    /// An IP packet from `src` to `dst` wrapped in Ethernet.
    func ipFrame(_ src: Host, _ dst: Host, proto: UInt8, _ l4: [UInt8], vlan: UInt16? = nil) -> [UInt8] {
        if src.isIPv6 {
            let ip = Frames.ipv6Header(src: src.ip, dst: dst.ip, next: proto, hopLimit: 64, payloadLength: l4.count)
            return Frames.ethernet(src: src.mac, dst: dst.mac, type: 0x86DD, vlan: vlan, ip + l4)
        }
        let ip = Frames.ipv4Header(src: src.ip, dst: dst.ip, proto: proto, id: ipID(), ttl: 64, payloadLength: l4.count)
        return Frames.ethernet(src: src.mac, dst: dst.mac, type: 0x0800, vlan: vlan, ip + l4)
    }

    /// The capture file bytes, frames sorted by time (stable).
    public func capture(format: CaptureWriter.Format = .pcapMicro) -> [UInt8] {
        var writer = CaptureWriter(format: format)
        for f in frames.sorted(by: { ($0.time, $0.order) < ($1.time, $1.order) }) {
            writer.append(f.bytes, at: f.time)
        }
        return writer.bytes
    }

    // MARK: Conversations

    public func tcp(_ client: Host, _ server: Host, sport: UInt16, dport: UInt16, at start: Int64,
                    rtt: Int64 = 2_000_000, appProto: String? = nil, label: String = "benign") -> TCPConversation {
        TCPConversation(scenario: self, client: client, server: server, sport: sport, dport: dport,
                        start: start, rtt: rtt, appProto: appProto, label: label)
    }

    /// One UDP request and its optional response.
    @discardableResult
    public func udp(_ client: Host, _ server: Host, sport: UInt16, dport: UInt16, at time: Int64,
                    request: [UInt8], response: [UInt8]?, appProto: String? = nil, label: String = "benign",
                    records: [String] = []) -> Int64 {
        var l = FlowLabel(client: client.address, clientPort: Int(sport), server: server.address, serverPort: Int(dport), proto: "UDP")
        // A datagram of no recognised protocol fails detection (as Suricata marks it), except
        // on DNS's port, where detection goes on.
        l.appProto = appProto ?? (request.isEmpty || sport == 53 || dport == 53 ? nil : "failed")
        l.label = label
        l.records = records
        let q = ipFrame(client, server, proto: 17, Frames.udp(src: client.ip, dst: server.ip, sport: sport, dport: dport, payload: request))
        emit(q, at: time)
        l.packetsToServer = 1; l.bytesToServer = q.count
        var end = time
        if let response {
            let r = ipFrame(server, client, proto: 17, Frames.udp(src: server.ip, dst: client.ip, sport: dport, dport: sport, payload: response))
            end = time + 800_000
            emit(r, at: end)
            l.packetsToClient = 1; l.bytesToClient = r.count
            l.state = "established"
        }
        labels.append(l)
        return end
    }

    /// `count` ICMP echo requests and replies, one a second.
    @discardableResult
    public func ping(_ client: Host, _ server: Host, at time: Int64, count: Int, label: String = "benign") -> Int64 {
        let v6 = client.isIPv6
        var l = FlowLabel(client: client.address, clientPort: 0, server: server.address, serverPort: 0, proto: v6 ? "IPv6-ICMP" : "ICMP")
        l.label = label
        var t = time
        for seq in 0..<count {
            let payload = (0..<32).map { UInt8($0 + 0x20) }
            let req = v6 ? icmpv6Echo(type: 128, client, server, UInt16(seq), payload) : Frames.icmpEcho(type: 8, id: 0x4E48, seq: UInt16(seq), payload: payload)
            let rep = v6 ? icmpv6Echo(type: 129, server, client, UInt16(seq), payload) : Frames.icmpEcho(type: 0, id: 0x4E48, seq: UInt16(seq), payload: payload)
            let a = ipFrame(client, server, proto: v6 ? 58 : 1, req)
            let b = ipFrame(server, client, proto: v6 ? 58 : 1, rep)
            emit(a, at: t); emit(b, at: t + 400_000)
            l.packetsToServer += 1; l.bytesToServer += a.count
            l.packetsToClient += 1; l.bytesToClient += b.count
            t += 1_000_000_000
        }
        l.state = "established"
        labels.append(l)
        return t
    }

    func icmpv6Echo(type: UInt8, _ src: Host, _ dst: Host, _ seq: UInt16, _ payload: [UInt8]) -> [UInt8] {
        var m: [UInt8] = [type, 0, 0, 0] + Frames.be16(0x4E48) + Frames.be16(seq) + payload
        let c = Frames.checksum(m, initial: Frames.pseudoSum(src.ip, dst.ip, proto: 58, length: m.count))
        m[2] = UInt8(c >> 8); m[3] = UInt8(c & 0xFF)
        return m
    }

    public func expectAlert(_ sid: UInt32, _ source: Host, _ destination: Host, count: Int = 1) {
        if let i = expectedAlerts.firstIndex(where: { $0.sid == sid && $0.source == source.address && $0.destination == destination.address }) {
            expectedAlerts[i].count += count
        } else {
            expectedAlerts.append((sid, source.address, destination.address, count))
        }
    }

    public func expectIncident(_ rule: String, _ taxonomy: String, _ type: String, _ priority: String, sources: [Host], targets: [Host]) {
        expectedIncidents.append((rule, taxonomy, type, priority, sources.map(\.address), targets.map(\.address)))
    }

    // MARK: Labels as JSON

    /// The labels file: scenario name, description and one object per flow, stable order.
    public func labelsJSON() -> String {
        var out = "{\n  \"scenario\": \"\(name)\",\n  \"description\": \"\(summary)\",\n"
        out += "  \"packets\": \(frames.count),\n  \"flows\": [\n"
        let sorted = labels.sorted { ($0.client, $0.clientPort, $0.server, $0.serverPort, $0.proto) < ($1.client, $1.clientPort, $1.server, $1.serverPort, $1.proto) }
        for (i, l) in sorted.enumerated() {
            var fields = [
                "\"src_ip\": \"\(l.client)\"", "\"src_port\": \(l.clientPort)",
                "\"dest_ip\": \"\(l.server)\"", "\"dest_port\": \(l.serverPort)",
                "\"proto\": \"\(l.proto)\"",
                "\"pkts_toserver\": \(l.packetsToServer)", "\"pkts_toclient\": \(l.packetsToClient)",
                "\"bytes_toserver\": \(l.bytesToServer)", "\"bytes_toclient\": \(l.bytesToClient)",
                "\"state\": \"\(l.state)\"",
            ]
            if let t = l.tcpState { fields.append("\"tcp_state\": \"\(t)\"") }
            if let a = l.appProto { fields.append("\"app_proto\": \"\(a)\"") }
            if let a = l.appProtoOrig { fields.append("\"app_proto_orig\": \"\(a)\"") }
            fields.append("\"label\": \"\(l.label)\"")
            if !l.records.isEmpty { fields.append("\"records\": [" + l.records.joined(separator: ", ") + "]") }
            out += "    {" + fields.joined(separator: ", ") + "}" + (i == sorted.count - 1 ? "\n" : ",\n")
        }
        out += "  ],\n  \"alerts\": [\n"
        let alerts = expectedAlerts.sorted { ($0.sid, $0.source, $0.destination) < ($1.sid, $1.source, $1.destination) }
        for (i, a) in alerts.enumerated() {
            out += "    {\"sid\": \(a.sid), \"src_ip\": \"\(a.source)\", \"dest_ip\": \"\(a.destination)\", \"count\": \(a.count)}"
            out += i == alerts.count - 1 ? "\n" : ",\n"
        }
        out += "  ],\n  \"incidents\": [\n"
        let incidents = expectedIncidents.sorted { ($0.rule, $0.sources.joined(separator: ","), $0.targets.joined(separator: ",")) < ($1.rule, $1.sources.joined(separator: ","), $1.targets.joined(separator: ",")) }
        for (i, x) in incidents.enumerated() {
            func list(_ l: [String]) -> String { "[" + l.map { "\"\($0)\"" }.joined(separator: ", ") + "]" }
            out += "    {\"rule\": \"\(x.rule)\", \"taxonomy\": \"\(x.taxonomy)\", \"type\": \"\(x.type)\", \"priority\": \"\(x.priority)\", "
                + "\"sources\": \(list(x.sources)), \"targets\": \(list(x.targets))}"
            out += i == incidents.count - 1 ? "\n" : ",\n"
        }
        return out + "  ]\n}\n"
    }
}

/// A TCP connection with real sequence numbers, acknowledgements and teardown.
public final class TCPConversation {
    let scenario: Scenario
    let client: Host, server: Host
    let sport: UInt16, dport: UInt16
    let rtt: Int64
    public internal(set) var time: Int64
    var clientSeq: UInt32, serverSeq: UInt32
    var label: FlowLabel
    var finished = false
    /// Largest payload per segment (Ethernet MTU 1500 minus IPv4 and TCP headers).
    static let mss = 1460

    init(scenario: Scenario, client: Host, server: Host, sport: UInt16, dport: UInt16, start: Int64,
         rtt: Int64, appProto: String?, label: String) {
        self.scenario = scenario
        self.client = client
        self.server = server
        self.sport = sport
        self.dport = dport
        self.rtt = rtt
        self.time = start
        self.clientSeq = UInt32(truncatingIfNeeded: scenario.random.next())
        self.serverSeq = UInt32(truncatingIfNeeded: scenario.random.next())
        self.label = FlowLabel(client: client.address, clientPort: Int(sport), server: server.address, serverPort: Int(dport), proto: "TCP")
        self.label.appProto = appProto
        self.label.label = label
    }

    deinit {
        if !finished { scenario.labels.append(label) }
    }

    func segment(fromClient: Bool, flags: UInt8, payload: [UInt8] = [], options: [UInt8] = []) {
        let src = fromClient ? client : server, dst = fromClient ? server : client
        let seq = fromClient ? clientSeq : serverSeq, ack = fromClient ? serverSeq : clientSeq
        let l4 = Frames.tcp(src: src.ip, dst: dst.ip, sport: fromClient ? sport : dport, dport: fromClient ? dport : sport,
                            seq: seq, ack: flags & 0x10 != 0 ? ack : 0, flags: flags, options: options, payload: payload)
        let frame = scenario.ipFrame(src, dst, proto: 6, l4)
        scenario.emit(frame, at: time)
        if fromClient {
            label.packetsToServer += 1; label.bytesToServer += frame.count
        } else {
            label.packetsToClient += 1; label.bytesToClient += frame.count
        }
        var advance = UInt32(payload.count)
        if flags & 0x03 != 0 { advance += 1 }  // SYN and FIN take a sequence number
        if fromClient { clientSeq &+= advance } else { serverSeq &+= advance }
    }

    /// SYN (with MSS, SACK-permitted, timestamps, window scale), SYN-ACK, ACK.
    @discardableResult
    public func handshake() -> Self {
        let options: [UInt8] = [2, 4, 0x05, 0xB4, 4, 2, 8, 10] + Frames.be32(UInt32(truncatingIfNeeded: time / 1_000_000)) + [0, 0, 0, 0, 1, 3, 3, 7]
        segment(fromClient: true, flags: 0x02, options: options)
        time += rtt / 2
        segment(fromClient: false, flags: 0x12, options: [2, 4, 0x05, 0xB4, 1, 1, 4, 2])
        time += rtt / 2
        segment(fromClient: true, flags: 0x10)
        label.state = "established"
        label.tcpState = "established"
        time += 100_000
        return self
    }

    /// Sends `data` in MSS-sized segments; the receiver acknowledges every second segment and
    /// the last one.
    @discardableResult
    public func send(fromClient: Bool, _ data: [UInt8]) -> Self {
        var offset = 0
        var unacked = 0
        while offset < data.count {
            let chunk = Array(data[offset..<min(offset + TCPConversation.mss, data.count)])
            offset += chunk.count
            let last = offset >= data.count
            segment(fromClient: fromClient, flags: last ? 0x18 : 0x10, payload: chunk)
            time += 50_000
            unacked += 1
            if unacked == 2 || last {
                time += rtt / 2
                segment(fromClient: !fromClient, flags: 0x10)
                unacked = 0
            }
        }
        time += rtt
        return self
    }

    /// The client closes: FIN-ACK, FIN-ACK from the server, final ACK.
    /// Records an application-layer EVE record the flow must produce (see `FlowLabel.records`).
    @discardableResult
    public func expect(_ record: String) -> Self {
        label.records.append(record)
        return self
    }

    /// The flow changes protocol on the way: it ends as `to`, having started as `from`.
    @discardableResult
    public func upgraded(from: String, to: String) -> Self {
        label.appProtoOrig = from
        label.appProto = to
        return self
    }

    public func close() {
        segment(fromClient: true, flags: 0x11)
        time += rtt / 2
        segment(fromClient: false, flags: 0x11)
        time += rtt / 2
        segment(fromClient: true, flags: 0x10)
        label.state = "closed"
        label.tcpState = "closed"
        finish()
    }

    /// One side aborts with a RST.
    public func reset(fromClient: Bool) {
        segment(fromClient: fromClient, flags: 0x14)
        label.state = "closed"
        label.tcpState = "closed"
        finish()
    }

    /// A SYN answered by RST-ACK: a closed port.
    public func refused() {
        segment(fromClient: true, flags: 0x02, options: [2, 4, 0x05, 0xB4])
        time += rtt / 2
        segment(fromClient: false, flags: 0x14)
        label.state = "closed"
        label.tcpState = "closed"
        finish()
    }

    /// A SYN that gets no answer (filtered port, dead host).
    public func unanswered() {
        segment(fromClient: true, flags: 0x02, options: [2, 4, 0x05, 0xB4])
        label.state = "new"
        label.tcpState = "syn_sent"
        finish()
    }

    func finish() {
        guard !finished else { return }
        finished = true
        scenario.labels.append(label)
    }
}

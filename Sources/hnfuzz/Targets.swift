import Foundation
import HNAnomaly
import HNAppLayer
import HNConfig
import HNCorrelate
import HNDecode
import HNDetect
import HNFlow
import HNIntel
import HNSensor

/// The fuzz targets: each takes arbitrary bytes and must neither trap, hang nor leak.
enum FuzzTargets {
    static let names = [
        "decode", "defrag", "stream", "app-http", "app-dns", "app-tls", "app-ssh", "app-smtp", "app-ftp", "app-rdp", "app-smb", "app-imap", "app-pop3", "app-proxy", "shard",
        "rules", "config", "anomaly-config", "correlation-rules", "intel-zeek", "intel-misp-csv", "intel-json", "intel-list",
    ]

    static func run(_ name: String, _ data: UnsafeRawBufferPointer) {
        switch name {
        case "decode": decode(data)
        case "defrag": defrag(data)
        case "stream": stream(data)
        case "app-http": app(data, port: 80)
        case "app-dns": app(data, port: 53)
        case "app-tls": app(data, port: 443)
        case "app-ssh": app(data, port: 22)
        case "app-smtp": app(data, port: 25)
        case "app-ftp": app(data, port: 21)
        case "app-rdp": app(data, port: 3389)
        case "app-smb": app(data, port: 445)
        case "app-imap": app(data, port: 143)
        case "app-pop3": app(data, port: 110)
        case "app-proxy": app(data, port: 3128)
        case "shard":
            // First byte picks the link type; the rest is the frame.
            let links: [Int32] = [1, 101, 113, 276, 0, 108]
            if let first = data.first {
                _ = ShardKey.pairs(ByteView(UnsafeRawBufferPointer(rebasing: data.dropFirst())), linkType: links[Int(first) % links.count])
            }
        case "rules": _ = RuleParser().parse(String(decoding: data, as: UTF8.self))
        case "config": _ = try? SensorConfig.parse(String(decoding: data, as: UTF8.self), file: "fuzz.yaml")
        case "anomaly-config":
            var s = AnomalySettings()
            try? s.apply(String(decoding: data, as: UTF8.self), file: "fuzz.yaml")
        case "correlation-rules": _ = try? CorrelationRuleLoader.parse(String(decoding: data, as: UTF8.self), file: "fuzz.yaml")
        case "intel-zeek": intel(data, file: "fuzz.intel")
        case "intel-misp-csv": intel(data, file: "fuzz.csv")
        case "intel-json": intel(data, file: "fuzz.json")
        case "intel-list": intel(data, file: "fuzz.txt")
        default: break
        }
    }

    /// First byte: link type (Ethernet, raw, SLL, SLL2, null, loop, Cisco HDLC); the rest: a frame.
    static func decode(_ data: UnsafeRawBufferPointer) {
        guard let selector = data.first else { return }
        let linkTypes: [Int32] = [1, 101, 113, 276, 0, 108, 104, 12]
        var decoder = Decoder()
        var packet = Packet()
        let frame = UnsafeRawBufferPointer(rebasing: data.dropFirst())
        packet.captureLength = frame.count
        _ = decoder.decode(ByteView(frame), linkType: linkTypes[Int(selector) % linkTypes.count], into: &packet)
    }

    /// Records of [length u16][Ethernet frame]: fragments for the reassembler, in order, with
    /// a small memcap so its limits are reached.
    static func defrag(_ data: UnsafeRawBufferPointer) {
        var limits = Defragmenter.Limits()
        limits.memcap = 64 << 10
        limits.maxFragments = 64
        var decoder = Decoder(defragLimits: limits)
        var packet = Packet()
        var i = 0, t: Int64 = 0
        while i + 2 <= data.count {
            let n = Int(data[i]) << 8 | Int(data[i + 1])
            i += 2
            let frame = UnsafeRawBufferPointer(rebasing: data[i..<min(i + n, data.count)])
            i += n
            packet.timestamp = t
            packet.captureLength = frame.count
            _ = decoder.decode(ByteView(frame), linkType: 1, into: &packet)
            t += 1_000_000_000
        }
    }

    /// Records of [flags u8][seq u16][ack u16][len u8][payload]: segments of one flow in both
    /// directions (flag bit 7), for the reassembler with small caps, then the application layer.
    static func stream(_ data: UnsafeRawBufferPointer) {
        var limits = StreamReassembler.Limits()
        limits.perFlowMemcap = 4096
        limits.memcap = 16384
        limits.depth = 65536
        let reassembler = StreamReassembler(limits: limits)
        let app = AppLayer()
        var flow = Flow()
        flow.id = 1
        flow.proto = 6
        flow.serverPort = 80
        app.flowStarted(&flow)
        var events: [AppEvent] = []
        var i = 0
        while i + 6 <= data.count {
            let flags = data[i], seq = UInt32(data[i + 1]) << 8 | UInt32(data[i + 2]), ack = UInt32(data[i + 3]) << 8 | UInt32(data[i + 4])
            let n = Int(data[i + 5])
            i += 6
            let payload = UnsafeRawBufferPointer(rebasing: data[i..<min(i + n, data.count)])
            i += n
            var p = Packet()
            p.ipProto = 6
            p.tcpFlags = flags & 0x3F
            p.tcpSeq = seq
            p.tcpAck = ack
            p.payload = ByteView(payload)
            reassembler.segment(slot: Int(flow.slot), toServer: flags & 0x80 == 0, packet: p) { chunk, toServer in
                app.stream(chunk, toServer: toServer, flow: &flow, events: &events)
            }
            events.removeAll(keepingCapacity: true)
        }
        reassembler.flowEnded(slot: Int(flow.slot)) { chunk, toServer in app.stream(chunk, toServer: toServer, flow: &flow, events: &events) }
        app.flowEnded(&flow, events: &events)
    }

    /// Records of [direction u8][len u8][bytes] on a flow to `port`: protocol detection and
    /// the parser it picks (seeds start with each protocol's real opening).
    static func app(_ data: UnsafeRawBufferPointer, port: UInt16) {
        let app = AppLayer()
        var flow = Flow()
        flow.id = 7
        flow.proto = port == 53 ? 17 : 6
        flow.serverPort = port
        flow.clientPort = 40_000
        app.flowStarted(&flow)
        var events: [AppEvent] = []
        var i = 0
        while i + 2 <= data.count {
            let toServer = data[i] & 1 == 0
            let n = Int(data[i + 1])
            i += 2
            let chunk = UnsafeRawBufferPointer(rebasing: data[i..<min(i + n, data.count)])
            i += n
            if flow.proto == IPProto.udp {
                var p = Packet()
                p.ipProto = 17
                p.sourcePort = toServer ? 40_000 : port
                p.destinationPort = toServer ? port : 40_000
                p.payload = ByteView(chunk)
                app.datagram(p, toServer: toServer, flow: &flow, events: &events)
            } else {
                app.stream(.data(ByteView(chunk)), toServer: toServer, flow: &flow, events: &events)
            }
            events.removeAll(keepingCapacity: true)
        }
        app.flowEnded(&flow, events: &events)
    }

    static func intel(_ data: UnsafeRawBufferPointer, file: String) {
        var set = IndicatorSet()
        IndicatorLoader.load(Data(data), file: file, into: &set)
        if let first = set.indicators.first {
            _ = set.match(domain: first.value)
            _ = set.match(first.value, type: first.type)
        }
        _ = set.match(address: IPAddress("10.0.0.1")!)
    }
}

import HNAppLayer
@testable import HNAnomaly
import HNDecode
import HNAlert
import HNFlow

let second: Int64 = 1_000_000_000
let t0: Int64 = 1_793_606_400 * second  // 2026-11-02T08:00:00Z (09:00 in Luxembourg)
let homeNet = ["10.0.0.0/8"].compactMap { CIDR($0) }

func ip(_ s: String) -> IPAddress { IPAddress(s)! }

/// A flow as the flow table hands it to the detectors.
func flow(_ client: String, _ server: String, sport: UInt16 = 40_000, dport: UInt16, proto: UInt8 = 6, start: Int64,
          duration: Int64 = second, toServer: UInt64 = 500, toClient: UInt64 = 500, packets: UInt64 = 5, id: UInt64? = nil,
          handshake: Bool = true) -> Flow {
    var f = Flow()
    f.client = ip(client)
    f.server = ip(server)
    f.clientPort = sport
    f.serverPort = dport
    f.proto = proto
    f.ipVersion = 4
    f.start = start
    f.last = start + duration
    f.bytesToServer = toServer
    f.bytesToClient = toClient
    f.packetsToServer = packets
    f.packetsToClient = packets
    f.id = id ?? UInt64(bitPattern: Int64(start)) &+ UInt64(sport) &* 7919 &+ UInt64(dport)
    if proto == 6 && handshake { f.tcpFlagsToClient = TCPFlags.syn | TCPFlags.ack; f.tcpFlagsToServer = TCPFlags.syn | TCPFlags.ack }
    return f
}

/// The detectors, with what their hooks hand on collected for the tests.
final class Detectors {
    let engine: AnomalyEngine
    var raised: [SecurityAlert] = []
    init(_ engine: AnomalyEngine) { self.engine = engine }
    func flowStarted(_ f: Flow) { engine.flowStarted(f) { self.raised.append($0) } }
    func flowEnded(_ f: Flow) { engine.flowEnded(f) { self.raised.append($0) } }
    func packet(_ p: Packet, flow: Flow?, toServer: Bool) { engine.packet(p, flow: flow, toServer: toServer) { self.raised.append($0) } }
    func appEvent(_ e: AppEvent, flow: Flow, time: Int64) { engine.appEvent(e, flow: flow, time: time) { self.raised.append($0) } }
    func refreshStats() { engine.refreshStats() }
    var stats: AnomalyStats { engine.stats }
}

func engine(_ configure: (inout AnomalySettings) -> Void = { _ in }) -> Detectors {
    var s = AnomalySettings()
    configure(&s)
    return Detectors(AnomalyEngine(settings: s, homeNet: homeNet))
}

/// The sids raised so far, emptying the list.
func take(_ e: Detectors) -> [UInt32] {
    defer { e.raised.removeAll() }
    return e.raised.map(\.sid)
}

/// A packet for the per-packet hooks.
func packet(_ src: String, _ dst: String, proto: UInt8, flags: UInt8 = 0, icmpType: UInt8 = 0, dport: UInt16 = 80, at time: Int64) -> Packet {
    var p = Packet()
    p.timestamp = time
    p.ipVersion = 4
    p.source = ip(src)
    p.destination = ip(dst)
    p.ipProto = proto
    p.tcpFlags = flags
    p.icmpType = icmpType
    p.destinationPort = dport
    p.sourcePort = 40_000
    return p
}

func dnsQuery(_ name: String, type: String = "A") -> AppEvent {
    AppEvent(eventType: "dns", record: .object([("type", .string("request")), ("queries", .array([.object([("rrname", .string(name)), ("rrtype", .string(type))])]))]),
             transactionID: 0, buffers: [], toServer: true)
}

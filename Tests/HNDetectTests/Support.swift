import HNAppLayer
import HNCapGen
@testable import HNDecode
@testable import HNDetect
@testable import HNFlow

/// Parses one rule or fails the test with the parser's message.
func parseRule(_ text: String, variables: RuleVariables = RuleVariables()) throws -> Rule {
    switch RuleParser(variables: variables).parse(text) {
    case .success(let r): return r
    case .failure(let e): throw e
    }
}

func parseError(_ text: String) -> RuleError? {
    if case .failure(let e) = RuleParser().parse(text) { return e }
    return nil
}

/// A decoded TCP packet from 10.0.0.1:1234 to 10.0.0.2:80 carrying `payload`.
func tcpPacket(_ payload: [UInt8], flags: UInt8 = 0x18, sport: UInt16 = 1234, dport: UInt16 = 80,
               src: String = "10.0.0.1", dst: String = "10.0.0.2") -> (Packet, [UInt8]) {
    let s = Frames.ipv4(src), d = Frames.ipv4(dst)
    let l4 = Frames.tcp(src: s, dst: d, sport: sport, dport: dport, seq: 1, ack: 1, flags: flags, payload: payload)
    let frame = Frames.ethernet(src: [2, 0, 0, 0, 0, 1], dst: [2, 0, 0, 0, 0, 2], type: 0x0800,
                                Frames.ipv4Header(src: s, dst: d, proto: 6, id: 1, ttl: 64, payloadLength: l4.count) + l4)
    return (Packet(), frame)
}

/// Decodes `tcpPacket(payload)` and hands it to `body` with flow 1 (established or new), the
/// frame kept alive while `body` runs.
func withTCPPacket<T>(_ payload: [UInt8], flags: UInt8 = 0x18, dport: UInt16 = 80, established: Bool = true,
                      _ body: (Packet, Flow) throws -> T) rethrows -> T {
    let (_, frame) = tcpPacket(payload, flags: flags, dport: dport)
    var decoder = Decoder()
    var packet = Packet()
    packet.captureLength = frame.count
    _ = frame.withUnsafeBytes { decoder.decode(ByteView($0), linkType: 1, into: &packet) }
    var flow = Flow()
    flow.state = established ? .established : .new
    flow.tcpState = established ? .established : .synSent
    flow.proto = 6
    flow.id = 1
    return try frame.withUnsafeBytes { _ in try body(packet, flow) }
}

/// Runs `rules` over one packet (payload as the only buffer) and returns the sids that alerted.
func alerts(_ rules: [String], payload: [UInt8], flags: UInt8 = 0x18, dport: UInt16 = 80,
            established: Bool = true, toServer: Bool = true) throws -> [UInt32] {
    try inspect(rules, payload: payload, flags: flags, dport: dport, established: established, toServer: toServer).sids
}

/// `alerts`, with the number of rules the engine took as candidates for the packet.
func inspect(_ rules: [String], payload: [UInt8], flags: UInt8 = 0x18, dport: UInt16 = 80,
             established: Bool = true, toServer: Bool = true) throws -> (sids: [UInt32], candidates: UInt64) {
    var set = RuleSet()
    for r in rules { set.rules.append(try parseRule(r)) }
    let engine = try DetectionEngine(ruleSet: set)
    var sids: [UInt32] = []
    withTCPPacket(payload, flags: flags, dport: dport, established: established) { packet, flow in
        var buffers = InspectionBuffers()
        if packet.payload.count > 0 { buffers.set(.payload, packet.payload) }
        _ = engine.inspect(packet, packetNumber: 1, flow: flow, flowKey: 1, toServer: toServer, buffers: buffers) { a in
            sids.append(engine.rule(a.ruleIndex).sid)
        }
    }
    return (sids, engine.stats.candidates)
}

func bytes(_ s: String) -> [UInt8] { Array(s.utf8) }

import Testing
@testable import HNDecode
@testable import HNFlow

/// Drives the reassembler with hand-made segments of one connection (client ISN 1000,
/// server ISN 5000) and collects what it delivers per direction.
final class StreamHarness {
    let r: StreamReassembler
    var toServer: [UInt8] = []
    var toClient: [UInt8] = []
    var gaps = 0

    init(inline: Bool = true, perFlowMemcap: Int = 1 << 20, depth: Int = 1 << 20) {
        var limits = StreamReassembler.Limits()
        limits.inline = inline
        limits.perFlowMemcap = perFlowMemcap
        limits.depth = depth
        r = StreamReassembler(limits: limits)
    }

    func send(_ fromClient: Bool, seq: UInt32, _ data: [UInt8], flags: UInt8 = 0x18, ack: UInt32 = 0) {
        data.withUnsafeBytes { raw in
            var p = Packet()
            p.tcpFlags = flags
            p.tcpSeq = seq
            p.tcpAck = ack
            p.payload = ByteView(raw)
            r.segment(slot: 1, toServer: fromClient, packet: p) { chunk, dir in
                switch chunk {
                case .data(let v), .released(let v): if dir { self.toServer += v.rawBuffer } else { self.toClient += v.rawBuffer }
                case .gap: self.gaps += 1
                }
            }
        }
    }

    func handshake() {
        send(true, seq: 999, [], flags: 0x02)
        send(false, seq: 4999, [], flags: 0x12, ack: 1000)
        send(true, seq: 1000, [], flags: 0x10, ack: 5000)
    }
}

@Suite struct StreamReassemblerTests {
    let text = Array("The quick brown fox jumps over the lazy dog".utf8)

    @Test func inOrderSegmentsAreDelivered() {
        let h = StreamHarness()
        h.handshake()
        h.send(true, seq: 1000, Array(text[0..<10]))
        h.send(true, seq: 1010, Array(text[10...]))
        #expect(h.toServer == text)
    }

    @Test func dataOnTheSYNIsTheStreamsStart() {
        // TCP Fast Open (RFC 7413): the request rides on the SYN; the next segment follows it.
        let h = StreamHarness()
        h.send(true, seq: 999, Array(text[0..<10]), flags: 0x02)
        h.send(false, seq: 4999, [], flags: 0x12, ack: 1010)
        h.send(true, seq: 1010, Array(text[10...]), flags: 0x18, ack: 5000)
        #expect(h.toServer == text)
    }

    @Test func outOfOrderSegmentsWaitForTheGapToFill() {
        let h = StreamHarness()
        h.handshake()
        h.send(true, seq: 1020, Array(text[20...]))
        h.send(true, seq: 1010, Array(text[10..<20]))
        #expect(h.toServer.isEmpty)
        h.send(true, seq: 1000, Array(text[0..<10]))
        #expect(h.toServer == text)
        #expect(h.r.stats.outOfOrder == 2)
        #expect(h.r.memoryUsed == 0)
    }

    @Test func overlappingDataKeepsTheFirstCopy() {
        let h = StreamHarness()
        h.handshake()
        h.send(true, seq: 1000, Array(text[0..<10]))
        // A retransmission that overlaps with different bytes: the first copy wins.
        h.send(true, seq: 1005, Array("XXXXXXXXXX".utf8) + Array(text[15...]))
        #expect(h.toServer == Array(text[0..<10]) + Array("XXXXX".utf8) + Array(text[15...]))
        #expect(h.r.stats.overlaps == 1)
    }

    @Test func retransmissionsAreIgnored() {
        let h = StreamHarness()
        h.handshake()
        h.send(true, seq: 1000, text)
        h.send(true, seq: 1000, text)
        #expect(h.toServer == text)
        #expect(h.r.stats.retransmissions == 1)
    }

    @Test func idsModeDeliversOnAcknowledgement() {
        let h = StreamHarness(inline: false)
        h.handshake()
        h.send(true, seq: 1000, text)
        #expect(h.toServer.isEmpty)
        h.send(false, seq: 5000, [], flags: 0x10, ack: 1010)
        #expect(h.toServer == Array(text[0..<10]))
        h.send(false, seq: 5000, [], flags: 0x10, ack: 1000 + UInt32(text.count))
        #expect(h.toServer == text)
    }

    @Test func acknowledgedButUnseenDataIsAGap() {
        let h = StreamHarness()
        h.handshake()
        h.send(true, seq: 1000, Array(text[0..<10]))
        // Bytes 10..<20 were lost in capture; the server acknowledges them.
        h.send(false, seq: 5000, [], flags: 0x10, ack: 1020)
        #expect(h.r.stats.gaps == 1)
        h.send(true, seq: 1020, Array(text[20...]))
        #expect(h.toServer == Array(text[0..<10]) + Array(text[20...]))
    }

    @Test(arguments: [true, false])
    func aGapArrivesAsAChunkInItsPlace(inline: Bool) {
        // Bytes 10..<20 are lost, 20..<30 arrive early and are held; the server's ACK of 30
        // shows the loss: in IDS mode the bytes before it (waiting for acknowledgement) are
        // released first, then comes the gap of 10 bytes, then the held bytes its skip made
        // deliverable. Inline, the bytes before it went on when they arrived.
        var order: [String] = []
        let h = StreamHarness(inline: inline)
        h.handshake()
        h.send(true, seq: 1000, Array(text[0..<10]))
        h.send(true, seq: 1020, Array(text[20..<30]))
        var p = Packet()
        p.tcpFlags = 0x10
        p.tcpSeq = 5000
        p.tcpAck = 1030
        h.r.segment(slot: 1, toServer: false, packet: p) { chunk, toServer in
            switch chunk {
            case .data(let v): order.append("data \(v.count) \(toServer)")
            case .released(let v): order.append("released \(v.count) \(toServer)")
            case .gap(let n): order.append("gap \(n) \(toServer)")
            }
        }
        #expect(order == (inline ? [] : ["released 10 true"]) + ["gap 10 true", "released 10 true"])
    }

    @Test func outOfOrderDataIsCappedPerFlow() {
        let h = StreamHarness(perFlowMemcap: 16)
        h.handshake()
        h.send(true, seq: 1100, [UInt8](repeating: 1, count: 10))
        h.send(true, seq: 1200, [UInt8](repeating: 2, count: 10))
        #expect(h.r.stats.memcapDrops == 1)
        #expect(h.r.memoryUsed == 10)
        h.r.flowEnded(slot: 1)
        #expect(h.r.memoryUsed == 0)
    }

    @Test func depthStopsDeliveryButNotTracking() {
        let h = StreamHarness(depth: 12)
        h.handshake()
        h.send(true, seq: 1000, text)
        #expect(h.toServer == Array(text[0..<12]))
        #expect(h.r.stats.depthReached == 1)
    }

    @Test func midstreamPickupStartsAtTheFirstSegment() {
        let h = StreamHarness()
        h.send(true, seq: 77_000, text)
        #expect(h.toServer == text)
    }

    @Test func sequenceNumbersWrapAround() {
        let h = StreamHarness()
        h.send(true, seq: UInt32.max - 4, [], flags: 0x02)
        h.send(true, seq: UInt32.max - 3, Array(text[0..<10]))
        h.send(true, seq: UInt32.max - 3 &+ 10, Array(text[10...]))
        #expect(h.toServer == text)
    }
}

import Testing
@testable import HNDecode
@testable import HNFlow

/// Builds decoded packets directly: the flow table only reads `Packet` fields.
func packet(_ src: String, _ sport: UInt16, _ dst: String, _ dport: UInt16, proto: UInt8 = 6,
            flags: UInt8 = 0, at seconds: Double, length: Int = 60) -> Packet {
    var p = Packet()
    p.timestamp = Int64(seconds * 1e9)
    p.captureLength = length
    p.wireLength = length
    p.ipVersion = 4
    p.source = IPAddress(src)!
    p.destination = IPAddress(dst)!
    p.ipProto = proto
    p.sourcePort = sport
    p.destinationPort = dport
    p.tcpFlags = flags
    p.hasTransport = true
    return p
}

final class Ended {
    var flows: [(Flow, FlowEndReason)] = []
    func callAsFunction(_ f: Flow, _ r: FlowEndReason) { flows.append((f, r)) }
}

let syn = TCPFlags.syn, ack = TCPFlags.ack, fin = TCPFlags.fin, rst = TCPFlags.rst, psh = TCPFlags.psh

@Suite struct FlowTableTests {
    @Test func bothDirectionsLandInOneFlowWithPerDirectionCounters() {
        let table = FlowTable()
        let ended = Ended()
        let a = table.track(packet("10.0.0.1", 1234, "10.0.0.2", 80, flags: syn, at: 1), onEnd: ended.callAsFunction)
        let b = table.track(packet("10.0.0.2", 80, "10.0.0.1", 1234, flags: syn | ack, at: 1.001, length: 70), onEnd: ended.callAsFunction)
        let c = table.track(packet("10.0.0.1", 1234, "10.0.0.2", 80, flags: ack, at: 1.002), onEnd: ended.callAsFunction)
        #expect(a?.position == b?.position && b?.position == c?.position)
        #expect(a?.created == true && b?.created == false)
        #expect(b?.direction == .toClient && c?.direction == .toServer)
        let f = table[a!.position]
        #expect(f.packetsToServer == 2 && f.packetsToClient == 1)
        #expect(f.bytesToServer == 120 && f.bytesToClient == 70)
        #expect(f.tcpState == .established && f.state == .established)
        #expect(f.client.description == "10.0.0.1" && f.serverPort == 80)
        #expect(table.activeFlows == 1)
    }

    @Test func firstSynAckMakesItsSenderTheServer() {
        let table = FlowTable()
        let t = table.track(packet("10.0.0.2", 80, "10.0.0.1", 1234, flags: syn | ack, at: 1), onEnd: { _, _ in })
        let f = table[t!.position]
        #expect(f.client.description == "10.0.0.1" && f.clientPort == 1234)
        #expect(f.packetsToClient == 1 && f.packetsToServer == 0)
        #expect(t?.direction == .toClient)
    }

    @Test func finExchangeClosesAndResetCloses() {
        let table = FlowTable()
        let ended = Ended()
        let seq: [(Bool, UInt8)] = [(true, syn), (false, syn | ack), (true, ack), (true, psh | ack), (true, fin | ack), (false, fin | ack), (true, ack)]
        var position = 0
        for (i, (toServer, flags)) in seq.enumerated() {
            let p = toServer ? packet("10.0.0.1", 1, "10.0.0.2", 2, flags: flags, at: Double(i)) : packet("10.0.0.2", 2, "10.0.0.1", 1, flags: flags, at: Double(i))
            position = table.track(p, onEnd: ended.callAsFunction)!.position
            // The client closes first: Suricata's names, from the server's side.
            if i == 4 { #expect(table[position].tcpState == .closeWait) }
            if i == 5 { #expect(table[position].tcpState == .lastAck) }
        }
        #expect(table[position].tcpState == .closed && table[position].state == .closed)

        let r = table.track(packet("10.0.0.3", 5, "10.0.0.4", 6, flags: syn, at: 10), onEnd: ended.callAsFunction)!
        _ = table.track(packet("10.0.0.4", 6, "10.0.0.3", 5, flags: rst | ack, at: 10.1), onEnd: ended.callAsFunction)
        #expect(table[r.position].tcpState == .closed && table[r.position].reset && table[r.position].state == .closed)

        // The server closes first: fin_wait1, fin_wait2 once the client acknowledges, then
        // time_wait with the client's FIN and closed with the server's last ACK.
        let s = table.track(packet("10.0.0.5", 7, "10.0.0.6", 8, flags: syn, at: 20), onEnd: ended.callAsFunction)!
        var states: [TCPState] = []
        for (toServer, flags) in [(false, syn | ack), (true, ack), (false, fin | ack), (true, ack), (true, fin | ack), (false, ack)] {
            let p = toServer ? packet("10.0.0.5", 7, "10.0.0.6", 8, flags: flags, at: 21) : packet("10.0.0.6", 8, "10.0.0.5", 7, flags: flags, at: 21)
            _ = table.track(p, onEnd: ended.callAsFunction)
            states.append(table[s.position].tcpState)
        }
        #expect(states == [.synReceived, .established, .finWait1, .finWait2, .timeWait, .closed])
    }

    @Test func midstreamPickupIsOffByDefault() {
        let table = FlowTable()
        let t = table.track(packet("10.0.0.1", 1, "10.0.0.2", 2, flags: psh | ack, at: 1), onEnd: { _, _ in })!
        _ = table.track(packet("10.0.0.2", 2, "10.0.0.1", 1, flags: ack, at: 1.1), onEnd: { _, _ in })
        #expect(table[t.position].tcpState == .none)
        #expect(table[t.position].state == .new)
    }

    @Test func midstreamPickupIsEstablishedAndMarked() {
        let table = FlowTable(midstream: true)
        let t = table.track(packet("10.0.0.1", 1, "10.0.0.2", 2, flags: psh | ack, at: 1), onEnd: { _, _ in })!
        #expect(table[t.position].tcpState == .established)
        #expect(table[t.position].midstream)
    }

    @Test func idleFlowsExpireByPacketTimeWithTheirStateTimeout() {
        var timeouts = FlowTimeouts()
        timeouts.udp = .init(new: 30, established: 300, closed: 0)
        let table = FlowTable(timeouts: timeouts)
        let ended = Ended()
        _ = table.track(packet("10.0.0.1", 1, "10.0.0.2", 53, proto: 17, at: 100), onEnd: ended.callAsFunction)  // new: 30 s
        _ = table.track(packet("10.0.0.3", 1, "10.0.0.4", 53, proto: 17, at: 100), onEnd: ended.callAsFunction)
        _ = table.track(packet("10.0.0.4", 53, "10.0.0.3", 1, proto: 17, at: 100.5), onEnd: ended.callAsFunction)  // established: 300 s
        // Just before the 30 s timeout nothing ends.
        table.advance(to: 129_000_000_000, onEnd: ended.callAsFunction)
        #expect(ended.flows.isEmpty)
        // After it (the wheel works in whole seconds: within one second of the timeout).
        table.advance(to: 132_000_000_000, onEnd: ended.callAsFunction)
        #expect(ended.flows.count == 1)
        #expect(ended.flows.first?.0.client.description == "10.0.0.1")
        #expect(ended.flows.first?.1 == .timeout)
        table.advance(to: 399_000_000_000, onEnd: ended.callAsFunction)
        #expect(ended.flows.count == 1)
        table.advance(to: 402_000_000_000, onEnd: ended.callAsFunction)
        #expect(ended.flows.count == 2)
        #expect(table.activeFlows == 0)
        #expect(table.stats.timedOut == 2)
    }

    @Test func trafficKeepsAFlowAliveAcrossManyWheelTurns() {
        let table = FlowTable()
        let ended = Ended()
        // One packet every 25 s for 10,000 s (two and a half turns of the 4,096 s wheel):
        // the UDP new timeout is 30 s, established 300 s.
        for i in 0..<400 {
            let p = i % 2 == 0 ? packet("10.0.0.1", 1, "10.0.0.2", 2, proto: 17, at: Double(i * 25)) : packet("10.0.0.2", 2, "10.0.0.1", 1, proto: 17, at: Double(i * 25))
            _ = table.track(p, onEnd: ended.callAsFunction)
        }
        #expect(ended.flows.isEmpty)
        table.advance(to: Int64(400 * 25 + 400) * 1_000_000_000, onEnd: ended.callAsFunction)
        #expect(ended.flows.count == 1)
        #expect(ended.flows.first?.0.packetsToServer == 200 && ended.flows.first?.0.packetsToClient == 200)
    }

    @Test func closingATCPConnectionShortensItsTimeout() {
        let table = FlowTable()
        let ended = Ended()
        _ = table.track(packet("10.0.0.1", 1, "10.0.0.2", 2, flags: psh | ack, at: 1), onEnd: ended.callAsFunction)
        _ = table.track(packet("10.0.0.1", 1, "10.0.0.2", 2, flags: rst, at: 2), onEnd: ended.callAsFunction)
        // Established would be 600 s; closed is 60 s.
        table.advance(to: 70_000_000_000, onEnd: ended.callAsFunction)
        #expect(ended.flows.count == 1)
    }

    @Test func memcapEvictsTheFlowNearestItsTimeoutAndCountsIt() {
        let table = FlowTable(memcap: 16 * FlowTable.bytesPerFlow)
        #expect(table.maxFlows == 16)
        let ended = Ended()
        for i in 0..<40 {
            _ = table.track(packet("10.0.0.1", UInt16(1000 + i), "10.0.0.2", 80, flags: syn, at: 1 + Double(i) * 0.01), onEnd: ended.callAsFunction)
        }
        #expect(table.activeFlows == 16)
        #expect(table.stats.evicted == 24)
        #expect(ended.flows.allSatisfy { $0.1 == .forced })
        // The oldest were evicted first.
        #expect(ended.flows.first?.0.clientPort == 1000)
    }

    @Test func synOnAClosedTupleStartsANewFlow() {
        let table = FlowTable()
        let ended = Ended()
        _ = table.track(packet("10.0.0.1", 1, "10.0.0.2", 2, flags: syn, at: 1), onEnd: ended.callAsFunction)
        _ = table.track(packet("10.0.0.2", 2, "10.0.0.1", 1, flags: rst | ack, at: 1.1), onEnd: ended.callAsFunction)
        let again = table.track(packet("10.0.0.1", 1, "10.0.0.2", 2, flags: syn, at: 2), onEnd: ended.callAsFunction)
        #expect(again?.created == true)
        #expect(ended.flows.count == 1 && ended.flows[0].1 == .tcpReuse)
        #expect(table.activeFlows == 1)
    }

    @Test func flushEndsEveryFlowOldestFirst() {
        let table = FlowTable()
        let ended = Ended()
        for i in (0..<5).reversed() {
            _ = table.track(packet("10.0.0.\(i + 1)", 1, "10.0.0.100", 2, proto: 17, at: Double(10 - i)), onEnd: ended.callAsFunction)
        }
        table.flush(onEnd: ended.callAsFunction)
        #expect(ended.flows.map { $0.0.start } == ended.flows.map { $0.0.start }.sorted())
        #expect(ended.flows.allSatisfy { $0.1 == .shutdown })
        #expect(table.activeFlows == 0)
    }

    /// Inserts and expires many flows with a deterministic pattern and checks the index
    /// against the set of live flows after every step (backward-shift deletion).
    @Test func indexStaysConsistentUnderChurn() {
        var timeouts = FlowTimeouts()
        timeouts.udp = .init(new: 2, established: 2, closed: 0)
        let table = FlowTable(timeouts: timeouts, memcap: 300 * FlowTable.bytesPerFlow, seed: 7)
        var live: [UInt16: Int64] = [:]
        var x: UInt64 = 1
        var t = 0.0
        for step in 0..<20_000 {
            x = x &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            let port = UInt16(truncatingIfNeeded: x >> 40) % 700
            t = Double(step) * 0.01
            let result = table.track(packet("10.1.0.1", port, "10.1.0.2", 53, proto: 17, at: t), onEnd: { f, _ in
                live.removeValue(forKey: f.clientPort)
            })
            #expect(result != nil)
            live[port] = Int64(t * 1e9)
            if step % 1000 == 0 { #expect(table.activeFlows == live.count) }
        }
        #expect(table.activeFlows == live.count)
        // Every live flow is still found (a lookup creates nothing new).
        let before = table.stats.created
        for port in live.keys {
            _ = table.track(packet("10.1.0.1", port, "10.1.0.2", 53, proto: 17, at: t), onEnd: { _, _ in })
        }
        #expect(table.stats.created == before)
    }

    @Test func flowIDIsDeterministic() {
        let a = FlowTable(seed: 1), b = FlowTable(seed: 2)
        let p = packet("10.0.0.1", 1, "10.0.0.2", 2, proto: 17, at: 5)
        let ia = a[a.track(p, onEnd: { _, _ in })!.position].id
        let ib = b[b.track(p, onEnd: { _, _ in })!.position].id
        #expect(ia == ib)
        #expect(ia < 1 << 51)
    }

    @Test func flowRecordStaysSmall() {
        #expect(FlowTable.bytesPerFlow <= 512)
        // The small fields pack into the padding: adding one must not grow the record.
        #expect(MemoryLayout<Flow>.stride == 144)
    }
}

@Suite struct ICMPErrorFlowTests {
    @Test func anICMPErrorAboutATrackedFlowsPacketCountsInThatFlowTowardItsSender() {
        let table = FlowTable()
        let ended = Ended()
        let t = table.track(packet("10.10.1.4", 1470, "74.53.140.153", 25, flags: syn, at: 1), onEnd: ended.callAsFunction)
        // "Need to frag" from a router, quoting the client's segment (IPv4 header, then ports).
        var quoted: [UInt8] = [0x45, 0, 0x05, 0xDC, 0, 0, 0x40, 0, 126, 6, 0, 0, 10, 10, 1, 4, 74, 53, 140, 153]
        quoted += [0x05, 0xBE, 0, 25, 0, 0, 0, 0]
        var icmp = packet("192.168.1.1", 0, "10.10.1.4", 0, proto: IPProto.icmp, at: 2, length: 590)
        icmp.icmpType = 3
        icmp.icmpCode = 4
        let e = quoted.withUnsafeBytes { raw -> FlowTable.Tracked? in
            icmp.payload = ByteView(raw)
            return table.track(icmp, onEnd: ended.callAsFunction)
        }
        #expect(e?.position == t?.position && e?.direction == .toClient && e?.created == false)
        let f = table[t!.position]
        #expect(f.packetsToClient == 1 && f.bytesToClient == 590 && table.activeFlows == 1)
        // An error quoting no tracked flow is a flow of its own.
        quoted[19] = 154
        let other = quoted.withUnsafeBytes { raw -> FlowTable.Tracked? in
            icmp.payload = ByteView(raw)
            return table.track(icmp, onEnd: ended.callAsFunction)
        }
        #expect(other?.created == true && table.activeFlows == 2)
    }
}

@Suite struct ESPFlowTests {
    @Test func eachSecurityAssociationIsAFlowOfItsOwn() {
        let table = FlowTable()
        let ended = Ended()
        func esp(_ spi: UInt32, to destination: String) -> Packet {
            var p = packet("190.0.0.1", 0, destination, 0, proto: IPProto.esp, at: 1)
            p.espSPI = spi
            return p
        }
        let a = table.track(esp(123, to: "190.0.0.2"), onEnd: ended.callAsFunction)
        let b = table.track(esp(321, to: "190.0.0.2"), onEnd: ended.callAsFunction)
        let c = table.track(esp(123, to: "190.0.0.2"), onEnd: ended.callAsFunction)
        #expect(a?.position != b?.position && a?.position == c?.position && table.activeFlows == 2)
        let f = table[a!.position]
        #expect(Int(f.clientPort) << 16 | Int(f.serverPort) == 123 && f.packetsToServer == 2)
    }
}

@Suite struct ICMPQueryFlowTests {
    func icmp(_ src: String, _ dst: String, type: UInt8, depth: UInt8 = 0) -> Packet {
        var p = packet(src, 0, dst, 0, proto: IPProto.icmp, at: 1)
        p.icmpType = type
        p.tunnelDepth = depth
        return p
    }

    @Test func anEchoReplyJoinsItsRequestAndAStrayReplyOrATunnelledCopyIsAFlowOfItsOwn() {
        let table = FlowTable()
        let ended = Ended()
        let request = table.track(icmp("1.1.1.1", "2.2.2.2", type: 8), onEnd: ended.callAsFunction)
        let reply = table.track(icmp("2.2.2.2", "1.1.1.1", type: 0), onEnd: ended.callAsFunction)
        #expect(reply?.position == request?.position && reply?.direction == .toClient)
        // A reply from the asker's side answers no request of this flow.
        let stray = table.track(icmp("1.1.1.1", "2.2.2.2", type: 0), onEnd: ended.callAsFunction)
        #expect(stray?.created == true && stray?.direction == .toServer)
        // The same request inside a tunnel is another flow.
        let tunnelled = table.track(icmp("1.1.1.1", "2.2.2.2", type: 8, depth: 1), onEnd: ended.callAsFunction)
        #expect(tunnelled?.created == true && table.activeFlows == 3)
        #expect(table[tunnelled!.position].tunnelDepth == 1)
    }
}

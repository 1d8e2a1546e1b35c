import Foundation
import HNCapGen
import HNDecode
import HNDetect
import Testing
@testable import HNSensor

/// Floods of hostile traffic fed straight to the pipeline: each is bounded by its cap and
/// counted, and the pipeline keeps going.
@Suite struct FloodTests {
    static let t0: Int64 = 1_793_606_400 * 1_000_000_000
    static let mac: [UInt8] = [2, 0, 0, 0, 0, 1]

    static func ipv4(_ a: UInt32) -> [UInt8] { [UInt8(a >> 24), UInt8(a >> 16 & 255), UInt8(a >> 8 & 255), UInt8(a & 255)] }

    static func tcpFrame(src: [UInt8], dst: [UInt8], sport: UInt16, dport: UInt16, seq: UInt32, ack: UInt32, flags: UInt8, payload: [UInt8] = []) -> [UInt8] {
        let l4 = Frames.tcp(src: src, dst: dst, sport: sport, dport: dport, seq: seq, ack: ack, flags: flags, payload: payload)
        return Frames.ethernet(src: mac, dst: mac, type: 0x0800, Frames.ipv4Header(src: src, dst: dst, proto: 6, id: 1, ttl: 64, payloadLength: l4.count) + l4)
    }

    static func feed(_ p: Pipeline, _ frame: [UInt8], at t: Int64) {
        frame.withUnsafeBytes { p.process($0, timestamp: t, captureLength: frame.count, wireLength: frame.count, linkType: 1) }
    }

    @Test func synFloodFromRandomSourcesStaysUnderTheFlowCap() throws {
        var config = SensorConfig()
        config.flowMemcap = 4 << 20
        let engines = try SensorEngines.build(rulesPath: repositoryRoot.appendingPathComponent("Rules").path, config: config)
        let p = Pipeline(config: config, eve: nil, detection: engines.detection, intel: engines.intel, anomalies: engines.anomalies)
        var random = SeededRandom(seed: 0x5F10)
        let server = Frames.ipv4("10.20.2.80")
        let count = 200_000
        for i in 0..<count {
            let src = FloodTests.ipv4(UInt32(truncatingIfNeeded: random.next()) | 0x0100_0000)
            FloodTests.feed(p, FloodTests.tcpFrame(src: src, dst: server, sport: UInt16(truncatingIfNeeded: random.next()) | 1024, dport: 443,
                                                   seq: UInt32(truncatingIfNeeded: random.next()), ack: 0, flags: 0x02), at: FloodTests.t0 + Int64(i) * 100_000)
        }
        #expect(p.flows.activeFlows <= p.flows.maxFlows)
        #expect(p.flows.stats.evicted > 0)
        #expect(p.flows.stats.created == UInt64(count))
        let floods = p.anomalies?.stats.alerts ?? 0
        #expect(floods >= 1 && floods <= 4)  // one per 10 s window of the 20 s flood
        p.anomalies?.refreshStats()
        #expect((p.anomalies?.stats.trackedKeys ?? 0) <= 11 * (p.anomalies?.settings.maxTrackedKeys ?? 0))
    }

    @Test func fragmentsThatNeverCompleteStayUnderTheDefragMemcap() throws {
        var config = SensorConfig()
        config.defrag.memcap = 1 << 20
        let p = Pipeline(config: config, eve: nil)
        let src = Frames.ipv4("198.51.100.9"), dst = Frames.ipv4("10.20.2.80")
        for i in 0..<20_000 {
            var ip = Frames.ipv4Header(src: src, dst: dst, proto: 17, id: UInt16(truncatingIfNeeded: i), ttl: 64, payloadLength: 1400)
            ip[6] = 0x20  // more fragments, offset 0: a first fragment whose rest never comes
            let frame = Frames.ethernet(src: FloodTests.mac, dst: FloodTests.mac, type: 0x0800, ip + [UInt8](repeating: 0x41, count: 1400))
            FloodTests.feed(p, frame, at: FloodTests.t0 + Int64(i) * 1000)
        }
        #expect(p.decoder.defragmenter.memoryUsed <= 1 << 20)
        #expect(p.decoder.stats[.defragMemcapReached] > 0)
        #expect(p.decoder.stats.decoded + p.decoder.stats.rejected == p.decoder.stats.packets)
    }

    @Test func outOfOrderSegmentsThatNeverFillAreCapped() throws {
        let p = Pipeline(config: SensorConfig(), eve: nil)
        let server = Frames.ipv4("10.20.2.80")
        let chunk = [UInt8](repeating: 0x42, count: 1000)
        var t = FloodTests.t0
        for flow in 0..<300 {
            let client = FloodTests.ipv4(0xC633_6400 + UInt32(flow))  // 198.51.100.x and on
            let sport = UInt16(30_000 + flow)
            FloodTests.feed(p, FloodTests.tcpFrame(src: client, dst: server, sport: sport, dport: 80, seq: 1000, ack: 0, flags: 0x02), at: t)
            FloodTests.feed(p, FloodTests.tcpFrame(src: server, dst: client, sport: 80, dport: sport, seq: 5000, ack: 1001, flags: 0x12), at: t + 1)
            FloodTests.feed(p, FloodTests.tcpFrame(src: client, dst: server, sport: sport, dport: 80, seq: 1001, ack: 5001, flags: 0x10), at: t + 2)
            // A hole of one byte at the start that is never filled; 300 KB queued behind it.
            for k in 0..<300 {
                FloodTests.feed(p, FloodTests.tcpFrame(src: client, dst: server, sport: sport, dport: 80, seq: 1002 + UInt32(k * 1000), ack: 5001,
                                                       flags: 0x18, payload: chunk), at: t + 3 + Int64(k))
            }
            t += 1_000_000
        }
        #expect(p.streams.memoryUsed <= 64 << 20)
        #expect(p.streams.stats.memcapDrops > 0)
    }

    @Test func dataNeverAcknowledgedIsHandedOnAtTheMemcap() throws {
        var config = SensorConfig()
        config.streamDepth = 1 << 20
        let p = Pipeline(config: config, eve: nil)
        let server = Frames.ipv4("10.20.2.80")
        let chunk = [UInt8](repeating: 0x43, count: 1400)
        var t = FloodTests.t0
        // 100 connections each sending 800 KB in order that the server never acknowledges.
        for flow in 0..<100 {
            let client = FloodTests.ipv4(0xC633_6400 + UInt32(flow))
            let sport = UInt16(40_000 + flow)
            FloodTests.feed(p, FloodTests.tcpFrame(src: client, dst: server, sport: sport, dport: 80, seq: 1000, ack: 0, flags: 0x02), at: t)
            FloodTests.feed(p, FloodTests.tcpFrame(src: server, dst: client, sport: 80, dport: sport, seq: 5000, ack: 1001, flags: 0x12), at: t + 1)
            for k in 0..<580 {
                FloodTests.feed(p, FloodTests.tcpFrame(src: client, dst: server, sport: sport, dport: 80, seq: 1001 + UInt32(k * 1400), ack: 5001,
                                                       flags: 0x10, payload: chunk), at: t + 2 + Int64(k))
            }
            t += 1_000_000
        }
        #expect(p.streams.unackedUsed <= 64 << 20)
        #expect(p.streams.stats.unackedForced > 0)
    }

    @Test func aMegabyteHTTPHeaderIsBounded() throws {
        let engines = try SensorEngines.build(rulesPath: repositoryRoot.appendingPathComponent("Rules").path, config: SensorConfig())
        let p = Pipeline(config: SensorConfig(), eve: nil, detection: engines.detection, intel: engines.intel, anomalies: engines.anomalies)
        let client = Frames.ipv4("198.51.100.9"), server = Frames.ipv4("10.20.2.80")
        FloodTests.feed(p, FloodTests.tcpFrame(src: client, dst: server, sport: 50_000, dport: 80, seq: 100, ack: 0, flags: 0x02), at: FloodTests.t0)
        FloodTests.feed(p, FloodTests.tcpFrame(src: server, dst: client, sport: 80, dport: 50_000, seq: 900, ack: 101, flags: 0x12), at: FloodTests.t0 + 1)
        var request = Array("GET / HTTP/1.1\r\nHost: portal\r\nX-Long: ".utf8)
        request += [UInt8](repeating: 0x61, count: 4 << 20)
        var seq: UInt32 = 101, offset = 0, t = FloodTests.t0 + 2
        while offset < request.count {
            let piece = Array(request[offset..<min(offset + 1400, request.count)])
            FloodTests.feed(p, FloodTests.tcpFrame(src: client, dst: server, sport: 50_000, dport: 80, seq: seq, ack: 901, flags: 0x18, payload: piece), at: t)
            seq &+= UInt32(piece.count)
            offset += piece.count
            FloodTests.feed(p, FloodTests.tcpFrame(src: server, dst: client, sport: 80, dport: 50_000, seq: 901, ack: seq, flags: 0x10), at: t + 1)
            t += 10
        }
        p.finish()
        // The reassembler stopped at its depth and the parser kept going without growing.
        #expect(p.streams.stats.depthReached > 0)
        #expect(p.decoder.stats.packets > 5_000)
    }

    @Test func aCatastrophicRegularExpressionHitsItsLimitAndMovesOn() throws {
        var set = RuleSet()
        guard case .success(let rule) = RuleParser().parse(#"alert tcp any any -> any any (msg:"redos"; pcre:"/^(a+)+$/"; sid:1; rev:1;)"#) else {
            Issue.record("the rule did not parse")
            return
        }
        set.rules.append(rule)
        let p = Pipeline(config: SensorConfig(), eve: nil, detection: try DetectionEngine(ruleSet: set))
        let payload = [UInt8](repeating: 0x61, count: 1000) + [0x21]
        for i in 0..<200 {
            FloodTests.feed(p, FloodTests.tcpFrame(src: Frames.ipv4("198.51.100.9"), dst: Frames.ipv4("10.20.2.80"), sport: 50_000, dport: 80,
                                                   seq: 100 + UInt32(i * 1001), ack: 1, flags: 0x18, payload: payload), at: FloodTests.t0 + Int64(i))
        }
        #expect(p.detection!.pcreLimitHits > 0)
        #expect(p.alerts == 0)
    }
}

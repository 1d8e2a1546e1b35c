import HNAlert
import HNAppLayer
import Testing
@testable import HNDecode
@testable import HNDetect
@testable import HNFlow

/// For each keyword: a packet that matches and a near miss that must not.
@Suite struct KeywordMatchTests {
    let get = bytes("GET /index.php?id=1 HTTP/1.1\r\nHost: a\r\n\r\n")

    @Test func contentWithDepthAndOffset() throws {
        #expect(try alerts([#"alert tcp any any -> any any (content:"GET"; depth:3; sid:1;)"#], payload: get) == [1])
        #expect(try alerts([#"alert tcp any any -> any any (content:"/index"; depth:5; sid:1;)"#], payload: get).isEmpty)
        #expect(try alerts([#"alert tcp any any -> any any (content:"/index"; offset:4; depth:6; sid:1;)"#], payload: get) == [1])
        #expect(try alerts([#"alert tcp any any -> any any (content:"/index"; offset:5; sid:1;)"#], payload: get).isEmpty)
    }

    @Test func pcreSearchesOnWhenALaterRelativeItemFails() throws {
        // The first "super" is too far from "nova"; the second one is near enough.
        let payload = Array("a_super_duper_nova_in_super_nova".utf8)
        #expect(try alerts(["alert tcp any any -> any any (pcre:\"/super/\"; content:\"nova\"; within:7; sid:1;)"], payload: payload) == [1])
        #expect(try alerts(["alert tcp any any -> any any (pcre:\"/super/\"; content:\"nova\"; within:4; sid:1;)"], payload: payload) == [])
    }

    @Test func appLayerProtocolDecidesNothingBeforeTheProtocolIsKnown() throws {
        // The helper's flow has no protocol yet: neither the protocol nor its negation matches.
        #expect(try alerts(["alert tcp any any -> any any (app-layer-protocol:!http; sid:1;)"], payload: [1]) == [])
        #expect(try alerts(["alert tcp any any -> any any (app-layer-protocol:http1,final; sid:1;)"], payload: [1]) == [])
        #expect(throws: (any Error).self) { try parseRule("alert tcp any any -> any any (app-layer-protocol:http,sideways; sid:1;)") }
    }

    @Test func nocaseMatchesAnyCase() throws {
        #expect(try alerts([#"alert tcp any any -> any any (content:"host:"; nocase; sid:1;)"#], payload: get) == [1])
        #expect(try alerts([#"alert tcp any any -> any any (content:"host:"; sid:1;)"#], payload: get).isEmpty)
    }

    @Test func distanceAndWithinAreRelativeToThePreviousMatch() throws {
        let p = bytes("AllWorkAndNoPlayMakesWill A DullBoy")
        #expect(try alerts([#"alert tcp any any -> any any (content:"AllWorkAndNoPlayMakesWill"; content:"DullBoy"; distance:3; within:7; sid:1;)"#], payload: p) == [1])
        #expect(try alerts([#"alert tcp any any -> any any (content:"AllWorkAndNoPlayMakesWill"; content:"DullBoy"; distance:1; within:7; sid:1;)"#], payload: p).isEmpty)
    }

    @Test func backtrackingFindsALaterAnchor() throws {
        // The first "ab" is not followed by "cd" within 2 bytes; the second one is.
        let p = bytes("ab....abcd")
        #expect(try alerts([#"alert tcp any any -> any any (content:"ab"; content:"cd"; distance:0; within:2; sid:1;)"#], payload: p) == [1])
    }

    @Test func negatedContent() throws {
        #expect(try alerts([#"alert tcp any any -> any any (content:"GET"; content:!"POST"; sid:1;)"#], payload: get) == [1])
        #expect(try alerts([#"alert tcp any any -> any any (content:"GET"; content:!"Host"; sid:1;)"#], payload: get).isEmpty)
    }

    @Test func startswithAndEndswith() throws {
        #expect(try alerts([#"alert tcp any any -> any any (content:"GET /"; startswith; content:"|0d 0a 0d 0a|"; endswith; sid:1;)"#], payload: get) == [1])
        #expect(try alerts([#"alert tcp any any -> any any (content:"index"; startswith; sid:1;)"#], payload: get).isEmpty)
        #expect(try alerts([#"alert tcp any any -> any any (content:"Host"; endswith; sid:1;)"#], payload: get).isEmpty)
    }

    @Test func pcreWithRelativeAndCaseFlags() throws {
        #expect(try alerts([#"alert tcp any any -> any any (content:"GET"; pcre:"/^\s+\/index\.php\?id=\d+/R"; sid:1;)"#], payload: get) == [1])
        #expect(try alerts([#"alert tcp any any -> any any (pcre:"/HOST: A/i"; sid:1;)"#], payload: get) == [1])
        #expect(try alerts([#"alert tcp any any -> any any (pcre:"/HOST: A/"; sid:1;)"#], payload: get).isEmpty)
        #expect(try alerts([#"alert tcp any any -> any any (content:"GET"; pcre:!"/POST/"; sid:1;)"#], payload: get) == [1])
    }

    @Test func byteTestAndByteJump() throws {
        // length(2, big endian) = 4, then 4 bytes, then "OK"
        let p: [UInt8] = [0x00, 0x04, 0x41, 0x42, 0x43, 0x44, 0x4F, 0x4B]
        #expect(try alerts(["alert tcp any any -> any any (byte_test:2,=,4,0; sid:1;)"], payload: p) == [1])
        #expect(try alerts(["alert tcp any any -> any any (byte_test:2,>,4,0; sid:1;)"], payload: p).isEmpty)
        #expect(try alerts([#"alert tcp any any -> any any (byte_jump:2,0; content:"OK"; within:2; sid:1;)"#], payload: p) == [1])
        #expect(try alerts([#"alert tcp any any -> any any (byte_jump:2,0,post_offset 1; content:"OK"; within:2; sid:1;)"#], payload: p).isEmpty)
        let ascii = bytes("len=123;")
        #expect(try alerts(["alert tcp any any -> any any (byte_test:3,>,100,4,string,dec; sid:1;)"], payload: ascii) == [1])
    }

    /// `byte_jump:0,…` reads nothing (only `post_offset` moves the cursor), and a negative
    /// `post_offset` stops at the buffer's start instead of failing.
    @Test func aZeroByteJumpMovesByItsPostOffsetAndStopsAtTheBufferStart() throws {
        let p = bytes("xxHEADERpayload")
        #expect(try alerts([#"alert tcp any any -> any any (content:"payload"; byte_jump:0,0,relative,post_offset -13; pcre:"/^HEADER/R"; sid:1;)"#], payload: p) == [1])
        #expect(try alerts([#"alert tcp any any -> any any (content:"payload"; byte_jump:0,0,relative,post_offset -40; pcre:"/^xxHEADER/R"; sid:1;)"#], payload: p) == [1])
        #expect(try alerts([#"alert tcp any any -> any any (content:"payload"; byte_jump:0,0,relative,post_offset -40; pcre:"/^HEADER/R"; sid:1;)"#], payload: p).isEmpty)
        #expect(parseError(#"alert tcp any any -> any any (byte_test:0,=,1,0; sid:1;)"#) != nil)
    }

    /// Flowbits named `traffic/id/…` and `traffic/label/…` tag the flow (EVE `traffic`).
    @Test func trafficFlowbitsTagTheFlow() throws {
        var set = RuleSet()
        set.rules.append(try parseRule(#"alert tcp any any -> any any (content:"GET"; flowbits:set,traffic/id/web; flowbits:set,traffic/label/portal; sid:1;)"#))
        set.rules.append(try parseRule(#"alert tcp any any -> any any (content:"NOPE"; flowbits:set,traffic/id/other; sid:2;)"#))
        let engine = try DetectionEngine(ruleSet: set)
        #expect(engine.traffic(flowKey: 1) == nil)
        withTCPPacket(get) { packet, flow in
            var buffers = InspectionBuffers()
            buffers.set(.payload, packet.payload)
            _ = engine.inspect(packet, packetNumber: 1, flow: flow, flowKey: 1, toServer: true, buffers: buffers) { _ in }
        }
        #expect(engine.traffic(flowKey: 1) == TrafficTags(ids: ["web"], labels: ["portal"]))
        #expect(engine.traffic(flowKey: 2) == nil)
    }

    /// `ssl_version` with a leading `!` negates its whole list; a rule of TLS state checks
    /// alone alerts once per direction of a flow (with the transaction, as Suricata inspects
    /// it), not on every packet after the handshake.
    @Test func sslVersionNegationAndOneAlertPerDirection() throws {
        func run(_ rule: String, version: UInt16) throws -> [Bool] {
            var set = RuleSet()
            set.rules.append(try parseRule(rule))
            let engine = try DetectionEngine(ruleSet: set)
            var facts = AppFacts()
            facts.tlsVersion = version
            var alerted: [Bool] = []
            withTCPPacket(get) { packet, flow in
                for toServer in [true, true, false, false] {
                    var n = 0
                    _ = engine.inspect(packet, packetNumber: 1, flow: flow, flowKey: 1, toServer: toServer, buffers: InspectionBuffers(),
                                       facts: facts) { _ in n += 1 }
                    alerted.append(n > 0)
                }
            }
            return alerted
        }
        #expect(try run("alert tcp any any -> any any (ssl_version:tls1.0; sid:1;)", version: 0x0301) == [true, false, true, false])
        #expect(try run("alert tcp any any -> any any (ssl_version:!sslv3; sid:1;)", version: 0x0301) == [true, false, true, false])
        #expect(try run("alert tcp any any -> any any (ssl_version:!tls1.3,tls1.0; sid:1;)", version: 0x0301) == [false, false, false, false])
        #expect(try run("alert tcp any any -> any any (ssl_version:!tls1.3,tls1.2; sid:1;)", version: 0x0301) == [true, false, true, false])
    }

    @Test func isdataatAndDsize() throws {
        #expect(try alerts([#"alert tcp any any -> any any (content:"GET"; isdataat:10,relative; sid:1;)"#], payload: get) == [1])
        #expect(try alerts([#"alert tcp any any -> any any (content:"|0d 0a 0d 0a|"; isdataat:!1,relative; sid:1;)"#], payload: get) == [1])
        #expect(try alerts(["alert tcp any any -> any any (dsize:>10; sid:1;)"], payload: get) == [1])
        #expect(try alerts(["alert tcp any any -> any any (dsize:<10; sid:1;)"], payload: get).isEmpty)
        #expect(try alerts(["alert tcp any any -> any any (dsize:30<>50; sid:1;)"], payload: get) == [1])
    }

    @Test func flowDirectionAndState() throws {
        let r = #"alert tcp any any -> any any (flow:established,to_server; content:"GET"; sid:1;)"#
        #expect(try alerts([r], payload: get) == [1])
        #expect(try alerts([r], payload: get, established: false).isEmpty)
        #expect(try alerts([r], payload: get, toServer: false).isEmpty)
    }

    @Test func tcpFlags() throws {
        #expect(try alerts(["alert tcp any any -> any any (flags:S; sid:1;)"], payload: [], flags: 0x02) == [1])
        #expect(try alerts(["alert tcp any any -> any any (flags:S; sid:1;)"], payload: [], flags: 0x12).isEmpty)
        #expect(try alerts(["alert tcp any any -> any any (flags:S+; sid:1;)"], payload: [], flags: 0x12) == [1])
        #expect(try alerts(["alert tcp any any -> any any (flags:!R; sid:1;)"], payload: [], flags: 0x12) == [1])
    }

    @Test func portsAndBidirectionalHeaders() throws {
        #expect(try alerts(["alert tcp any any -> any 443 (sid:1;)"], payload: get).isEmpty)
        #expect(try alerts(["alert tcp any 80 <> any any (sid:1;)"], payload: get) == [1])
        #expect(try alerts(["alert tcp 10.0.0.2 any -> 10.0.0.1 any (sid:1;)"], payload: get).isEmpty)
    }

    @Test func flowbitsSetterRunsBeforeTheChecker() throws {
        let rules = [
            #"alert tcp any any -> any any (flowbits:isset,seen; content:"Host"; sid:2;)"#,
            #"alert tcp any any -> any any (content:"GET"; flowbits:set,seen; flowbits:noalert; sid:1;)"#,
        ]
        #expect(try alerts(rules, payload: get) == [2])
        #expect(try alerts([#"alert tcp any any -> any any (flowbits:isset,seen; sid:2;)"#], payload: get).isEmpty)
        #expect(try alerts([#"alert tcp any any -> any any (flowbits:isnotset,seen; sid:3;)"#], payload: get) == [3])
    }

    @Test func passRuleSilencesLaterAlerts() throws {
        let rules = [#"alert tcp any any -> any any (content:"GET"; sid:1;)"#, #"pass tcp any any -> any any (content:"Host"; sid:2;)"#]
        #expect(try alerts(rules, payload: get).isEmpty)
    }

    /// An HTTP rule is only a candidate on a flow whose protocol is HTTP.
    @Test func applicationProtocolGroupsSelectRules() throws {
        var set = RuleSet()
        set.rules.append(try parseRule(#"alert http any any -> any any (content:"GET"; sid:1;)"#))
        set.rules.append(try parseRule(#"alert tcp any any -> any any (content:"GET"; sid:2;)"#))
        let engine = try DetectionEngine(ruleSet: set)
        let (_, frame) = tcpPacket(bytes("GET / HTTP/1.1\r\n\r\n"))
        var decoder = Decoder()
        var packet = Packet()
        packet.captureLength = frame.count
        _ = frame.withUnsafeBytes { decoder.decode(ByteView($0), linkType: 1, into: &packet) }
        for (app, expected) in [(UInt8(0), [UInt32(2)]), (AppProtocol.id("http")!, [1, 2]), (AppProtocol.id("ssh")!, [2])] {
            var flow = Flow()
            flow.proto = 6
            flow.state = .established
            flow.appProto = app
            var sids: [UInt32] = []
            frame.withUnsafeBytes { _ in
                var buffers = InspectionBuffers()
                buffers.set(.payload, packet.payload)
                _ = engine.inspect(packet, packetNumber: 1, flow: flow, flowKey: 1, toServer: true, buffers: buffers) { sids.append(engine.rule($0.ruleIndex).sid) }
            }
            #expect(sids.sorted() == expected, "app_proto \(app)")
        }
    }

    @Test func vectorscanPrefilterFindsManyRules() throws {
        // 500 rules, one of which matches: the prefilter must pick it from the group.
        var rules = (0..<500).map { #"alert tcp any any -> any any (content:"needle-\#($0)-x"; sid:\#($0 + 1);)"# }
        rules.append(#"alert tcp any any -> any any (content:"HTTP/1.1"; sid:9999;)"#)
        #expect(try alerts(rules, payload: bytes("xx needle-417-x yy HTTP/1.1")).sorted() == [418, 9999])
    }
}

@Suite struct ThresholdTests {
    func run(_ rule: String, packets: Int, spacing: Double = 1) throws -> Int {
        var set = RuleSet()
        set.rules.append(try parseRule(rule))
        let engine = try DetectionEngine(ruleSet: set)
        var count = 0
        for i in 0..<packets {
            var p = Packet()
            p.ipVersion = 4
            p.ipProto = 1
            p.hasTransport = true
            p.icmpType = 8
            p.source = .init(ipv4: 1)
            p.destination = .init(ipv4: 2)
            p.timestamp = Int64(Double(i) * spacing * 1e9)
            _ = engine.inspect(p, packetNumber: UInt64(i + 1), flow: nil, flowKey: nil, toServer: true, buffers: InspectionBuffers()) { _ in count += 1 }
        }
        return count
    }

    @Test func limitThresholdBothAndDetectionFilter() throws {
        #expect(try run("alert icmp any any -> any any (itype:8; threshold:type limit, track by_src, count 2, seconds 60; sid:1;)", packets: 10) == 2)
        #expect(try run("alert icmp any any -> any any (itype:8; threshold:type threshold, track by_src, count 3, seconds 60; sid:1;)", packets: 10) == 3)
        #expect(try run("alert icmp any any -> any any (itype:8; threshold:type both, track by_src, count 3, seconds 60; sid:1;)", packets: 10) == 1)
        #expect(try run("alert icmp any any -> any any (itype:8; detection_filter:track by_src, count 3, seconds 60; sid:1;)", packets: 10) == 7)
    }

    @Test func detectionFilterUniqueOnCountsDistinctPortsOnly() throws {
        var set = RuleSet()
        set.rules.append(try parseRule("alert tcp any any -> any any (flags:S; flow:stateless; detection_filter:track by_dst, count 1, seconds 60, unique_on dst_port; sid:1;)"))
        let engine = try DetectionEngine(ruleSet: set)
        var alerts = 0
        // Ports 80, 80, 443, 443, 22: the second distinct port passes, and the third.
        for (i, port) in [80, 80, 443, 443, 22].enumerated() {
            let (_, frame) = tcpPacket([], flags: 0x02, dport: UInt16(port))
            var decoder = Decoder()
            var p = Packet()
            p.captureLength = frame.count
            _ = frame.withUnsafeBytes { decoder.decode(ByteView($0), linkType: 1, into: &p) }
            p.timestamp = Int64(i) * 1_000_000_000
            frame.withUnsafeBytes { _ in
                _ = engine.inspect(p, packetNumber: UInt64(i + 1), flow: nil, flowKey: nil, toServer: true, buffers: InspectionBuffers()) { _ in alerts += 1 }
            }
        }
        #expect(alerts == 2)
        #expect(throws: (any Error).self) { try parseRule("alert tcp any any -> any any (detection_filter:track by_dst, count 1, seconds 60, unique_on proto; sid:1;)") }
    }

    /// `type backoff`: the count-th match alerts, then each match `multiplier` times further.
    @Test func backoffAlertsAtTheCountThenEachMultipleFurther() throws {
        #expect(try run("alert icmp any any -> any any (itype:8; threshold:type backoff, track by_flow, count 1, multiplier 2; sid:1;)", packets: 20) == 5)
        #expect(try run("alert icmp any any -> any any (itype:8; threshold:type backoff, track by_flow, count 3, multiplier 2; sid:1;)", packets: 30) == 4)
        #expect(try run("alert icmp any any -> any any (itype:8; threshold:type backoff, track by_flow, count 5, multiplier 5; sid:1;)", packets: 30) == 2)
        #expect(throws: (any Error).self) { try parseRule("alert icmp any any -> any any (threshold:type backoff, track by_flow, count 1; sid:1;)") }
        #expect(throws: (any Error).self) { try parseRule("alert icmp any any -> any any (threshold:type backoff, track by_src, count 1, multiplier 2; sid:1;)") }
        #expect(throws: (any Error).self) { try parseRule("alert icmp any any -> any any (threshold:type limit, track by_src, count 1, seconds 60, multiplier 2; sid:1;)") }
    }

    @Test func windowsRestartAfterTheirSeconds() throws {
        // One packet every 20 s; a 60 s window with limit 1 allows one alert per window.
        #expect(try run("alert icmp any any -> any any (itype:8; threshold:type limit, track by_src, count 1, seconds 60; sid:1;)", packets: 9, spacing: 20) == 3)
    }

    @Test func suppressFromThresholdConfig() throws {
        var set = RuleSet()
        set.rules.append(try parseRule("alert icmp any any -> any any (itype:8; sid:7;)"))
        set.thresholds.append(.suppress(gid: 1, sid: 7, track: .bySource, addresses: .block(CIDR("0.0.0.1/32")!)))
        let engine = try DetectionEngine(ruleSet: set)
        var p = Packet()
        p.ipVersion = 4; p.ipProto = 1; p.hasTransport = true; p.icmpType = 8
        p.source = .init(ipv4: 1); p.destination = .init(ipv4: 2)
        var n = 0
        _ = engine.inspect(p, packetNumber: 1, flow: nil, flowKey: nil, toServer: true, buffers: InspectionBuffers()) { _ in n += 1 }
        #expect(n == 0)
        #expect(engine.stats.suppressed == 1)
    }
}

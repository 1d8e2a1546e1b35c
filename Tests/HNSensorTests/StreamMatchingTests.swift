import Foundation
import HNCapGen
import Testing
@testable import HNSensor

/// Payload rules on established TCP flows match content that spans segments (on the
/// reassembled stream), and a match inside one segment still alerts once.
@Suite struct StreamMatchingTests {
    func run(inline: Bool) throws -> [Int] {
        let s = Scenario(name: "split", summary: "", seed: 9)
        let client = Host("10.20.1.15", mac: 1), server = Host("10.20.2.80", mac: 2)
        // 1,460-byte segments: "SPLITMARKER" straddles the first boundary, "ONESEGMENT" sits
        // inside the first segment.
        var body = [UInt8](repeating: UInt8(ascii: "a"), count: 3000)
        body.replaceSubrange(100..<110, with: Array("ONESEGMENT".utf8))
        body.replaceSubrange(1455..<1466, with: Array("SPLITMARKER".utf8))
        let c = s.tcp(client, server, sport: 40_000, dport: 9999, at: Scenario.baseTime).handshake()
        c.send(fromClient: true, body)
        c.send(fromClient: false, Array("ok".utf8))
        c.close()
        let dir = try scratchFolder()
        let pcap = dir.appendingPathComponent("split.pcap")
        try Data(s.capture()).write(to: pcap)
        let rules = dir.appendingPathComponent("split.rules")
        try """
        alert tcp any any -> any any (msg:"split"; flow:established,to_server; content:"SPLITMARKER"; sid:1;)
        alert tcp any any -> any any (msg:"one"; flow:established,to_server; content:"ONESEGMENT"; sid:2;)
        alert tcp any any -> any any (msg:"packet only"; flow:established,to_server,no_stream; content:"SPLITMARKER"; sid:3;)

        """.write(to: rules, atomically: true, encoding: .utf8)
        var config = SensorConfig()
        config.streamInline = inline
        let eve = dir.appendingPathComponent("eve.json").path
        _ = try Replay.run(files: [pcap.path], config: config, evePath: eve, rulesPath: rules.path)
        return try readEVE(eve).compactMap { ($0["alert"] as? [String: Any])?["signature_id"] as? Int }.sorted()
    }

    @Test func contentAcrossSegmentsMatchesOnceInIDSMode() throws {
        #expect(try run(inline: false) == [1, 2])
    }

    @Test func contentAcrossSegmentsMatchesOnceInInlineMode() throws {
        #expect(try run(inline: true) == [1, 2])
    }
}

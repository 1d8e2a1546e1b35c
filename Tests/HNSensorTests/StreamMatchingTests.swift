import Foundation
import HNCapGen
import Testing
@testable import HNSensor

/// Payload rules on established TCP flows match content that spans segments (on the
/// reassembled stream), and a match inside one segment still alerts once.
@Suite struct StreamMatchingTests {
    /// Replays the scenario's capture with `rules` (IDS or inline stream mode) and returns the
    /// sids of the alerts, sorted.
    func alertedSids(_ s: Scenario, rules text: String, inline: Bool) throws -> [Int] {
        let dir = try scratchFolder()
        let pcap = dir.appendingPathComponent("\(s.name).pcap")
        try Data(s.capture()).write(to: pcap)
        let rules = dir.appendingPathComponent("\(s.name).rules")
        try text.write(to: rules, atomically: true, encoding: .utf8)
        var config = SensorConfig()
        config.streamInline = inline
        let eve = dir.appendingPathComponent("eve.json").path
        _ = try Replay.run(files: [pcap.path], config: config, evePath: eve, rulesPath: rules.path)
        return try readEVE(eve).compactMap { ($0["alert"] as? [String: Any])?["signature_id"] as? Int }.sorted()
    }

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
        return try alertedSids(s, rules: """
        alert tcp any any -> any any (msg:"split"; flow:established,to_server; content:"SPLITMARKER"; sid:1;)
        alert tcp any any -> any any (msg:"one"; flow:established,to_server; content:"ONESEGMENT"; sid:2;)
        alert tcp any any -> any any (msg:"packet only"; flow:established,to_server,no_stream; content:"SPLITMARKER"; sid:3;)

        """, inline: inline)
    }

    @Test func contentAcrossSegmentsMatchesOnceInIDSMode() throws {
        #expect(try run(inline: false) == [1, 2])
    }

    @Test func contentAcrossSegmentsMatchesOnceInInlineMode() throws {
        #expect(try run(inline: true) == [1, 2])
    }

    /// A short first message (a banner, a ClientHello) followed by more data the same way:
    /// the overlap kept between stream inspections holds the stream's first bytes again, and
    /// an anchored rule (`depth`) that alerted on the packet must not alert on it a second
    /// time; a match spanning the short message and the next one is still found, once.
    func runShortFirstMessage(inline: Bool) throws -> [Int] {
        let s = Scenario(name: "banner", summary: "", seed: 11)
        let client = Host("10.20.1.16", mac: 1), server = Host("10.20.2.22", mac: 2)
        let c = s.tcp(client, server, sport: 40_001, dport: 2222, at: Scenario.baseTime).handshake()
        c.send(fromClient: false, Array("SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n".utf8))
        c.send(fromClient: true, Array("SSH-2.0-client\r\n".utf8))
        c.send(fromClient: false, Array("KEXINIT curve25519-sha256 and more".utf8))
        c.send(fromClient: true, Array("KEXINIT client".utf8))
        c.send(fromClient: false, [UInt8](repeating: UInt8(ascii: "k"), count: 600))
        c.close()
        return try alertedSids(s, rules: """
        alert tcp any 2222 -> any any (msg:"banner"; flow:established,to_client; content:"SSH-2.0-OpenSSH_9.2"; depth:20; sid:1;)
        alert tcp any 2222 -> any any (msg:"across"; flow:established,to_client; content:"Debian-2"; content:"KEXINIT"; distance:0; sid:2;)
        alert tcp any 2222 -> any any (msg:"later"; flow:established,to_client; content:"kkkkkkkk"; sid:3;)

        """, inline: inline)
    }

    @Test func anAnchoredMatchOnAShortFirstMessageAlertsOnceInIDSMode() throws {
        #expect(try runShortFirstMessage(inline: false) == [1, 2, 3])
    }

    @Test func anAnchoredMatchOnAShortFirstMessageAlertsOnceInInlineMode() throws {
        #expect(try runShortFirstMessage(inline: true) == [1, 2, 3])
    }

    /// `depth` and `startswith` count from the stream's start in a stream inspection, not from
    /// its window: the overlap kept from the last inspection can start with the pattern in
    /// the middle of the stream, and that is no match (no packet starts with it either).
    @Test func anchoredContentIsPlacedInTheStreamNotInTheWindow() throws {
        let s = Scenario(name: "anchored", summary: "", seed: 12)
        let client = Host("10.20.1.17", mac: 1), server = Host("10.20.2.90", mac: 2)
        let c = s.tcp(client, server, sport: 40_002, dport: 7777, at: Scenario.baseTime).handshake()
        // The first inspection holds 300 bytes; the overlap kept from it starts at byte 44.
        var first = [UInt8](repeating: UInt8(ascii: "x"), count: 300)
        first.replaceSubrange(44..<48, with: Array("ZZZZ".utf8))
        c.send(fromClient: false, first)
        c.send(fromClient: true, Array("ack".utf8))
        c.send(fromClient: false, Array("more data".utf8))
        c.close()
        let rules = """
        alert tcp any 7777 -> any any (msg:"depth"; flow:established,to_client; content:"ZZZZ"; depth:4; sid:1;)
        alert tcp any 7777 -> any any (msg:"startswith"; flow:established,to_client; content:"ZZZZ"; startswith; sid:2;)
        alert tcp any 7777 -> any any (msg:"first bytes"; flow:established,to_client; content:"xxxx"; depth:4; content:"more"; distance:0; sid:3;)
        alert tcp any 7777 -> any any (msg:"offset"; flow:established,to_client; content:"ZZZZ"; offset:40; depth:10; content:"more"; distance:0; sid:4;)

        """
        for inline in [false, true] {
            let sids = try alertedSids(s, rules: rules, inline: inline)
            // 4 only: bytes 40-50 of the stream are in the last window, with "more" after them;
            // the stream's first bytes (3) are not in that window any more.
            #expect(sids == [4], "inline \(inline)")
        }
    }

    /// A connection whose handshake the capture missed is not reassembled without midstream
    /// pick-up (as in Suricata): its packets alone are inspected, its application layer not.
    @Test func aConnectionWithoutItsHandshakeIsNotReassembledWithoutMidstream() throws {
        let s = Scenario(name: "midstream", summary: "", seed: 11)
        let client = Host("10.20.1.15", mac: 1), server = Host("10.20.2.80", mac: 2)
        let c = s.tcp(client, server, sport: 40_001, dport: 80, at: Scenario.baseTime)
        c.send(fromClient: true, Array("GET /admin HTTP/1.1\r\nHost: portal\r\n\r\n".utf8))
        c.send(fromClient: false, Array("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n".utf8))
        #expect(try alertedSids(s, rules: """
        alert http any any -> any any (msg:"uri"; http.uri; content:"/admin"; sid:1;)
        alert tcp any any -> any any (msg:"packet"; content:"/admin"; sid:2;)

        """, inline: false) == [2])
    }
}

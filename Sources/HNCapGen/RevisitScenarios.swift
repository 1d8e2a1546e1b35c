/// Long-running findings whose alerts come more than the 5-minute event window apart, so
/// events end and start again inside one correlation batch (the shape of the two captures
/// whose replays into a store once failed on a foreign key): a hospital workstation that
/// re-resolves a listed C2 domain every 300 s and calls it every 60 s for 30 minutes, and a
/// laboratory host sending 400 long TXT queries under one domain in 10 minutes.
extension Scenarios {
    public static func revisits() -> Scenario {
        let s = Scenario(name: "revisits", summary: "A workstation re-resolving a listed C2 domain every 300 s and calling it every 60 s for 30 min; a lab host sending 400 long TXT queries under one domain in 10 min.", seed: 0x484E_0007)
        let start = Scenario.baseTime
        let hospitalResolver = Host("10.20.1.53", mac: 0x35)
        let labResolver = Host("10.20.3.53", mac: 0x36)
        let infected = Host("10.20.1.80", mac: 0x80)
        var lookups = 0
        for i in 0..<30 {
            let t = start + Int64(i) * 60_000_000_000 + Int64(s.random.below(2_000_000_000))
            if i % 5 == 0 {
                // The resolver's answer lives 300 s: the next lookup comes just after it expired.
                let id = UInt16(truncatingIfNeeded: s.random.next())
                s.udp(infected, hospitalResolver, sport: UInt16(30_000 + i), dport: 53, at: t - 50_000_000,
                      request: Payloads.dnsQuery(id: id, name: "c2.example.net"),
                      response: Payloads.dnsResponse(id: id, name: "c2.example.net", addresses: [c2.ip], ttl: 300), appProto: "dns", label: "attack:c2")
                lookups += 1
            }
            _ = tlsSession(s, infected, c2, sport: UInt16(31_000 + i), sni: "c2.example.net", at: t, label: "attack:c2")
        }
        // Each lookup: the listed name in the query, the listed address in the answer.
        s.expectAlert(9_300_003, infected, hospitalResolver, count: lookups)
        s.expectAlert(9_300_001, infected, hospitalResolver, count: lookups)
        // Each call: the listed address and the listed name in the SNI.
        s.expectAlert(9_300_001, infected, c2, count: 30)
        s.expectAlert(9_300_003, infected, c2, count: 30)
        // Beaconing: judged at the 8th regular call, then quiet for 8 intervals, then again.
        s.expectAlert(9_200_040, infected, c2, count: 2)
        s.expectIncident("hn-indicator", "other", "blacklist", "P1", sources: [infected], targets: [c2, hospitalResolver])
        s.expectIncident("hn-malware-c2", "malicious-code", "infected-system", "P1", sources: [infected], targets: [c2])

        // A laboratory host tunnels data out through its resolver: 400 TXT queries with long
        // encoded labels under one domain, one every 1.5 s.
        let labHost = Host("10.20.3.50", mac: 0x32)
        for i in 0..<400 {
            let label = (0..<48).map { _ in Character(UnicodeScalar(UInt8(ascii: "a") + UInt8(s.random.below(26)))) }
            let name = String(label) + ".\(i).t.exfil.example.org"
            let id = UInt16(truncatingIfNeeded: s.random.next())
            s.udp(labHost, labResolver, sport: UInt16(33_000 + i), dport: 53, at: start + 35 * 60_000_000_000 + Int64(i) * 1_500_000_000,
                  request: Payloads.dnsQuery(id: id, name: name, type: 16), response: nil, appProto: "dns", label: "attack:dns-tunnel")
        }
        // Encoded labels: once, then quiet for the 5-minute window (the queries last 10 min);
        // 100 distinct names under the domain within 5 minutes: the same.
        s.expectAlert(9_200_050, labHost, labResolver, count: 2)
        s.expectAlert(9_200_051, labHost, labResolver, count: 2)
        s.expectIncident("hn-data-leak", "information-content-security", "data-leak", "P2", sources: [labHost], targets: [labResolver])
        return s
    }
}

import HNAppLayer
@testable import HNAnomaly
import HNDecode
import HNAlert
import HNFlow
import Testing

/// Each detector at its threshold's edge: one short of it raises nothing, reaching it raises
/// exactly one alert with the detector's sid, and the detector then stays quiet for a window.
@Suite struct DetectorThresholdTests {
    @Test func portScanAlertsAtTheTwentyFifthDistinctPortOnly() {
        let e = engine()
        for port in 1...24 { e.flowStarted(flow("198.51.100.7", "10.1.2.3", sport: 40_000 + UInt16(port), dport: UInt16(port), start: t0 + Int64(port) * 10_000_000)) }
        #expect(take(e).isEmpty)
        // The same port again does not count twice.
        e.flowStarted(flow("198.51.100.7", "10.1.2.3", sport: 41_000, dport: 24, start: t0 + second))
        #expect(take(e).isEmpty)
        e.flowStarted(flow("198.51.100.7", "10.1.2.3", sport: 41_001, dport: 25, start: t0 + second))
        #expect(take(e) == [9_200_010])
        // The scan goes on: quiet for the rest of the window.
        for port in 26...80 { e.flowStarted(flow("198.51.100.7", "10.1.2.3", sport: 42_000 + UInt16(port), dport: UInt16(port), start: t0 + 2 * second)) }
        #expect(take(e).isEmpty)
    }

    @Test func portScanForgetsPortsOlderThanTheWindow() {
        let e = engine()
        for port in 1...24 { e.flowStarted(flow("198.51.100.7", "10.1.2.3", sport: 40_000 + UInt16(port), dport: UInt16(port), start: t0)) }
        // 61 s later the first 24 ports have left the 60 s window.
        e.flowStarted(flow("198.51.100.7", "10.1.2.3", sport: 41_001, dport: 25, start: t0 + 61 * second))
        #expect(take(e).isEmpty)
    }

    @Test func exceptionsAndScopeSilenceADetector() {
        let e = engine { $0.portScan.scope.exceptSources = [CIDR("198.51.100.0/24")!] }
        for port in 1...30 { e.flowStarted(flow("198.51.100.7", "10.1.2.3", sport: 40_000 + UInt16(port), dport: UInt16(port), start: t0)) }
        #expect(take(e).isEmpty)
        let off = engine { $0.portScan.scope.enabled = false }
        for port in 1...30 { off.flowStarted(flow("198.51.100.7", "10.1.2.3", sport: 40_000 + UInt16(port), dport: UInt16(port), start: t0)) }
        #expect(take(off).isEmpty)
    }

    @Test func hostSweepAlertsAtTheTwentiethHost() {
        let e = engine()
        for h in 1...19 { e.flowStarted(flow("198.51.100.8", "10.1.3.\(h)", dport: 445, start: t0 + Int64(h) * 1_000_000)) }
        #expect(take(e).isEmpty)
        e.flowStarted(flow("198.51.100.8", "10.1.3.20", dport: 445, start: t0 + second))
        #expect(take(e) == [9_200_020])
    }

    @Test func pingSweepCountsEchoRequests() {
        let e = engine()
        for h in 1...20 {
            var f = flow("198.51.100.9", "10.1.4.\(h)", sport: 0, dport: 0, proto: 1, start: t0 + Int64(h) * 1_000_000)
            f.icmpType = 8
            e.flowStarted(f)
        }
        #expect(take(e) == [9_200_020])
    }

    /// A note-only event as a parser hands it on.
    static func note(_ n: AppNote, _ type: String) -> AppEvent {
        var e = AppEvent(eventType: type, record: nil, transactionID: 0, buffers: [], toServer: true)
        e.notes = [n]
        return e
    }

    @Test func bruteForceCountsShortSessionsThatReachedAuthentication() {
        let e = engine()
        func guess(_ i: Int, at start: Int64) {
            let f = flow("198.51.100.10", "10.1.2.22", sport: 50_000 + UInt16(i), dport: 22, start: start)
            e.appEvent(DetectorThresholdTests.note(.encryptedAuthPhase, "ssh"), flow: f, time: start + second)
            e.flowEnded(f)
        }
        for i in 0..<9 { guess(i, at: t0 + Int64(i) * 5 * second) }
        #expect(take(e).isEmpty)
        // A long session (a real login) does not count.
        let long = flow("198.51.100.10", "10.1.2.22", sport: 50_100, dport: 22, start: t0 + 50 * second, duration: 600 * second)
        e.appEvent(DetectorThresholdTests.note(.encryptedAuthPhase, "ssh"), flow: long, time: t0 + 51 * second)
        e.flowEnded(long)
        #expect(take(e).isEmpty)
        // Nor does a SYN the server never answered (that is a scan, not a login).
        e.flowEnded(flow("198.51.100.10", "10.1.2.22", sport: 50_101, dport: 22, start: t0 + 51 * second, handshake: false))
        #expect(take(e).isEmpty)
        guess(9, at: t0 + 52 * second)
        #expect(take(e) == [9_200_030])
    }

    @Test func shortSessionsThatShowNoLoginAreNotGuesses() {
        // A mail relay delivering to the MX every few seconds (no AUTH), SSH banner grabs
        // that never finish the key exchange, monitoring probes: none is a login.
        let e = engine()
        for i in 0..<30 {
            e.flowEnded(flow("10.20.0.25", "10.20.2.25", sport: 40_000 + UInt16(i), dport: 25, start: t0 + Int64(i) * 5 * second))
            e.flowEnded(flow("10.20.9.9", "10.1.2.22", sport: 41_000 + UInt16(i), dport: 22, start: t0 + Int64(i) * 5 * second))
        }
        #expect(take(e).isEmpty)
    }

    @Test func aSuccessfulClearTextLoginIsNotAGuessButAnAbandonedOneIs() {
        let e = engine()
        for i in 0..<12 {
            // Mail submission with AUTH accepted: a short session, not a guess.
            let f = flow("10.20.1.30", "10.20.2.25", sport: 42_000 + UInt16(i), dport: 587, start: t0 + Int64(i) * 5 * second)
            e.appEvent(DetectorThresholdTests.note(.authAttempt, "smtp"), flow: f, time: t0 + Int64(i) * 5 * second)
            e.appEvent(DetectorThresholdTests.note(.authSuccess, "smtp"), flow: f, time: t0 + Int64(i) * 5 * second)
            e.flowEnded(f)
        }
        #expect(take(e).isEmpty)
        for i in 0..<10 {
            // AUTH sent, no answer, the client hangs up: each is a guess.
            let f = flow("198.51.100.12", "10.20.2.25", sport: 43_000 + UInt16(i), dport: 587, start: t0 + Int64(i) * 5 * second)
            e.appEvent(DetectorThresholdTests.note(.authAttempt, "smtp"), flow: f, time: t0 + Int64(i) * 5 * second)
            e.flowEnded(f)
        }
        #expect(take(e) == [9_200_030])
    }

    @Test func bruteForceCountsFailedLoginsInsideOneSession() {
        let e = engine()
        let f = flow("198.51.100.11", "10.1.2.21", dport: 21, start: t0, duration: 120 * second)
        var failure = AppEvent(eventType: "ftp", record: nil, transactionID: 0, buffers: [], toServer: true)
        failure.notes = [.authFailure]
        for i in 0..<9 { e.appEvent(failure, flow: f, time: t0 + Int64(i) * second) }
        #expect(take(e).isEmpty)
        e.appEvent(failure, flow: f, time: t0 + 10 * second)
        #expect(take(e) == [9_200_030])
        // The session itself is not counted again when it ends.
        e.flowEnded(f)
        #expect(take(e).isEmpty)
    }

    @Test func beaconingNeedsRegularIntervalsToOneExternalDestination() {
        let regular = engine()
        for i in 0..<7 { regular.flowStarted(flow("10.1.1.66", "203.0.113.9", sport: 50_000 + UInt16(i), dport: 443, start: t0 + Int64(i) * 60 * second)) }
        #expect(take(regular).isEmpty)
        regular.flowStarted(flow("10.1.1.66", "203.0.113.9", sport: 50_007, dport: 443, start: t0 + 7 * 60 * second + 2 * second))
        #expect(take(regular) == [9_200_040])

        // Browsing-like irregular intervals: no alert.
        let irregular = engine()
        let gaps: [Int64] = [5, 120, 33, 300, 12, 250, 45, 600]
        var t = t0
        for (i, g) in gaps.enumerated() {
            t += g * second
            irregular.flowStarted(flow("10.1.1.66", "203.0.113.9", sport: 50_000 + UInt16(i), dport: 443, start: t))
        }
        #expect(take(irregular).isEmpty)

        // Regular but internal to internal: not beaconing out.
        let inside = engine()
        for i in 0..<10 { inside.flowStarted(flow("10.1.1.66", "10.9.9.9", sport: 50_000 + UInt16(i), dport: 443, start: t0 + Int64(i) * 60 * second)) }
        #expect(take(inside).isEmpty)
    }

    @Test func dnsTunnellingByLongEncodedLabels() {
        let e = engine()
        let f = flow("10.1.1.67", "10.0.0.53", dport: 53, proto: 17, start: t0)
        // 39 characters: one short of the 40-character limit.
        e.appEvent(dnsQuery("mzxw6ytboi4dgmrsgu3donbwgyzdknjvgmydcnj.t.example.net"), flow: f, time: t0)
        #expect(take(e).isEmpty)
        // A long but low-entropy label (a real host name) is fine.
        e.appEvent(dnsQuery(String(repeating: "a", count: 45) + ".example.net"), flow: f, time: t0)
        #expect(take(e).isEmpty)
        e.appEvent(dnsQuery("mzxw6ytboi4dgmrsgu3donbwgyzdknjvgmydcnjx.t.example.net"), flow: f, time: t0)
        #expect(take(e) == [9_200_050])
        // Once per source and domain within the window.
        e.appEvent(dnsQuery("gezdgnbvgy3tqojqgezdgnbvgy3tqojqgezdgnbv.t.example.net"), flow: f, time: t0 + second)
        #expect(take(e).isEmpty)
    }

    @Test func dnsTunnellingByManyNamesUnderOneDomain() {
        let e = engine { $0.dnsTunnel.distinctNames = 50 }
        let f = flow("10.1.1.67", "10.0.0.53", dport: 53, proto: 17, start: t0)
        for i in 0..<49 { e.appEvent(dnsQuery("n\(i).c2.example.org"), flow: f, time: t0 + Int64(i) * 100_000_000) }
        #expect(take(e).isEmpty)
        e.appEvent(dnsQuery("n49.c2.example.org"), flow: f, time: t0 + 5 * second)
        #expect(take(e) == [9_200_051])
        #expect(DNSNames.registeredDomain("n49.c2.example.org") == "example.org")
        #expect(DNSNames.registeredDomain("www.sante.co.uk") == "sante.co.uk")
        // Printable ASCII names take a byte path; it must agree with the Unicode one.
        for name in ["n49.c2.example.org", "WWW.Sante.CO.UK", "a.b.c.co.lu", "x.y.com.lu", "x.y.com.lux", "x.y.cO.lu",
                     "example.org", "org", "", ".", "...", "a..b...c", "a.b.", ".a.b.c.", "a.b.c.d.e.f", "q.ac.at", "q.edu.au",
                     "x.net.ly", "x.gov.l", "münchen.example.de", "a\r\n.b.co.uk", "tab\t.example.org"] {
            #expect(DNSNames.registeredDomain(name) == DNSNames.registeredDomain(unicode: name), "\(name)")
        }
    }

    @Test func dnsUnusualRecordType() {
        let e = engine()
        let f = flow("10.1.1.67", "10.0.0.53", dport: 53, proto: 17, start: t0)
        e.appEvent(dnsQuery("x.example.org", type: "TXT"), flow: f, time: t0)
        #expect(take(e).isEmpty)
        e.appEvent(dnsQuery("x.example.org", type: "NULL"), flow: f, time: t0)
        #expect(take(e) == [9_200_052])
    }

    @Test func exfiltrationByVolumeAndToANewDestination() {
        let e = engine { $0.exfiltration.outboundBytes = 1000; $0.exfiltration.newDestinationBytes = 600 }
        // 599 bytes to a new destination: below; the volume total is 599.
        let a = flow("10.1.1.70", "203.0.113.20", dport: 443, start: t0, toServer: 599)
        e.flowStarted(a)
        e.flowEnded(a)
        #expect(take(e).isEmpty)
        // 600 bytes to another new destination: the new-destination alert; total 1199 >= 1000:
        // the volume alert too.
        let b = flow("10.1.1.70", "203.0.113.21", dport: 443, start: t0 + second, toServer: 600)
        e.flowStarted(b)
        e.flowEnded(b)
        #expect(take(e) == [9_200_061, 9_200_060])
        // A destination already seen is not new.
        let c = flow("10.1.1.71", "203.0.113.21", dport: 443, start: t0 + 2 * second, toServer: 700)
        e.flowStarted(c)
        e.flowEnded(c)
        #expect(take(e).isEmpty)
    }

    @Test func lateralMovementAtTheTenthInternalHost() {
        let e = engine()
        for h in 1...9 { e.flowStarted(flow("10.1.1.68", "10.1.5.\(h)", dport: 445, start: t0 + Int64(h) * second)) }
        #expect(take(e).isEmpty)
        // Web traffic to more hosts does not count.
        for h in 10...20 { e.flowStarted(flow("10.1.1.68", "10.1.5.\(h)", dport: 80, start: t0 + 20 * second)) }
        #expect(take(e).isEmpty)
        e.flowStarted(flow("10.1.1.68", "10.1.5.10", dport: 3389, start: t0 + 30 * second))
        #expect(take(e) == [9_200_070])
    }

    @Test func remoteMaintenanceTooLongOrOutsideHours() {
        let e = engine()
        // 09:00 local, exactly two hours: allowed.
        e.flowEnded(flow("10.1.1.69", "10.1.2.33", dport: 3389, start: t0, duration: 7200 * second))
        #expect(take(e).isEmpty)
        e.flowEnded(flow("10.1.1.69", "10.1.2.33", dport: 3389, start: t0, duration: 7201 * second))
        #expect(take(e) == [9_200_080])
        // 18:59 local is inside 07:00-19:00, 19:00 is outside.
        e.flowEnded(flow("10.1.1.69", "10.1.2.33", dport: 3389, start: t0 + (9 * 3600 + 59 * 60) * second))
        #expect(take(e).isEmpty)
        e.flowEnded(flow("10.1.1.69", "10.1.2.33", dport: 3389, start: t0 + 10 * 3600 * second))
        #expect(take(e) == [9_200_081])
    }

    @Test func clearTextCredentialsOncePerFlow() {
        let e = engine()
        let f = flow("10.1.1.15", "10.1.2.80", dport: 80, start: t0)
        var basic = AppEvent(eventType: "http", record: nil, transactionID: 0, buffers: [], toServer: true)
        basic.notes = [.credentialsInClear("HTTP Basic")]
        e.appEvent(basic, flow: f, time: t0)
        e.appEvent(basic, flow: f, time: t0 + second)
        #expect(take(e) == [9_200_090])
    }

    @Test func weakTLSVersionCipherAndExpiredCertificate() {
        let e = engine()
        let f = flow("10.1.1.15", "10.1.2.43", dport: 443, start: t0)
        let good = AppEvent(eventType: "tls", record: .object([("version", .string("TLS 1.2")), ("notafter", .string("2027-01-01T00:00:00"))]),
                            transactionID: 0, buffers: [], toServer: false)
        e.appEvent(good, flow: f, time: t0)
        #expect(take(e).isEmpty)
        var old = AppEvent(eventType: "tls", record: .object([("version", .string("TLS 1.1")), ("notafter", .string("2026-11-01T00:00:00"))]),
                           transactionID: 0, buffers: [], toServer: false)
        old.notes = [.tlsCipher(0x0003)]
        e.appEvent(old, flow: flow("10.1.1.16", "10.1.2.43", dport: 443, start: t0), time: t0)
        #expect(Set(take(e)) == [9_200_100, 9_200_101, 9_200_102])
    }

    @Test func synFloodAtTheThresholdWithinTheWindow() {
        let e = engine { $0.flood.synThreshold = 100 }
        for i in 0..<99 {
            e.packet(packet("198.51.\(i / 250).\(i % 250)", "10.1.2.80", proto: 6, flags: TCPFlags.syn, at: t0 + Int64(i) * 10_000_000), flow: nil, toServer: true)
        }
        #expect(take(e).isEmpty)
        // SYN-ACKs are not counted.
        e.packet(packet("10.1.2.80", "198.51.0.1", proto: 6, flags: TCPFlags.syn | TCPFlags.ack, at: t0 + second), flow: nil, toServer: false)
        #expect(take(e).isEmpty)
        e.packet(packet("198.51.9.9", "10.1.2.80", proto: 6, flags: TCPFlags.syn, at: t0 + second), flow: nil, toServer: true)
        #expect(take(e) == [9_200_110])
    }

    @Test func floodsOfUDPAndICMPHaveTheirOwnSids() {
        let e = engine { $0.flood.udpThreshold = 10; $0.flood.icmpThreshold = 10 }
        for i in 0..<10 { e.packet(packet("198.51.100.1", "10.1.2.53", proto: 17, at: t0 + Int64(i)), flow: nil, toServer: true) }
        for i in 0..<10 { e.packet(packet("198.51.100.1", "10.1.2.53", proto: 1, icmpType: 8, at: t0 + Int64(i)), flow: nil, toServer: true) }
        #expect(take(e) == [9_200_111, 9_200_112])
    }

    @Test func stateStaysWithinTheKeyCapAndCountsWhatItDrops() {
        let e = engine { $0.maxTrackedKeys = 100 }
        for i in 0..<1000 {
            e.flowStarted(flow("198.51.\(i / 250).\(i % 250)", "10.1.2.3", dport: 80, start: t0))
        }
        e.refreshStats()
        #expect(e.stats.untracked > 0)
        #expect(e.engine.portScans.count <= 100)
        #expect(e.engine.sweeps.count <= 100)
    }
}

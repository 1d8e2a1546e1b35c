import HNConfig
@testable import HNCorrelate
import HNDecode
import HNAlert
import Testing

let second: Int64 = 1_000_000_000
let t0: Int64 = 1_793_606_400 * second

func alert(sid: UInt32, from src: String, to dst: String, at time: Int64, classtype: String = "attempted-recon", severity: Int = 2,
           origin: AlertOrigin = .signature, dport: UInt16 = 80) -> SecurityAlert {
    var a = SecurityAlert(timestamp: time, packetNumber: nil, flowID: nil, segment: 0, source: IPAddress(src)!, destination: IPAddress(dst)!,
                          sourcePort: 40_000, destinationPort: dport, ipProto: 6, appProto: nil, toServer: true, sid: sid,
                          signature: "test \(sid)", classtype: classtype, category: classtype, severity: severity)
    a.origin = origin
    return a
}

func rules(_ yaml: String) throws -> [CorrelationRule] { try CorrelationRuleLoader.parse(yaml, file: "test.yaml") }

let hospital = ConstituentInfo(name: "Hopital Nord", type: "hospital", networks: [CIDR("10.1.0.0/16")!], patientCare: true)
let pharmacy = ConstituentInfo(name: "Pharmacie Sud", type: "pharmacy", networks: [CIDR("10.2.0.0/16")!], patientCare: false)

func correlator(_ r: [CorrelationRule], constituents: [ConstituentInfo] = [hospital, pharmacy]) -> Correlator {
    Correlator(rules: r, policy: PriorityPolicy(), homeNet: [CIDR("10.0.0.0/8")!], constituents: constituents,
               segmentNames: [], segmentNetworks: [])
}

let scanRule = """
    - id: scan
      title: Scan
      type: event_count
      selection: {classtype: [attempted-recon]}
      group-by: [src_ip]
      timespan: 10m
      condition: {gte: 3}
      classification: {taxonomy: information-gathering, type: scanner}
    """

@Suite struct CorrelatorTests {
    @Test func eventCountOpensAnIncidentAtTheThresholdWithTheAlertsThatReachedIt() throws {
        let c = correlator(try rules(scanRule))
        c.ingest(alert(sid: 1, from: "198.51.100.1", to: "10.1.0.5", at: t0))
        c.ingest(alert(sid: 2, from: "198.51.100.1", to: "10.1.0.6", at: t0 + second))
        #expect(c.takeBatch().incidents.isEmpty)
        c.ingest(alert(sid: 1, from: "198.51.100.1", to: "10.1.0.5", at: t0 + 2 * second))
        let batch = c.takeBatch()
        #expect(batch.incidents.count == 1)
        let i = try #require(batch.incidents.first)
        #expect(i.alertCount == 3)
        #expect(i.eventCount == 2)  // (src, dst, sid) groups: sid 1 to .5 twice, sid 2 to .6
        #expect(i.sources == ["198.51.100.1"])
        #expect(i.targets == ["10.1.0.5", "10.1.0.6"])
        #expect(i.constituents == ["Hopital Nord"])
        #expect(i.firstSeen == t0)
        #expect(batch.opened == [i.id])
    }

    @Test func anEventReplacedInsideABatchStillReachesTheBatch() throws {
        // Three alerts of one (source, destination, signature) more than the 5-minute event
        // window apart, all before the batch is taken: three events, and every alert's event
        // is in the batch (the store refuses an alert whose event it never got).
        let c = correlator(try rules(scanRule))
        for k in 0..<3 { c.ingest(alert(sid: 1, from: "198.51.100.1", to: "10.1.0.5", at: t0 + Int64(k) * 301 * second)) }
        let batch = c.takeBatch()
        #expect(batch.events.map(\.id) == [1, 2, 3])
        #expect(batch.alerts.map(\.eventID) == [1, 2, 3])
        #expect(batch.events.map(\.alertCount) == [1, 1, 1])
    }

    @Test func alertsOutsideTheTimespanDoNotCount() throws {
        let c = correlator(try rules(scanRule))
        c.ingest(alert(sid: 1, from: "198.51.100.1", to: "10.1.0.5", at: t0))
        c.ingest(alert(sid: 1, from: "198.51.100.1", to: "10.1.0.5", at: t0 + 601 * second))
        c.ingest(alert(sid: 1, from: "198.51.100.1", to: "10.1.0.5", at: t0 + 602 * second))
        #expect(c.takeBatch().incidents.isEmpty)
    }

    @Test func anAlertStormFromOneScannerIsOneIncident() throws {
        let c = correlator(try rules(scanRule))
        for i in 0..<5000 {
            c.ingest(alert(sid: UInt32(1 + i % 7), from: "198.51.100.1", to: "10.1.\(i / 250).\(i % 250)", at: t0 + Int64(i) * 700_000_000))
        }
        let batch = c.takeBatch()
        #expect(batch.incidents.count == 1)
        #expect(batch.incidents[0].alertCount == 5000)
        #expect(batch.alerts.count == 5000)
        #expect(c.stats.incidentsOpened == 1)
    }

    @Test func valueCountCountsDistinctValues() throws {
        let c = correlator(try rules("""
            - id: spread
              title: Spread
              type: value_count
              selection: {origin: [signature]}
              group-by: [src_ip]
              timespan: 1h
              condition: {field: dest_ip, gte: 3}
              classification: {taxonomy: intrusion-attempts, type: ids-alert}
            """))
        for _ in 0..<5 { c.ingest(alert(sid: 1, from: "10.1.0.9", to: "10.1.0.10", at: t0)) }
        c.ingest(alert(sid: 1, from: "10.1.0.9", to: "10.1.0.11", at: t0))
        #expect(c.takeBatch().incidents.isEmpty)
        c.ingest(alert(sid: 1, from: "10.1.0.9", to: "10.1.0.12", at: t0))
        #expect(c.takeBatch().incidents.count == 1)
    }

    @Test func temporalOrderedChainFollowsOneHostFromTargetToSource() throws {
        let chain = try rules("""
            - id: chain
              title: Chain
              type: temporal_ordered
              stages:
                - {name: recon, selection: {classtype: [attempted-recon]}, host: dest_ip}
                - {name: exploit, selection: {classtype: [web-application-attack]}, host: dest_ip}
                - {name: c2, selection: {classtype: [command-and-control]}, host: src_ip}
              group-by: [host]
              timespan: 1h
              severity: 1
              classification: {taxonomy: intrusions, type: system-compromise}
            """)
        // Out of order: C2 first does not complete the chain.
        let wrong = correlator(chain)
        wrong.ingest(alert(sid: 3, from: "10.1.0.5", to: "203.0.113.9", at: t0, classtype: "command-and-control"))
        wrong.ingest(alert(sid: 1, from: "198.51.100.1", to: "10.1.0.5", at: t0 + second))
        wrong.ingest(alert(sid: 2, from: "198.51.100.1", to: "10.1.0.5", at: t0 + 2 * second, classtype: "web-application-attack"))
        #expect(wrong.takeBatch().incidents.isEmpty)
        let right = correlator(chain)
        right.ingest(alert(sid: 1, from: "198.51.100.1", to: "10.1.0.5", at: t0))
        right.ingest(alert(sid: 2, from: "198.51.100.1", to: "10.1.0.5", at: t0 + second, classtype: "web-application-attack"))
        // The C2 from another host does not complete this host's chain.
        right.ingest(alert(sid: 3, from: "10.1.0.6", to: "203.0.113.9", at: t0 + 2 * second, classtype: "command-and-control"))
        #expect(right.takeBatch().incidents.isEmpty)
        right.ingest(alert(sid: 3, from: "10.1.0.5", to: "203.0.113.9", at: t0 + 3 * second, classtype: "command-and-control"))
        let i = try #require(right.takeBatch().incidents.first)
        #expect(i.alertCount == 3)
        #expect(i.groupKey == "10.1.0.5")
        #expect(i.priority == 1)
    }

    @Test func fewerThanIsJudgedWhenTheTimespanEnds() throws {
        let c = correlator(try rules("""
            - id: quiet
              title: Heartbeat missing
              type: event_count
              selection: {sid: ["100"]}
              group-by: [src_ip]
              timespan: 10m
              condition: {lt: 3}
              classification: {taxonomy: availability, type: outage}
            """))
        c.ingest(alert(sid: 100, from: "10.1.0.1", to: "10.1.0.2", at: t0))
        c.ingest(alert(sid: 100, from: "10.1.0.1", to: "10.1.0.2", at: t0 + second))
        c.advance(to: t0 + 300 * second)
        #expect(c.takeBatch().incidents.isEmpty)  // the window is still open
        c.advance(to: t0 + 601 * second)
        #expect(c.takeBatch().incidents.count == 1)
    }

    @Test func priorityFollowsThePolicyAndNeverDrops() throws {
        let c = correlator(try rules(scanRule.replacingOccurrences(of: "{gte: 3}", with: "{gte: 1}")))
        // Severity 3 against a pharmacy: 1 + 1 = 2 -> P4.
        c.ingest(alert(sid: 1, from: "198.51.100.1", to: "10.2.0.5", at: t0, severity: 3))
        var i = try #require(c.takeBatch().incidents.first)
        #expect(i.priority == 4)
        #expect(i.priorityReason == "severity 3 (+1) + pharmacy Pharmacie Sud (+1) = 2 < 3 -> P4")
        // Severity 1 against the hospital (patient care): 4 + 1 (2 hosts) + 3 + 1 (2 constituents) + 2 = 11 -> P1.
        c.ingest(alert(sid: 1, from: "198.51.100.1", to: "10.1.0.5", at: t0 + second, severity: 1))
        i = try #require(c.takeBatch().incidents.first)
        #expect(i.priority == 1)
        #expect(i.priorityReason == "severity 1 (+4) + 2 hosts (+1) + hospital Hopital Nord (+3) + 2 constituents (+1) + patient care (+2) = 11 >= 9 -> P1")
        #expect(i.reportable)
        #expect(i.reportDeadline == i.firstSeen + 24 * 3600 * second)
        // More low-severity alerts do not lower it.
        c.ingest(alert(sid: 1, from: "198.51.100.1", to: "10.2.0.6", at: t0 + 2 * second, severity: 4))
        i = try #require(c.takeBatch().incidents.first)
        #expect(i.priority == 1)
    }

    @Test func aClosedIncidentIsNotGrownButLinkedFromTheNextOne() throws {
        let c = correlator(try rules(scanRule.replacingOccurrences(of: "{gte: 3}", with: "{gte: 1}")))
        c.ingest(alert(sid: 1, from: "198.51.100.1", to: "10.1.0.5", at: t0))
        let first = try #require(c.takeBatch().incidents.first)
        c.statusChanged(first.id, to: .closed)
        c.ingest(alert(sid: 1, from: "198.51.100.1", to: "10.1.0.5", at: t0 + second))
        let second = try #require(c.takeBatch().incidents.first)
        #expect(second.id != first.id)
        #expect(second.related == [first.id])
    }

    @Test func resumedOpenIncidentsAbsorbNewAlerts() throws {
        let r = try rules(scanRule.replacingOccurrences(of: "{gte: 3}", with: "{gte: 1}"))
        let a = correlator(r)
        a.ingest(alert(sid: 1, from: "198.51.100.1", to: "10.1.0.5", at: t0))
        let batch = a.takeBatch()
        let b = correlator(r)
        b.resume(nextAlertID: 2, nextEventID: 2, nextIncidentID: 2, openIncidents: [(batch.incidents[0], [1])], closedIncidents: [])
        b.ingest(alert(sid: 1, from: "198.51.100.1", to: "10.1.0.9", at: t0 + second))
        let next = b.takeBatch()
        #expect(next.incidents.map(\.id) == [1])
        #expect(next.incidents[0].alertCount == 2)
        #expect(next.opened.isEmpty)
    }
}

@Suite struct CorrelationRuleLoaderTests {
    @Test func theShippedRulesLoad() throws {
        let root = #filePath.split(separator: "/").dropLast(3).joined(separator: "/")
        let loaded = try CorrelationRuleLoader.load(folder: "/" + root + "/Rules/correlation")
        #expect(loaded.count >= 10)
        #expect(Set(loaded.map(\.id)).count == loaded.count)
    }

    @Test func badRulesNameTheFileLineAndKey() {
        #expect(throws: ConfigError(description: "test.yaml:6:19: x.classification: 'intrusion-attempts/bruteforce' is not in the Reference Security Incident Taxonomy (as IntelMQ spells it)")) {
            try rules("- id: x\n  type: event_count\n  selection: {sid: [1]}\n  timespan: 1m\n  condition: {gte: 1}\n  classification: {taxonomy: intrusion-attempts, type: bruteforce}\n")
        }
        #expect(throws: ConfigError(description: "test.yaml:2:9: x.type: unknown type 'count' (expected one of: event_count, value_count, temporal, temporal_ordered)")) {
            try rules("- id: x\n  type: count\n")
        }
        #expect(throws: ConfigError(description: "test.yaml:1:3: x.condition: value_count needs condition.field")) {
            try rules("- id: x\n  type: value_count\n  selection: {sid: [1]}\n  timespan: 1m\n  condition: {gte: 1}\n  classification: {taxonomy: other, type: other}\n")
        }
        #expect(throws: ConfigError(description: "test.yaml:3:20: x.selection.sid[0]: expected a sid or a range such as 9100000-9100999")) {
            try rules("- id: x\n  type: event_count\n  selection: {sid: [9-1]}\n")
        }
    }
}

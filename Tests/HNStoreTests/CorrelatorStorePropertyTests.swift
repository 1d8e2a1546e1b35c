import Foundation
import GRDB
import HNCorrelate
import HNDecode
import HNAlert
@testable import HNStore
import Testing

/// The correlator and the store driven together by seeded random alert streams: alerts out of
/// order within a few seconds, gaps longer than the event window inside one batch, windows
/// crossing batch boundaries, open incidents absorbing events of earlier batches, the
/// kill-chain rule linking incidents, analysts closing incidents (the next firing opens a
/// linked one) and restarts on the existing store. After each stream the store must equal an
/// in-memory model fed the same batches, and hold every alert exactly once.
@Suite struct CorrelatorStorePropertyTests {
    /// SplitMix64: small, seedable, the same on every machine.
    struct Random {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        mutating func below(_ n: Int) -> Int { Int(next() % UInt64(n)) }
        mutating func chance(_ percent: Int) -> Bool { below(100) < percent }
    }

    static let shippedRules: [CorrelationRule] = {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        return (try? CorrelationRuleLoader.load(folder: root.appendingPathComponent("Rules/correlation").path)) ?? []
    }()

    static let constituents = [
        ConstituentInfo(name: "Hopital", type: "hospital", networks: [CIDR("10.20.1.0/24")!], patientCare: true),
        ConstituentInfo(name: "Labo", type: "laboratory", networks: [CIDR("10.20.3.0/24")!], patientCare: true),
    ]

    static func makeCorrelator() -> Correlator {
        Correlator(rules: shippedRules, policy: PriorityPolicy(), homeNet: [CIDR("10.20.0.0/16")!], constituents: constituents,
                   segmentNames: [], segmentNetworks: [("dmz", [CIDR("10.20.2.0/24")!])])
    }

    /// One random alert of a kind the shipped rules select (or none of them select).
    static func randomAlert(_ r: inout Random, at time: Int64) -> SecurityAlert {
        let external = ["198.51.100.7", "198.51.100.8", "203.0.113.66"]
        let inside = ["10.20.1.15", "10.20.1.16", "10.20.2.80", "10.20.3.9"]
        func pick(_ l: [String]) -> IPAddress { IPAddress(l[r.below(l.count)])! }
        let kinds: [(UInt32, String, AlertOrigin, Bool)] = [
            (2_000_001, "attempted-recon", .detector(name: "port-scan"), true),
            (2_000_002, "web-application-attack", .signature, true),
            (2_000_003, "attempted-user", .detector(name: "brute-force"), true),
            (2_000_004, "command-and-control", .signature, false),
            (2_000_005, "trojan-activity", .indicator(source: "misp"), false),
            (2_000_006, "policy-violation", .detector(name: "dns-tunnel"), false),
            (2_000_007, "not-suspicious", .signature, true),
        ]
        let k = kinds[r.below(kinds.count)]
        // Inbound kinds come from outside to a HealthNet host; outbound ones leave from one.
        let (src, dst) = k.3 ? (pick(external), pick(inside)) : (pick(inside), pick(external))
        var a = SecurityAlert(timestamp: time, packetNumber: UInt64(r.below(10_000)), flowID: r.next(), segment: 0, source: src,
                              destination: dst, sourcePort: 40_000, destinationPort: 443, ipProto: 6, appProto: nil, toServer: true,
                              sid: k.0, signature: "sid \(k.0)", classtype: k.1, category: k.1, severity: 1 + r.below(3))
        a.origin = k.2
        return a
    }

    /// What the store should hold: the batches applied with the store's own merge rules.
    struct Model {
        var alerts: [Int64: (event: Int64, sid: Int64, time: Int64)] = [:]
        var events: [Int64: SecurityEvent] = [:]
        var incidents: [Int64: Incident] = [:]
        var links: Set<[Int64]> = []

        mutating func apply(_ b: CorrelationBatch) {
            for e in b.events { events[e.id] = e }
            for a in b.alerts { alerts[a.id] = (a.eventID, Int64(a.alert.sid), a.alert.timestamp) }
            for i in b.incidents {
                guard var old = incidents[i.id] else { incidents[i.id] = i; continue }
                // As the store's upsert: the analyst's status stays, priority only rises.
                let status = old.status
                let priority = min(old.priority, i.priority)
                let reason = i.priority < old.priority ? i.priorityReason : old.priorityReason
                let deadline = old.reportDeadline ?? i.reportDeadline
                let reportable = old.reportable || i.reportable
                let score = max(old.score, i.score)
                old = i
                old.status = status
                old.priority = priority
                old.priorityReason = reason
                old.reportDeadline = deadline
                old.reportable = reportable
                old.score = score
                incidents[i.id] = old
            }
            for (i, e) in b.links { links.insert([i, e]) }
        }
    }

    /// What a stream went through, so the suite can check its streams cover the cases.
    struct Coverage {
        var restarts = 0
        var closedByAnalyst = 0
        var linkedIncidents = 0
        var killChains = 0
        var eventsReplacedInABatch = 0
    }

    /// Runs one stream and compares the store with the model.
    @discardableResult
    static func run(seed: UInt64, alerts count: Int) throws -> Coverage {
        var coverage = Coverage()
        var r = Random(state: seed)
        let path = try scratch()
        var store = try IncidentStore(path: path)
        var c = makeCorrelator()
        var model = Model()
        var time = t0
        var sinceBoundary = 0
        var boundaryAt = 1 + r.below(40)
        var ingested = 0
        func commit() throws {
            let b = c.takeBatch()
            // Events of one key in one batch: an event window ended inside it.
            let keys = b.events.map { "\($0.source) \($0.destination) \($0.sid)" }
            if Set(keys).count < keys.count { coverage.eventsReplacedInABatch += 1 }
            do {
                try store.commit(b, actor: "hnsensor:test")
            } catch {
                Issue.record("seed \(seed): \(error)")
                throw error
            }
            model.apply(b)
        }
        while ingested < count {
            // Mostly seconds apart, sometimes past the 5-minute event window, now and then
            // past the rules' one-hour timespans; a few alerts a little out of order.
            switch r.below(100) {
            case 0..<60: time += Int64(r.below(20)) * second
            case 60..<85: time += Int64(200 + r.below(300)) * second
            case 85..<95: time -= Int64(r.below(5)) * second
            default: time += Int64(3_600 + r.below(7_200)) * second
            }
            c.ingest(randomAlert(&r, at: time))
            ingested += 1
            sinceBoundary += 1
            if sinceBoundary >= boundaryAt {
                c.advance(to: time)
                try commit()
                sinceBoundary = 0
                boundaryAt = 1 + r.below(40)
                // An analyst closes or dismisses an open incident now and then.
                if r.chance(15), let open = try store.incidents().filter({ $0.status.isOpen }).first {
                    let to: IncidentStatus = open.status.next.contains(.falsePositive) ? .falsePositive : .closed
                    if open.status.next.contains(to) {
                        _ = try store.update(open.id, status: to, assignee: nil, note: nil, actor: "ana", at: time)
                        model.incidents[open.id]?.status = to
                        c.statusChanged(open.id, to: to)
                        coverage.closedByAnalyst += 1
                    }
                }
                // A restart: a new process continues from the store.
                if r.chance(5) {
                    coverage.restarts += 1
                    store = try IncidentStore(path: path)
                    c = makeCorrelator()
                    let s = try store.resumeState()
                    c.resume(nextAlertID: s.alert, nextEventID: s.event, nextIncidentID: s.incident, openIncidents: s.open, closedIncidents: s.closed)
                }
            }
        }
        c.advance(to: time + 365 * 86_400 * second)
        try commit()
        try compare(store, model, seed: seed, ingested: ingested)
        coverage.linkedIncidents = model.incidents.values.filter { !$0.related.isEmpty }.count
        coverage.killChains = model.incidents.values.filter { $0.ruleID == "hn-kill-chain" }.count
        return coverage
    }

    static func compare(_ store: IncidentStore, _ model: Model, seed: UInt64, ingested: Int) throws {
        let rows = try store.pool.read { db in
            (alerts: try Row.fetchAll(db, sql: "SELECT id, event_id, sid, timestamp FROM alerts ORDER BY id"),
             events: try Row.fetchAll(db, sql: "SELECT * FROM events ORDER BY id"),
             perEvent: try Row.fetchAll(db, sql: "SELECT event_id, count(*) AS n FROM alerts GROUP BY event_id"),
             links: try Row.fetchAll(db, sql: "SELECT incident_id, event_id FROM incident_events"),
             opened: try Row.fetchAll(db, sql: "SELECT incident_id, count(*) AS n FROM audit WHERE action = 'opened' GROUP BY incident_id"))
        }
        // Every alert once, with its event.
        #expect(rows.alerts.count == ingested, "seed \(seed)")
        #expect(rows.alerts.map { $0["id"] as Int64 } == (1...Int64(ingested)).map { $0 }, "seed \(seed)")
        for row in rows.alerts {
            let id: Int64 = row["id"]
            let m = try #require(model.alerts[id], "seed \(seed): alert \(id) not in the model")
            #expect(m.event == row["event_id"] && m.sid == row["sid"] && m.time == row["timestamp"], "seed \(seed): alert \(id)")
        }
        // Events as the model has them, each counting exactly the alerts that refer to it.
        #expect(rows.events.map { $0["id"] as Int64 } == model.events.keys.sorted(), "seed \(seed)")
        let perEvent = Dictionary(uniqueKeysWithValues: rows.perEvent.map { ($0["event_id"] as Int64, $0["n"] as Int) })
        for row in rows.events {
            let id: Int64 = row["id"]
            let e = try #require(model.events[id])
            #expect(row["alert_count"] as Int == e.alertCount && row["last_seen"] as Int64 == e.lastSeen, "seed \(seed): event \(id)")
            #expect(perEvent[id] == e.alertCount, "seed \(seed): event \(id) counts \(e.alertCount), \(perEvent[id] ?? 0) alerts refer to it")
        }
        // Incidents field by field, their links, and one opening entry each in the audit trail.
        let stored = try store.incidents()
        #expect(stored.map(\.id).sorted() == model.incidents.keys.sorted(), "seed \(seed)")
        for i in stored {
            let m = try #require(model.incidents[i.id])
            #expect(i.status == m.status && i.priority == m.priority && i.priorityReason == m.priorityReason, "seed \(seed): incident \(i.id)")
            #expect(i.alertCount == m.alertCount && i.eventCount == m.eventCount, "seed \(seed): incident \(i.id)")
            #expect(i.sources == m.sources && i.targets == m.targets && i.constituents == m.constituents, "seed \(seed): incident \(i.id)")
            #expect(i.related == m.related && i.firstSeen == m.firstSeen && i.lastSeen == m.lastSeen, "seed \(seed): incident \(i.id)")
            #expect(i.reportable == m.reportable && i.reportDeadline == m.reportDeadline, "seed \(seed): incident \(i.id)")
        }
        #expect(Set(rows.links.map { [$0["incident_id"] as Int64, $0["event_id"] as Int64] }) == model.links, "seed \(seed)")
        let links = Dictionary(grouping: rows.links, by: { $0["incident_id"] as Int64 })
        for i in stored { #expect(links[i.id]?.count ?? 0 == i.eventCount, "seed \(seed): incident \(i.id) event count") }
        #expect(rows.opened.count == stored.count && rows.opened.allSatisfy { $0["n"] as Int == 1 }, "seed \(seed)")
        #expect(try store.integrityCheck() == "ok")
    }

    static let seeds: [UInt64] = [1, 2, 3, 4, 5, 6, 7, 8]

    @Test(arguments: CorrelatorStorePropertyTests.seeds)
    func randomAlertStreamsLeaveTheStoreEqualToTheModel(seed: UInt64) throws {
        #expect(!CorrelatorStorePropertyTests.shippedRules.isEmpty)
        try CorrelatorStorePropertyTests.run(seed: seed, alerts: 1_500)
    }

    /// The seeds reach every case the streams are meant to: events ending inside a batch,
    /// analysts closing incidents (and later ones linked to them), the kill chain linking the
    /// incidents it escalates, restarts on the store.
    @Test func theSeedsCoverEveryCase() throws {
        var total = Coverage()
        for seed in CorrelatorStorePropertyTests.seeds {
            let c = try CorrelatorStorePropertyTests.run(seed: seed, alerts: 1_500)
            total.restarts += c.restarts
            total.closedByAnalyst += c.closedByAnalyst
            total.linkedIncidents += c.linkedIncidents
            total.killChains += c.killChains
            total.eventsReplacedInABatch += c.eventsReplacedInABatch
        }
        #expect(total.restarts > 0 && total.closedByAnalyst > 0 && total.linkedIncidents > 0 && total.killChains > 0
                && total.eventsReplacedInABatch > 0, "\(total)")
    }
}

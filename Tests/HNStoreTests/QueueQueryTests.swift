import Foundation
import HNCorrelate
@testable import HNStore
import Testing

/// The analysts' queue as the store answers it: filters, counts per status, paging and the
/// reporting banner.
@Suite struct QueueQueryTests {
    /// Six incidents: priorities 1..3, two classes, two constituents, two segments; 1 and 2
    /// reportable (deadlines t0+10 s and t0+100 s), 3 reportable and already reported.
    func store() throws -> IncidentStore {
        let store = try IncidentStore(path: try scratch())
        var batch = CorrelationBatch()
        for n in 1...6 as ClosedRange<Int64> {
            var i = Incident(id: n, ruleID: "r", groupKey: "g\(n)", title: n % 2 == 0 ? "Malware on a host" : "Scan of the DMZ",
                             taxonomy: n % 2 == 0 ? "malicious-code" : "information-gathering", type: n % 2 == 0 ? "infected-system" : "scanner",
                             firstSeen: t0, lastSeen: t0 + n * second, severity: 2)
            i.priority = Int((n - 1) % 3) + 1
            i.sources = ["198.51.100.\(n)"]
            i.targets = ["10.20.\(n).5"]
            i.constituents = [n <= 3 ? "Hopital Nord" : "Labo Sud"]
            i.segments = [n <= 4 ? "dmz" : "vpn"]
            i.reportable = n <= 3
            i.reportDeadline = n <= 3 ? t0 + (n == 1 ? 10 : 100) * second : nil
            batch.incidents.append(i)
            batch.opened.append(n)
        }
        try store.commit(batch, actor: "sensor")
        _ = try store.update(3, status: nil, assignee: "alice", note: nil, reported: true, actor: "alice", at: t0)
        _ = try store.update(6, status: .qualification, assignee: nil, note: nil, actor: "alice", at: t0)
        return store
    }

    func ids(_ store: IncidentStore, _ change: (inout IncidentStore.Filter) -> Void) throws -> [Int64] {
        var f = IncidentStore.Filter()
        change(&f)
        return try store.incidents(f).map(\.id)
    }

    @Test func eachFilterSelectsItsIncidentsInPriorityThenRecencyOrder() throws {
        let s = try store()
        #expect(try ids(s) { _ in } == [4, 1, 5, 2, 6, 3])
        #expect(try ids(s) { $0.priority = 1 } == [4, 1])
        #expect(try ids(s) { $0.classification = "malicious-code" } == [4, 2, 6])
        #expect(try ids(s) { $0.classification = "information-gathering/scanner" } == [1, 5, 3])
        #expect(try ids(s) { $0.constituent = "Labo Sud" } == [4, 5, 6])
        #expect(try ids(s) { $0.constituent = "Labo" } == [])
        #expect(try ids(s) { $0.segment = "vpn" } == [5, 6])
        #expect(try ids(s) { $0.assignee = "alice" } == [3])
        #expect(try ids(s) { $0.assignee = "-" } == [4, 1, 5, 2, 6])
        #expect(try ids(s) { $0.text = "MALWARE host" } == [4, 2, 6])
        #expect(try ids(s) { $0.text = "198.51.100.5" } == [5])
        #expect(try ids(s) { $0.status = [.qualification] } == [6])
        #expect(try ids(s) { $0.limit = 2; $0.offset = 3 } == [2, 6])
    }

    @Test func countsIgnoreThePageAndTheTabsIgnoreTheStatus() throws {
        let s = try store()
        var f = IncidentStore.Filter()
        f.segment = "dmz"
        f.limit = 1
        #expect(try s.count(f) == 4)
        f.status = [.qualification]
        #expect(try s.count(f) == 0)
        #expect(try s.countsByStatus(f) == [.new: 4])
        #expect(try s.countsByStatus(IncidentStore.Filter()) == [.new: 5, .qualification: 1])
    }

    @Test func theReportingBannerCountsOpenUnreportedIncidentsAndThoseOverdue() throws {
        let s = try store()
        let all = IncidentStore.Filter()
        #expect(try s.unreported(all, now: t0) == (2, 0))
        #expect(try s.unreported(all, now: t0 + 50 * second) == (2, 1))
        #expect(try s.unreported(all, now: t0 + 500 * second) == (2, 2))
        var f = all
        f.priority = 1
        #expect(try s.unreported(f, now: t0 + 500 * second) == (1, 1))
        _ = try s.update(1, status: .falsePositive, assignee: nil, note: nil, actor: "alice", at: t0)
        #expect(try s.unreported(all, now: t0 + 500 * second) == (1, 1))
    }
}

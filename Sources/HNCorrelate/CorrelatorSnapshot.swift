import HNAlert
import HNDecode

/// What a correlator holds besides the store's rows: the rule windows in progress (the
/// alerts that count towards a rule not yet fired), by reference to the stored alerts. Saved
/// with every batch the central correlator commits, so one that restarts continues exactly
/// where the last commit left it.
public struct CorrelatorSnapshot: Codable, Sendable, Equatable {
    public struct Member: Codable, Sendable, Equatable {
        public var alert: Int64
        public var event: Int64
        public var time: Int64
        public var stage: Int
        public var value: String
    }

    public struct Window: Codable, Sendable, Equatable {
        /// The rule's id (its position may change when rules are reloaded).
        public var rule: String
        public var group: String
        public var start: Int64
        public var members: [Member]
    }

    public var windows: [Window] = []
    public init() {}

    /// The alerts the windows hold, to read back from the store on restore.
    public var alertIDs: Set<Int64> { Set(windows.flatMap { $0.members.map(\.alert) }) }
}

extension Correlator {
    /// The rule windows in progress.
    public func snapshot() -> CorrelatorSnapshot {
        var s = CorrelatorSnapshot()
        for (key, state) in ruleStates.sorted(by: { ($0.key.rule, $0.key.group) < ($1.key.rule, $1.key.group) }) where !state.members.isEmpty {
            s.windows.append(.init(rule: rules[key.rule].id, group: key.group, start: state.windowStart,
                                   members: state.members.map { .init(alert: $0.alertID, event: $0.eventID, time: $0.time, stage: $0.stage, value: $0.value) }))
        }
        return s
    }

    /// Puts back the rule windows of a snapshot; `alerts` are the stored alerts it refers to
    /// (a window of a rule that no longer exists, or a member whose alert is gone, is left out).
    public func restore(_ snapshot: CorrelatorSnapshot, alerts: [Int64: SecurityAlert]) {
        for w in snapshot.windows {
            guard let r = rules.firstIndex(where: { $0.id == w.rule }) else { continue }
            let state = RuleState(windowStart: w.start)
            state.members = w.members.compactMap { m in
                alerts[m.alert].map { Member(alert: $0, alertID: m.alert, eventID: m.event, time: m.time, stage: m.stage, value: m.value) }
            }
            ruleStates[StateKey(rule: r, group: w.group)] = state
        }
    }

    /// Puts back the events alerts may still join: the latest of each source, destination
    /// and signature (an alert joins it only within the event window of its last alert).
    public func restoreOpenEvents(_ events: [SecurityEvent]) {
        for e in events.sorted(by: { $0.id < $1.id }) {
            openEvents[EventKey(source: e.source, destination: e.destination, gid: e.gid, sid: e.sid)] = e
        }
    }
}

import HNDecode
import HNAlert

/// What changed since the last batch: the rows the store writes in one transaction, and the
/// records EVE writes once they are committed.
public struct CorrelationBatch: Sendable {
    public struct StoredAlert: Sendable {
        public var id: Int64
        public var eventID: Int64
        public var alert: SecurityAlert
        public var captureFile: String?
    }
    public var alerts: [StoredAlert] = []
    public var events: [SecurityEvent] = []
    public var incidents: [Incident] = []
    /// (incident, event) links made in this batch.
    public var links: [(Int64, Int64)] = []
    /// Incidents opened in this batch (their first audit entry).
    public var opened: [Int64] = []

    public var isEmpty: Bool { alerts.isEmpty && events.isEmpty && incidents.isEmpty }
    public init() {}
}

/// Counters of the correlator.
public struct CorrelationStats: Sendable {
    public var alerts: UInt64 = 0
    public var events: UInt64 = 0
    public var incidentsOpened: UInt64 = 0
    public var absorbed: UInt64 = 0
    public init() {}
}

/// Groups alerts into security events and opens, grows and escalates incidents under the
/// correlation rules and the priority policy. Runs on packet time only, so a replay gives
/// the same incidents on every machine.
///
/// - An event groups alerts with the same source, destination and signature (gid:sid)
///   while they keep coming within `eventWindow` of each other.
/// - A rule's state is kept per group (its group-by values); when the condition holds the
///   rule opens an incident holding the alerts that made it true.
/// - While an incident is open, every alert the same rule selects with the same group goes
///   into it: one attacker scanning for an hour is one incident.
/// - When the incident was closed (or marked false positive or duplicate), the next firing
///   opens a new incident linked to it (`related`).
/// - Priority is recomputed as an incident grows and only ever rises.
public final class Correlator {
    public let rules: [CorrelationRule]
    public var policy: PriorityPolicy
    public let homeNet: [CIDR]
    public let constituents: [ConstituentInfo]
    /// Segment names by index, and the networks of each segment.
    public let segmentNames: [String]
    public let segmentNetworks: [(String, [CIDR])]
    public var eventWindow: Int64 = 300_000_000_000
    /// The capture file being replayed (kept with each alert as evidence).
    public var captureFile: String? = nil
    /// Whether packets carry the segment they were captured on (live capture). In replay
    /// segments come only from the configured networks.
    public var captureSegments = false
    public private(set) var stats = CorrelationStats()

    public private(set) var nextAlertID: Int64 = 1
    public private(set) var nextEventID: Int64 = 1
    public private(set) var nextIncidentID: Int64 = 1
    var openEvents: [EventKey: SecurityEvent] = [:]
    var ruleStates: [StateKey: RuleState] = [:]
    /// Open incidents by rule and group.
    var open: [StateKey: Int64] = [:]
    var incidents: [Int64: Tracked] = [:]
    /// Last closed incident per rule and group, for linking a new one.
    var closed: [StateKey: Int64] = [:]
    var batch = CorrelationBatch()
    /// The latest state of every event changed since the last batch, by event id. Keyed by
    /// id, not by `EventKey`: an event replaced in `openEvents` (its window ended) or
    /// forgotten there must still reach the store with the alerts that reference it.
    var changedEvents: [Int64: SecurityEvent] = [:]
    /// The latest state of every incident changed since the last batch (kept here too, so an
    /// incident an analyst closes before the batch is taken still reaches the store).
    var changedIncidents: [Int64: Incident] = [:]

    struct EventKey: Hashable { var source: IPAddress; var destination: IPAddress; var gid: UInt32; var sid: UInt32 }
    struct StateKey: Hashable { var rule: Int; var group: String }

    struct Member { var alert: SecurityAlert; var alertID: Int64; var eventID: Int64; var time: Int64; var stage: Int; var value: String }
    final class RuleState {
        var members: [Member] = []
        var windowStart: Int64
        init(windowStart: Int64) { self.windowStart = windowStart }
    }

    /// An incident with the sets that grow with it.
    struct Tracked {
        var incident: Incident
        var events: Set<Int64> = []
        var sources: Set<String> = []
        var targets: Set<String> = []
        var affected: Set<IPAddress> = []
        var segments: Set<String> = []
        var constituents: [(String, String)] = []
        var ruleCare: Bool
        var affectedSide: CorrelationRule.Affected = .destination
        /// The rule's own severity, when it sets one (it overrides the alerts').
        var ruleSeverity: Int? = nil
        /// A constituent delivering patient care is affected.
        var careConstituent = false
        /// Internal sources, kept aside while targets are internal (destination rules).
        var internalSources: Set<IPAddress> = []
    }

    static let maxMembers = 10_000

    public init(rules: [CorrelationRule], policy: PriorityPolicy, homeNet: [CIDR], constituents: [ConstituentInfo],
                segmentNames: [String], segmentNetworks: [(String, [CIDR])]) {
        self.rules = rules
        self.policy = policy
        self.homeNet = homeNet
        self.constituents = constituents
        self.segmentNames = segmentNames
        self.segmentNetworks = segmentNetworks
    }

    /// Continues from a store: identifiers after the highest used, and the open incidents
    /// (with their events) absorbing new alerts as if the process had never stopped.
    public func resume(nextAlertID: Int64, nextEventID: Int64, nextIncidentID: Int64, openIncidents: [(Incident, Set<Int64>)],
                       closedIncidents: [Incident]) {
        self.nextAlertID = nextAlertID
        self.nextEventID = nextEventID
        self.nextIncidentID = nextIncidentID
        for c in closedIncidents {
            if let r = rules.firstIndex(where: { $0.id == c.ruleID }) { closed[StateKey(rule: r, group: c.groupKey)] = c.id }
        }
        for (incident, events) in openIncidents {
            guard let r = rules.firstIndex(where: { $0.id == incident.ruleID }) else { continue }
            var t = Tracked(incident: incident, events: events, ruleCare: rules[r].patientCareImpact, affectedSide: rules[r].affected,
                            ruleSeverity: rules[r].severity)
            t.sources = Set(incident.sources)
            t.targets = Set(incident.targets)
            t.segments = Set(incident.segments)
            let sources = incident.sources.compactMap { IPAddress($0) }.filter(isAffected)
            let targets = incident.targets.compactMap { IPAddress($0) }.filter(isAffected)
            switch rules[r].affected {
            case .source: t.affected = Set(sources)
            case .both: t.affected = Set(sources + targets)
            case .destination:
                t.affected = Set(targets.isEmpty ? sources : targets)
                t.internalSources = Set(sources)
            }
            let members = constituents.filter { incident.constituents.contains($0.name) }
            t.constituents = members.map { ($0.name, $0.type) }
            t.careConstituent = members.contains { $0.patientCare }
            incidents[incident.id] = t
            open[StateKey(rule: r, group: incident.groupKey)] = incident.id
        }
    }

    /// An incident's status changed outside (an analyst): closed ones stop absorbing.
    public func statusChanged(_ id: Int64, to status: IncidentStatus) {
        guard var t = incidents[id] else { return }
        t.incident.status = status
        if !status.isOpen, let r = rules.firstIndex(where: { $0.id == t.incident.ruleID }) {
            let key = StateKey(rule: r, group: t.incident.groupKey)
            open.removeValue(forKey: key)
            closed[key] = id
            incidents.removeValue(forKey: id)
        } else {
            incidents[id] = t
        }
    }

    // MARK: Ingest

    public func ingest(_ alert: SecurityAlert) {
        ingest(alert, id: nextAlertID)
    }

    /// Takes an alert whose identifier the store gave (the central store numbers alerts as
    /// sensors write them); later identifiers continue after it.
    public func ingest(_ alert: SecurityAlert, id alertID: Int64) {
        stats.alerts &+= 1
        nextAlertID = max(nextAlertID, alertID + 1)
        let eventID = event(for: alert)
        batch.alerts.append(.init(id: alertID, eventID: eventID, alert: alert, captureFile: captureFile))
        for (r, rule) in rules.enumerated() {
            guard let stage = rule.stageIndex(alert) else { continue }
            let group = groupKey(rule, stage: stage, alert)
            let key = StateKey(rule: r, group: group)
            if let id = open[key] {
                absorb(id, alert, eventID: eventID)
                stats.absorbed &+= 1
                continue
            }
            evaluate(rule, r, key: key, stage: stage, alert: alert, alertID: alertID, eventID: eventID)
        }
    }

    func event(for alert: SecurityAlert) -> Int64 {
        let key = EventKey(source: alert.source, destination: alert.destination, gid: alert.gid, sid: alert.sid)
        if var e = openEvents[key], alert.timestamp - e.lastSeen <= eventWindow {
            e.lastSeen = max(e.lastSeen, alert.timestamp)
            e.alertCount += 1
            e.severity = min(e.severity, alert.severity)
            openEvents[key] = e
            changedEvents[e.id] = e
            return e.id
        }
        let e = SecurityEvent(id: nextEventID, source: alert.source, destination: alert.destination, gid: alert.gid, sid: alert.sid,
                              signature: alert.signature, classtype: alert.classtype, severity: alert.severity, origin: alert.origin.kind,
                              firstSeen: alert.timestamp, lastSeen: alert.timestamp, alertCount: 1)
        nextEventID += 1
        stats.events &+= 1
        openEvents[key] = e
        changedEvents[e.id] = e
        if openEvents.count > 100_000 {
            // Forget events idle for longer than the window.
            openEvents = openEvents.filter { alert.timestamp - $0.value.lastSeen <= eventWindow }
        }
        return e.id
    }

    func value(_ field: GroupField, _ alert: SecurityAlert, host: GroupField) -> String {
        switch field {
        case .sourceIP: return alert.source.description
        case .destinationIP: return alert.destination.description
        case .destinationPort: return String(alert.destinationPort)
        case .sid: return "\(alert.gid):\(alert.sid)"
        case .classtype: return alert.classtype
        case .segment: return Int(alert.segment) < segmentNames.count ? segmentNames[Int(alert.segment)] : String(alert.segment)
        case .detector:
            if case .detector(let name) = alert.origin { return name }
            return alert.origin.kind
        case .host: return (host == .sourceIP ? alert.source : alert.destination).description
        }
    }

    func groupKey(_ rule: CorrelationRule, stage: Int, _ alert: SecurityAlert) -> String {
        rule.groupBy.map { value($0, alert, host: rule.stages[stage].host) }.joined(separator: "|")
    }

    func evaluate(_ rule: CorrelationRule, _ r: Int, key: StateKey, stage: Int, alert: SecurityAlert, alertID: Int64, eventID: Int64) {
        let now = alert.timestamp
        let state: RuleState
        if let s = ruleStates[key] {
            state = s
        } else {
            state = RuleState(windowStart: now)
            ruleStates[key] = state
        }
        // lt / lte are judged when the timespan is over: a window that ends with few alerts.
        if rule.comparison.atWindowEnd, now - state.windowStart > rule.timespan {
            let count = measure(rule, state)
            if rule.comparison.holds(count, rule.bound), !state.members.isEmpty {
                openIncident(rule, r, key: key, members: state.members, at: state.members.last!.time)
            }
            state.members = []
            state.windowStart = now
        }
        let fieldValue = rule.field.map { value($0, alert, host: rule.stages[stage].host) } ?? ""
        state.members.append(Member(alert: alert, alertID: alertID, eventID: eventID, time: now, stage: stage, value: fieldValue))
        if !rule.comparison.atWindowEnd {
            state.members.removeAll { now - $0.time > rule.timespan }
        }
        if state.members.count > Correlator.maxMembers { state.members.removeFirst(state.members.count - Correlator.maxMembers) }
        guard !rule.comparison.atWindowEnd else { return }
        let fires: Bool
        switch rule.kind {
        case .eventCount, .valueCount:
            fires = rule.comparison.holds(measure(rule, state), rule.bound)
        case .temporal:
            fires = Set(state.members.map(\.stage)).count == rule.stages.count
        case .temporalOrdered:
            // Each stage must have an alert no earlier than one of the stage before.
            var earliest = Int64.min
            var ok = true
            for s in 0..<rule.stages.count {
                guard let t = state.members.filter({ $0.stage == s && $0.time >= earliest }).map(\.time).min() else { ok = false; break }
                earliest = t
            }
            fires = ok
        }
        if fires {
            let members = state.members
            ruleStates.removeValue(forKey: key)
            openIncident(rule, r, key: key, members: members, at: now)
        }
    }

    func measure(_ rule: CorrelationRule, _ state: RuleState) -> Int {
        switch rule.kind {
        case .valueCount: return Set(state.members.map(\.value)).count
        default: return state.members.count
        }
    }

    /// Judges lt/lte windows that ended by packet time `now`.
    public func advance(to now: Int64) {
        for (key, state) in ruleStates {
            let rule = rules[key.rule]
            guard rule.comparison.atWindowEnd, now - state.windowStart > rule.timespan else { continue }
            if !state.members.isEmpty, rule.comparison.holds(measure(rule, state), rule.bound), open[key] == nil {
                openIncident(rule, key.rule, key: key, members: state.members, at: state.members.last!.time)
            }
            ruleStates.removeValue(forKey: key)
        }
    }

    // MARK: Incidents

    func openIncident(_ rule: CorrelationRule, _ r: Int, key: StateKey, members: [Member], at time: Int64) {
        let id = nextIncidentID
        nextIncidentID += 1
        stats.incidentsOpened &+= 1
        var incident = Incident(id: id, ruleID: rule.id, groupKey: key.group, title: rule.title, taxonomy: rule.taxonomy, type: rule.type,
                                firstSeen: members.first?.time ?? time, lastSeen: time, severity: rule.severity ?? 4)
        if let previous = closed[key] { incident.related.append(previous) }
        // A chain escalates the incidents its stages belong to.
        if rule.kind == .temporal || rule.kind == .temporalOrdered {
            let memberEvents = Set(members.map(\.eventID))
            for (otherID, other) in incidents where other.incident.ruleID != rule.id && !other.events.isDisjoint(with: memberEvents) {
                incident.related.append(otherID)
            }
            incident.related.sort()
        }
        incidents[id] = Tracked(incident: incident, ruleCare: rule.patientCareImpact, affectedSide: rule.affected, ruleSeverity: rule.severity)
        open[key] = id
        batch.opened.append(id)
        // The alerts that made the rule fire belong to it.
        for m in members { absorb(id, m.alert, eventID: m.eventID) }
    }

    func isAffected(_ address: IPAddress) -> Bool {
        homeNet.contains { $0.contains(address) } || constituents.contains { $0.networks.contains { $0.contains(address) } }
    }

    func absorb(_ id: Int64, _ alert: SecurityAlert, eventID: Int64) {
        guard var t = incidents[id] else { return }
        let targetIsSource = alert.target == "src_ip"
        let source = targetIsSource ? alert.destination : alert.source
        let target = targetIsSource ? alert.source : alert.destination
        t.incident.alertCount += 1
        if t.events.insert(eventID).inserted {
            t.incident.eventCount += 1
            batch.links.append((id, eventID))
        }
        t.incident.firstSeen = min(t.incident.firstSeen, alert.timestamp)
        t.incident.lastSeen = max(t.incident.lastSeen, alert.timestamp)
        t.incident.severity = min(t.incident.severity, t.ruleSeverity ?? alert.severity)
        if t.sources.count < Incident.maxHosts, t.sources.insert(source.description).inserted { t.incident.sources.append(source.description) }
        if t.targets.count < Incident.maxHosts, t.targets.insert(target.description).inserted { t.incident.targets.append(target.description) }
        var hit: [IPAddress] = []
        switch t.affectedSide {
        case .source: hit = [source]
        case .both: hit = [source, target]
        case .destination:
            if isAffected(target) {
                hit = [target]
                if t.affected.isEmpty || t.affected.isSubset(of: t.internalSources) {
                    // Internal sources counted so far were standing in for targets: drop them.
                    if !t.internalSources.isEmpty && !t.affected.isEmpty { resetAffected(&t) }
                }
            } else if t.affected.isEmpty || t.affected.isSubset(of: t.internalSources) {
                hit = [source]
            }
            if isAffected(source) { t.internalSources.insert(source) }
        }
        for address in hit where isAffected(address) && t.affected.count < 100_000 {
            guard t.affected.insert(address).inserted else { continue }
            addHost(address, &t)
        }
        if captureSegments, Int(alert.segment) < segmentNames.count {
            let name = segmentNames[Int(alert.segment)]
            if t.segments.insert(name).inserted { t.incident.segments.append(name) }
        }
        reprioritise(&t)
        incidents[id] = t
        changedIncidents[id] = t.incident
    }

    /// Registers the constituents and segments of an affected host.
    func addHost(_ address: IPAddress, _ t: inout Tracked) {
        for c in constituents where c.networks.contains(where: { $0.contains(address) }) && !t.constituents.contains(where: { $0.0 == c.name }) {
            t.constituents.append((c.name, c.type))
            t.incident.constituents.append(c.name)
            if c.patientCare { t.careConstituent = true }
        }
        for (name, networks) in segmentNetworks where networks.contains(where: { $0.contains(address) }) {
            if t.segments.insert(name).inserted { t.incident.segments.append(name) }
        }
    }

    /// Forgets the affected hosts (internal sources stood in for targets until an internal
    /// target appeared).
    func resetAffected(_ t: inout Tracked) {
        t.affected = []
        t.constituents = []
        t.incident.constituents = []
        t.segments = []
        t.incident.segments = []
        t.careConstituent = false
    }

    func reprioritise(_ t: inout Tracked) {
        // Patient care counts when the rule says so, or when a constituent delivering care is
        // affected by a high-severity incident.
        let care = t.ruleCare || (t.careConstituent && t.incident.severity <= 1)
        if care { t.incident.patientCare = true }
        let hosts = max(t.affected.count, t.affected.isEmpty ? t.targets.count : 0)
        let result = policy.evaluate(severity: t.incident.severity, hosts: hosts, constituents: t.constituents,
                                     segments: t.segments.count, patientCare: care)
        // Priority only rises (a smaller number); the reason names the sum that set it.
        if result.priority < t.incident.priority || t.incident.priorityReason.isEmpty {
            t.incident.priority = result.priority
            t.incident.priorityReason = result.reason
        }
        t.incident.score = max(t.incident.score, result.score)
        if (result.reportable || t.incident.reportable) && !t.incident.reportable {
            t.incident.reportable = true
            t.incident.reportDeadline = t.incident.firstSeen + policy.reportDeadline
        }
    }

    // MARK: Batches

    /// Takes the changes since the last call.
    public func takeBatch() -> CorrelationBatch {
        var out = batch
        batch = CorrelationBatch()
        out.events = changedEvents.values.sorted { $0.id < $1.id }
        out.incidents = changedIncidents.values.sorted { $0.id < $1.id }
        changedEvents = [:]
        changedIncidents = [:]
        return out
    }

    public var openIncidents: [Incident] { incidents.values.map(\.incident).sorted { $0.id < $1.id } }
}

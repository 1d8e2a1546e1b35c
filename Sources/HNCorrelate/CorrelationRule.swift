import Foundation
import HNConfig
import HNDecode
import HNAlert
import Yams

/// Which alerts a rule (or one stage of it) takes. Empty lists do not constrain; the
/// lists given must all match (an alert matches a list when it matches one entry).
public struct AlertSelection: Sendable {
    public var sids: [ClosedRange<UInt32>] = []
    public var classtypes: [String] = []
    public var detectors: [String] = []
    /// Indicator sources; "*" for any indicator.
    public var indicatorSources: [String] = []
    /// "signature", "indicator", "detector".
    public var origins: [String] = []
    /// Alerts of this severity or more severe (1 highest).
    public var maxSeverity: Int? = nil

    public init() {}

    public func matches(_ a: SecurityAlert) -> Bool {
        if !sids.isEmpty, !sids.contains(where: { $0.contains(a.sid) }) { return false }
        if !origins.isEmpty, !origins.contains(a.origin.kind) { return false }
        if let maxSeverity, a.severity > maxSeverity { return false }
        // classtype, detector and indicator source are alternatives of "what it is": an alert
        // matches when any of the given ones does.
        let kinds = !classtypes.isEmpty || !detectors.isEmpty || !indicatorSources.isEmpty
        guard kinds else { return true }
        if classtypes.contains(a.classtype) { return true }
        switch a.origin {
        case .detector(let name): return detectors.contains(name)
        case .indicator(let source): return indicatorSources.contains(source) || indicatorSources.contains("*")
        case .signature: return false
        }
    }
}

/// A field alerts are grouped by.
public enum GroupField: String, Sendable, CaseIterable {
    case sourceIP = "src_ip", destinationIP = "dest_ip", destinationPort = "dest_port", sid, detector, classtype, segment
    /// The host a stage names (`host: src_ip` or `dest_ip` on the stage): follows one
    /// machine from target of reconnaissance to source of command and control.
    case host
}

/// A correlation rule with the semantics of Sigma correlation rules: `event_count`,
/// `value_count`, `temporal` and `temporal_ordered`, over alerts grouped by fields within a
/// timespan, with a condition. When it fires it opens an incident (or grows the open one with
/// the same rule and group).
public struct CorrelationRule: Sendable {
    public enum Kind: String, Sendable, CaseIterable {
        case eventCount = "event_count", valueCount = "value_count", temporal, temporalOrdered = "temporal_ordered"
    }
    public enum Comparison: String, Sendable, CaseIterable {
        case gt, gte, lt, lte, eq
        func holds(_ value: Int, _ bound: Int) -> Bool {
            switch self {
            case .gt: value > bound
            case .gte: value >= bound
            case .lt: value < bound
            case .lte: value <= bound
            case .eq: value == bound
            }
        }
        /// lt and lte can only be judged when the timespan is over.
        var atWindowEnd: Bool { self == .lt || self == .lte }
    }
    public struct Stage: Sendable {
        public var name: String
        public var selection: AlertSelection
        /// Which side of the alert is the `host` group field.
        public var host: GroupField = .destinationIP
    }

    public var id: String
    public var title: String
    public var kind: Kind
    public var stages: [Stage]
    public var groupBy: [GroupField]
    public var timespan: Int64
    public var comparison: Comparison
    public var bound: Int
    /// For value_count: the field whose distinct values are counted.
    public var field: GroupField? = nil
    public var taxonomy: String
    public var type: String
    /// Overrides the alerts' severity for the incident (1 highest).
    public var severity: Int? = nil
    /// The incident affects patient care whatever the constituent.
    public var patientCareImpact = false
    /// Which side of the alerts is the affected HealthNet host: the target (default; when
    /// every target is outside, the internal sources), the source (command and control, data
    /// leaks: the internal host calling out), or both (lateral movement).
    public enum Affected: String, Sendable, CaseIterable { case destination = "dest_ip", source = "src_ip", both }
    public var affected = Affected.destination
    public var file = ""
    public var line = 0

    /// True when `alert` is taken by some stage.
    public func stageIndex(_ alert: SecurityAlert) -> Int? { stages.firstIndex { $0.selection.matches(alert) } }
}

/// Loads `Rules/correlation/*.yaml`: a list of rules per file (or `rules:` with the list).
public enum CorrelationRuleLoader {
    public static func load(folder: String) throws(ConfigError) -> [CorrelationRule] {
        var rules: [CorrelationRule] = []
        for (file, text) in try YAMLReader.folder(folder) {
            for rule in try parse(text, file: file) {
                if let other = rules.first(where: { $0.id == rule.id }) {
                    throw ConfigError(description: "\(file):\(rule.line): id '\(rule.id)' already used at \(other.file):\(other.line)")
                }
                rules.append(rule)
            }
        }
        return rules
    }

    public static func parse(_ text: String, file: String) throws(ConfigError) -> [CorrelationRule] {
        guard let root = try YAMLReader.compose(text, file: file) else { return [] }
        let r = YAMLReader(file: file)
        var items: [Node]
        if case .mapping = root {
            let top = try r.mapping(root, "", allowed: ["rules"])
            items = []
            for (_, _, v) in top { items = try r.sequence(v, "rules") }
        } else {
            items = try r.sequence(root, "")
        }
        var result: [CorrelationRule] = []
        for (i, item) in items.enumerated() { result.append(try rule(item, index: i, r)) }
        return result
    }

    static func rule(_ node: Node, index: Int, _ r: YAMLReader) throws(ConfigError) -> CorrelationRule {
        let allowed = ["id", "title", "type", "selection", "stages", "group-by", "timespan", "condition", "classification",
                       "severity", "patient_care_impact", "affected"]
        var path = "[\(index)]"
        var id: String?, title: String?, kind: CorrelationRule.Kind?, selection: AlertSelection?, stages: [CorrelationRule.Stage] = []
        var groupBy: [GroupField] = [], timespan: Int64?, comparison: CorrelationRule.Comparison = .gte, bound = 1
        var field: GroupField? = nil, taxonomy: String?, type: String?, severity: Int? = nil, care = false
        var affected = CorrelationRule.Affected.destination
        let entries = try r.mapping(node, path, allowed: allowed)
        for (k, _, v) in entries where k == "id" {
            id = try r.string(v, "\(path).id")
            path = id ?? path
        }
        for (k, _, v) in entries {
            let p = "\(path).\(k)"
            switch k {
            case "id": break
            case "title": title = try r.string(v, p)
            case "type":
                let text = try r.string(v, p)
                guard let t = CorrelationRule.Kind(rawValue: text) else {
                    throw r.fail(v, p, "unknown type '\(text)' (expected one of: \(CorrelationRule.Kind.allCases.map(\.rawValue).joined(separator: ", ")))")
                }
                kind = t
            case "selection": selection = try self.selection(v, p, r)
            case "stages":
                for (j, s) in try r.sequence(v, p).enumerated() {
                    let sp = "\(p)[\(j)]"
                    var stage = CorrelationRule.Stage(name: "stage \(j + 1)", selection: AlertSelection())
                    for (sk, _, sv) in try r.mapping(s, sp, allowed: ["name", "selection", "host"]) {
                        switch sk {
                        case "name": stage.name = try r.string(sv, "\(sp).name")
                        case "selection": stage.selection = try self.selection(sv, "\(sp).selection", r)
                        default:
                            let text = try r.string(sv, "\(sp).host")
                            guard text == "src_ip" || text == "dest_ip" else { throw r.fail(sv, "\(sp).host", "expected src_ip or dest_ip") }
                            stage.host = GroupField(rawValue: text)!
                        }
                    }
                    stages.append(stage)
                }
            case "group-by":
                for (j, name) in try r.strings(v, p).enumerated() {
                    guard let g = GroupField(rawValue: name) else {
                        throw r.fail(v, "\(p)[\(j)]", "unknown field '\(name)' (expected one of: \(GroupField.allCases.map(\.rawValue).joined(separator: ", ")))")
                    }
                    groupBy.append(g)
                }
            case "timespan": timespan = try r.duration(v, p)
            case "condition":
                var found = false
                for (ck, _, cv) in try r.mapping(v, p, allowed: CorrelationRule.Comparison.allCases.map(\.rawValue) + ["field"]) {
                    if ck == "field" {
                        let text = try r.string(cv, "\(p).field")
                        guard let g = GroupField(rawValue: text), g != .host else { throw r.fail(cv, "\(p).field", "unknown field '\(text)'") }
                        field = g
                        continue
                    }
                    guard !found else { throw r.fail(cv, "\(p).\(ck)", "give one comparison only") }
                    found = true
                    comparison = CorrelationRule.Comparison(rawValue: ck)!
                    bound = try r.int(cv, "\(p).\(ck)", 0...100_000_000)
                }
                guard found else { throw r.fail(v, p, "missing comparison (gt, gte, lt, lte or eq)") }
            case "classification":
                for (ck, _, cv) in try r.mapping(v, p, allowed: ["taxonomy", "type"]) {
                    if ck == "taxonomy" { taxonomy = try r.string(cv, "\(p).taxonomy") } else { type = try r.string(cv, "\(p).type") }
                }
                guard let taxonomy, let type else { throw r.fail(v, p, "needs taxonomy and type") }
                guard RSIT.isValid(taxonomy: taxonomy, type: type) else {
                    throw r.fail(v, p, "'\(taxonomy)/\(type)' is not in the Reference Security Incident Taxonomy (as IntelMQ spells it)")
                }
            case "severity": severity = try r.int(v, p, 1...4)
            case "affected":
                let text = try r.string(v, p)
                guard let a = CorrelationRule.Affected(rawValue: text) else { throw r.fail(v, p, "expected dest_ip, src_ip or both") }
                affected = a
            default: care = try r.bool(v, p)
            }
        }
        guard let id else { throw r.fail(node, path, "missing key 'id'") }
        guard let kind else { throw r.fail(node, path, "missing key 'type'") }
        guard let taxonomy, let type else { throw r.fail(node, path, "missing key 'classification'") }
        guard let timespan else { throw r.fail(node, path, "missing key 'timespan'") }
        switch kind {
        case .eventCount, .valueCount:
            guard let selection else { throw r.fail(node, path, "\(kind.rawValue) needs 'selection'") }
            guard stages.isEmpty else { throw r.fail(node, path, "\(kind.rawValue) takes 'selection', not 'stages'") }
            stages = [.init(name: "selection", selection: selection)]
            if kind == .valueCount, field == nil { throw r.fail(node, "\(path).condition", "value_count needs condition.field") }
        case .temporal, .temporalOrdered:
            guard stages.count >= 2 else { throw r.fail(node, path, "\(kind.rawValue) needs at least two 'stages'") }
            guard selection == nil else { throw r.fail(node, path, "\(kind.rawValue) takes 'stages', not 'selection'") }
        }
        if groupBy.contains(.host), kind == .eventCount || kind == .valueCount {
            // host on a single-stage rule means the destination.
        }
        var rule = CorrelationRule(id: id, title: title ?? id, kind: kind, stages: stages, groupBy: groupBy, timespan: timespan,
                                   comparison: comparison, bound: bound, taxonomy: taxonomy, type: type)
        rule.field = field
        rule.severity = severity
        rule.patientCareImpact = care
        rule.affected = affected
        rule.file = r.file
        rule.line = node.mark?.line ?? 0
        return rule
    }

    static func selection(_ node: Node, _ path: String, _ r: YAMLReader) throws(ConfigError) -> AlertSelection {
        var s = AlertSelection()
        for (k, _, v) in try r.mapping(node, path, allowed: ["sid", "classtype", "detector", "indicator_source", "origin", "severity"]) {
            let p = "\(path).\(k)"
            switch k {
            case "sid":
                for (j, text) in try r.strings(v, p).enumerated() {
                    let parts = text.split(separator: "-")
                    guard let a = parts.first.flatMap({ UInt32($0) }), parts.count <= 2,
                          let b = parts.count == 2 ? UInt32(parts[1]) : a, a <= b else {
                        throw r.fail(v, "\(p)[\(j)]", "expected a sid or a range such as 9100000-9100999")
                    }
                    s.sids.append(a...b)
                }
            case "classtype": s.classtypes = try r.strings(v, p)
            case "detector":
                s.detectors = try r.strings(v, p)
            case "indicator_source": s.indicatorSources = try r.strings(v, p)
            case "origin":
                s.origins = try r.strings(v, p)
                for o in s.origins where !["signature", "indicator", "detector"].contains(o) {
                    throw r.fail(v, p, "unknown origin '\(o)' (expected signature, indicator or detector)")
                }
            default: s.maxSeverity = try r.int(v, p, 1...4)
            }
        }
        return s
    }
}

import HNConfig
import HNDecode
import Yams

/// A HealthNet member organisation, from the sensor configuration.
public struct ConstituentInfo: Sendable {
    public var name: String
    public var type: String
    public var networks: [CIDR]
    public var patientCare: Bool
    public init(name: String, type: String, networks: [CIDR], patientCare: Bool) {
        self.name = name
        self.type = type
        self.networks = networks
        self.patientCare = patientCare
    }
}

/// How an incident's priority is computed, following the HealthNet CSIRT's criteria:
/// severity, extent (affected hosts, constituents, segments), the type of constituent hit,
/// and the impact on patient care. Points add up to a score; thresholds turn it into P1..P4.
/// Every figure is configurable (`priority:` in the configuration) and each incident carries
/// the sum that produced its priority (`priority_reason`).
public struct PriorityPolicy: Sendable {
    /// Points for alert severity 1, 2, 3, 4.
    public var severityPoints = [4, 2, 1, 0]
    /// Points for the most critical constituent type hit.
    public var constituentPoints: [String: Int] = [
        "hospital": 3, "laboratory": 2, "care-home": 2, "doctor": 1, "pharmacy": 1, "public-institution": 1, "it-provider": 1, "other": 0,
    ]
    /// Points when a constituent delivering patient care (or the rule) says care is at stake.
    public var patientCarePoints = 2
    /// (affected hosts at least, points), highest first matters.
    public var hostSteps: [(Int, Int)] = [(2, 1), (10, 2), (100, 3)]
    public var severalConstituentsPoints = 1
    public var severalSegmentsPoints = 1
    /// Minimum score for P1, P2, P3; below P3 is P4.
    public var thresholds = [9, 6, 3]
    /// Incidents at this priority or more urgent are reportable.
    public var reportablePriority = 1
    /// With patient care at stake, incidents at this priority or more urgent are reportable.
    public var patientCareReportablePriority = 2
    /// Time from first_seen to report a reportable incident.
    public var reportDeadline: Int64 = 24 * 3_600_000_000_000

    public init() {}

    public struct Result: Sendable {
        public var priority: Int
        public var score: Int
        public var reason: String
        public var reportable: Bool
    }

    /// - Parameters:
    ///   - hosts: distinct affected hosts; constituents: (name, type) hit; patientCare: at stake.
    public func evaluate(severity: Int, hosts: Int, constituents: [(String, String)], segments: Int, patientCare: Bool) -> Result {
        var parts: [String] = []
        var score = 0
        let s = severityPoints[max(0, min(3, severity - 1))]
        score += s
        parts.append("severity \(severity) (+\(s))")
        if let step = hostSteps.sorted(by: { $0.0 > $1.0 }).first(where: { hosts >= $0.0 }) {
            score += step.1
            parts.append("\(hosts) hosts (+\(step.1))")
        }
        if let best = constituents.max(by: { (constituentPoints[$0.1] ?? 0) < (constituentPoints[$1.1] ?? 0) }) {
            let p = constituentPoints[best.1] ?? 0
            score += p
            parts.append("\(best.1) \(best.0) (+\(p))")
        }
        if constituents.count >= 2 && severalConstituentsPoints > 0 {
            score += severalConstituentsPoints
            parts.append("\(constituents.count) constituents (+\(severalConstituentsPoints))")
        }
        if segments >= 2 && severalSegmentsPoints > 0 {
            score += severalSegmentsPoints
            parts.append("\(segments) segments (+\(severalSegmentsPoints))")
        }
        if patientCare {
            score += patientCarePoints
            parts.append("patient care (+\(patientCarePoints))")
        }
        var priority = 4
        for (i, t) in thresholds.enumerated() where score >= t {
            priority = i + 1
            break
        }
        let bound = priority < 4 ? " >= \(thresholds[priority - 1])" : " < \(thresholds[2])"
        let reportable = priority <= reportablePriority || (patientCare && priority <= patientCareReportablePriority)
        return Result(priority: priority, score: score, reason: parts.joined(separator: " + ") + " = \(score)\(bound) -> P\(priority)",
                      reportable: reportable)
    }

    // MARK: Configuration

    /// Applies the `priority:` section of the configuration.
    public mutating func apply(_ node: Node, _ r: YAMLReader) throws(ConfigError) {
        let keys = ["severity_points", "constituent_points", "patient_care_points", "host_steps", "several_constituents_points",
                    "several_segments_points", "thresholds", "reportable_priority", "patient_care_reportable_priority", "report_deadline"]
        for (k, _, v) in try r.mapping(node, "priority", allowed: keys) {
            let p = "priority.\(k)"
            switch k {
            case "severity_points":
                let items = try r.sequence(v, p)
                guard items.count == 4 else { throw r.fail(v, p, "expected four numbers (severity 1, 2, 3, 4)") }
                var points: [Int] = []
                for (i, item) in items.enumerated() { points.append(try r.int(item, "\(p)[\(i)]", 0...100)) }
                severityPoints = points
            case "constituent_points":
                for (name, _, value) in try r.mapping(v, p, allowed: Array(constituentPoints.keys).sorted()) {
                    constituentPoints[name] = try r.int(value, "\(p).\(name)", 0...100)
                }
            case "patient_care_points": patientCarePoints = try r.int(v, p, 0...100)
            case "host_steps":
                var steps: [(Int, Int)] = []
                for (hosts, _, value) in try r.mapping(v, p, allowed: try r.keys(v, p)) {
                    guard let h = Int(hosts), h >= 1 else { throw r.fail(v, "\(p).\(hosts)", "expected a number of hosts as key") }
                    steps.append((h, try r.int(value, "\(p).\(hosts)", 0...100)))
                }
                hostSteps = steps
            case "several_constituents_points": severalConstituentsPoints = try r.int(v, p, 0...100)
            case "several_segments_points": severalSegmentsPoints = try r.int(v, p, 0...100)
            case "thresholds":
                var t = thresholds
                for (name, _, value) in try r.mapping(v, p, allowed: ["P1", "P2", "P3"]) {
                    t[Int(name.dropFirst())! - 1] = try r.int(value, "\(p).\(name)", 0...1000)
                }
                guard t[0] >= t[1], t[1] >= t[2] else { throw r.fail(v, p, "expected P1 >= P2 >= P3") }
                thresholds = t
            case "reportable_priority": reportablePriority = try priorityValue(v, p, r)
            case "patient_care_reportable_priority": patientCareReportablePriority = try priorityValue(v, p, r)
            default: reportDeadline = try r.duration(v, p)
            }
        }
    }

    func priorityValue(_ v: Node, _ p: String, _ r: YAMLReader) throws(ConfigError) -> Int {
        let text = try r.string(v, p)
        guard text.count == 2, text.first == "P", let n = Int(text.dropFirst()), (0...4).contains(n) else {
            throw r.fail(v, p, "expected P1, P2, P3, P4 (or P0 for never)")
        }
        return n
    }
}

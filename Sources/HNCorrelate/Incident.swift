import HNDecode
import HNAlert

/// Incident statuses, following the HealthNet CSIRT's five phases, plus the closing states.
public enum IncidentStatus: String, Sendable, CaseIterable, Codable {
    case new, qualification, containment, investigation, remediation, hardening, closed
    case falsePositive = "false-positive", duplicate

    public var isOpen: Bool { self != .closed && self != .falsePositive && self != .duplicate }

    /// The statuses an analyst may move an incident to from this one. Phases go forward
    /// (containment and investigation may alternate); closed incidents reopen into
    /// investigation, false positives and duplicates into qualification.
    public var next: [IncidentStatus] {
        switch self {
        case .new: [.qualification, .falsePositive, .duplicate]
        case .qualification: [.containment, .investigation, .closed, .falsePositive, .duplicate]
        case .containment: [.investigation, .remediation]
        case .investigation: [.containment, .remediation, .closed]
        case .remediation: [.hardening, .closed]
        case .hardening: [.closed]
        case .closed: [.investigation]
        case .falsePositive, .duplicate: [.qualification]
        }
    }
}

/// A security event (ISO/IEC TR 18044): alerts sharing source, destination and signature
/// (or detector) within the event window.
public struct SecurityEvent: Sendable {
    public var id: Int64
    public var source: IPAddress
    public var destination: IPAddress
    public var gid: UInt32
    public var sid: UInt32
    public var signature: String
    public var classtype: String
    public var severity: Int
    public var origin: String
    public var firstSeen: Int64
    public var lastSeen: Int64
    public var alertCount: Int

    public init(id: Int64, source: IPAddress, destination: IPAddress, gid: UInt32, sid: UInt32, signature: String, classtype: String,
                severity: Int, origin: String, firstSeen: Int64, lastSeen: Int64, alertCount: Int) {
        self.id = id
        self.source = source
        self.destination = destination
        self.gid = gid
        self.sid = sid
        self.signature = signature
        self.classtype = classtype
        self.severity = severity
        self.origin = origin
        self.firstSeen = firstSeen
        self.lastSeen = lastSeen
        self.alertCount = alertCount
    }
}

/// An incident: one or a series of events likely to harm operations.
public struct Incident: Sendable {
    public var id: Int64
    public var ruleID: String
    /// The values of the rule's group-by fields, joined: with the rule, what an open
    /// incident absorbs.
    public var groupKey: String
    public var title: String
    public var taxonomy: String
    public var type: String
    public var status: IncidentStatus = .new
    public var assignee: String? = nil
    public var sources: [String] = []
    public var targets: [String] = []
    public var segments: [String] = []
    public var constituents: [String] = []
    public var firstSeen: Int64
    public var lastSeen: Int64
    public var alertCount = 0
    public var eventCount = 0
    /// The most severe alert severity seen (1 highest), or the rule's.
    public var severity: Int
    /// 1 (P1, most urgent) to 4.
    public var priority = 4
    public var priorityReason = ""
    public var score = 0
    public var patientCare = false
    public var reportable = false
    /// Nanoseconds since the epoch by which a reportable incident must be reported.
    public var reportDeadline: Int64? = nil
    public var reportedAt: Int64? = nil
    /// Earlier incidents this one continues (a closed incident of the same rule and group)
    /// or builds on (the incidents a multi-stage chain escalates).
    public var related: [Int64] = []

    public init(id: Int64, ruleID: String, groupKey: String, title: String, taxonomy: String, type: String, firstSeen: Int64,
                lastSeen: Int64, severity: Int) {
        self.id = id
        self.ruleID = ruleID
        self.groupKey = groupKey
        self.title = title
        self.taxonomy = taxonomy
        self.type = type
        self.firstSeen = firstSeen
        self.lastSeen = lastSeen
        self.severity = severity
    }

    public var priorityName: String { "P\(priority)" }
    /// Hosts kept per list in an incident (the counts stay exact).
    public static let maxHosts = 1000
}

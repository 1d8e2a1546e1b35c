import Crypto
import Foundation
import HNCorrelate
import HNDecode
import HNOutput
import HNStore

/// Exports of one incident in the formats CSIRTs exchange: a MISP event, a STIX 2.1 bundle,
/// and a notification report in Markdown. Identifiers are derived from the incident's
/// content (UUID version 5), so the same incident exports identically every time.
public enum IncidentExport {
    public struct Material: Sendable {
        public var incident: Incident
        public var events: [SecurityEvent]
        public var alerts: [IncidentStore.StoredAlert]
        public var audit: [IncidentStore.AuditEntry]
        public var sensorName: String
        /// HealthNet's address space: addresses outside it are the indicators to share.
        public var homeNet: [CIDR]
        /// True once `alerts[].excerpt` holds decrypted bytes (`incidents show --evidence`);
        /// exports never include excerpts.
        public var excerptsReadable = false
        /// The sensors whose alerts the incident holds (`incidents show`), when asked.
        public var sensors: [String]? = nil
        public init(incident: Incident, events: [SecurityEvent], alerts: [IncidentStore.StoredAlert], audit: [IncidentStore.AuditEntry],
                    sensorName: String, homeNet: [CIDR]) {
            self.incident = incident
            self.events = events
            self.alerts = alerts
            self.audit = audit
            self.sensorName = sensorName
            self.homeNet = homeNet
        }

        /// External addresses of the incident (sources first): what other CSIRTs can block.
        var external: [String] {
            var seen: [String] = []
            for a in incident.sources + incident.targets where !seen.contains(a) {
                if let ip = IPAddress(a), !homeNet.contains(where: { $0.contains(ip) }) { seen.append(a) }
            }
            return seen
        }
    }

    // MARK: Identifiers and time

    /// RFC 4122 version-5 UUID (SHA-1) of `name` in `namespace`.
    public static func uuid5(_ namespace: String, _ name: String) -> String { uuid(namespace, name, version: 5) }

    /// A version-4-form UUID derived from content (STIX asks for version 4 identifiers on
    /// domain and relationship objects; deriving them keeps exports reproducible).
    public static func uuid4(_ namespace: String, _ name: String) -> String { uuid(namespace, name, version: 4) }

    static func uuid(_ namespace: String, _ name: String, version: UInt8) -> String {
        let ns = namespace.replacingOccurrences(of: "-", with: "")
        var bytes: [UInt8] = []
        var i = ns.startIndex
        while i < ns.endIndex, let j = ns.index(i, offsetBy: 2, limitedBy: ns.endIndex) {
            bytes.append(UInt8(ns[i..<j], radix: 16) ?? 0)
            i = j
        }
        var digest = Array(Insecure.SHA1.hash(data: bytes + Array(name.utf8)).prefix(16))
        digest[6] = (digest[6] & 0x0F) | (version << 4)
        digest[8] = (digest[8] & 0x3F) | 0x80
        let hex = digest.map { String(format: "%02x", $0) }.joined()
        let c = Array(hex)
        return String(c[0..<8]) + "-" + String(c[8..<12]) + "-" + String(c[12..<16]) + "-" + String(c[16..<20]) + "-" + String(c[20..<32])
    }

    /// The project's namespace for incident-derived identifiers.
    static let namespace = "6f3c2b1e-8d4a-5c7e-9f10-4e2a1b3c5d70"
    /// STIX 2.1's namespace for deterministic cyber-observable identifiers.
    static let stixNamespace = "00abedb4-aa42-466c-9c01-fed23315a9b7"

    /// RFC 3339 UTC with milliseconds, as STIX wants ("2026-11-02T08:00:09.000Z").
    static func stixTime(_ ns: Int64) -> String {
        let eve = EVETime.format(ns)  // 2026-11-02T08:00:09.123456+0000
        return String(eve.prefix(23)) + "Z"
    }

    static func json(_ object: Any) -> String {
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes])) ?? Data()
        return String(decoding: data, as: UTF8.self)
    }

    // MARK: MISP

    /// A MISP event (the `{"Event": …}` layout of MISP's JSON export): source and target
    /// addresses as ip-src / ip-dst attributes, each signature as a text attribute, the RSIT
    /// class as an `rsit:` taxonomy tag, TLP:AMBER (health data), priority as threat level.
    public static func misp(_ m: Material) -> String {
        let i = m.incident
        let eventUUID = uuid5(namespace, "misp-event/\(m.sensorName)/\(i.id)/\(i.firstSeen)")
        let timestamp = String(i.lastSeen / 1_000_000_000)
        var attributes: [[String: Any]] = []
        func attribute(_ type: String, _ category: String, _ value: String, _ toIDS: Bool, _ comment: String) {
            attributes.append([
                "uuid": uuid5(eventUUID, "\(type)/\(value)"), "type": type, "category": category, "value": value,
                "to_ids": toIDS, "comment": comment, "timestamp": timestamp, "distribution": "5",
            ])
        }
        let external = Set(m.external)
        for s in i.sources { attribute("ip-src", "Network activity", s, external.contains(s), external.contains(s) ? "external source" : "HealthNet host") }
        for t in i.targets where !i.sources.contains(t) {
            attribute("ip-dst", "Network activity", t, external.contains(t), external.contains(t) ? "external destination" : "HealthNet host")
        }
        var signatures: [String] = []
        for e in m.events where !signatures.contains(e.signature) { signatures.append(e.signature) }
        for s in signatures { attribute("text", "Other", s, false, "alert signature") }
        let event: [String: Any] = [
            "uuid": eventUUID,
            "info": "\(i.title) (hnsensor incident \(i.id))",
            "date": String(EVETime.format(i.firstSeen).prefix(10)),
            "timestamp": timestamp,
            "threat_level_id": String(min(3, i.priority)),  // MISP: 1 high, 2 medium, 3 low
            "analysis": i.status == .closed ? "2" : "1",
            "distribution": "0",
            "published": false,
            "Orgc": ["name": "HealthNet CSIRT"],
            "Tag": [
                ["name": "rsit:\(i.taxonomy)=\"\(i.type)\""],
                ["name": "tlp:amber"],
                ["name": "hnsensor:priority=\"\(i.priorityName)\""],
            ],
            "Attribute": attributes,
        ]
        return json(["Event": event])
    }

    // MARK: STIX

    /// A STIX 2.1 bundle: the reporting identity, the incident, an indicator per external
    /// source address, the observed addresses (observed-data with ipv4/ipv6-addr objects) and
    /// a sighting of each indicator.
    public static func stix(_ m: Material) -> String {
        let i = m.incident
        let created = stixTime(i.firstSeen)
        let modified = stixTime(max(i.lastSeen, i.firstSeen))
        let identityID = "identity--" + uuid4(namespace, "identity/\(m.sensorName)")
        let incidentID = "incident--" + uuid4(namespace, "incident/\(m.sensorName)/\(i.id)/\(i.firstSeen)")
        var objects: [[String: Any]] = []
        objects.append([
            "type": "identity", "spec_version": "2.1", "id": identityID, "created": created, "modified": created,
            "name": "HealthNet CSIRT (sensor \(m.sensorName))", "identity_class": "organization", "sectors": ["healthcare"],
        ])
        objects.append([
            "type": "incident", "spec_version": "2.1", "id": incidentID, "created": created, "modified": modified,
            "created_by_ref": identityID, "name": i.title,
            "description": "\(i.taxonomy)/\(i.type), \(i.priorityName) (\(i.priorityReason)); \(i.alertCount) alerts in \(i.eventCount) events; status \(i.status.rawValue).",
            "labels": ["rsit:\(i.taxonomy)/\(i.type)", i.priorityName.lowercased()],
        ])
        var observableIDs: [String] = []
        for address in i.sources + i.targets {
            let v6 = address.contains(":")
            let type = v6 ? "ipv6-addr" : "ipv4-addr"
            let id = "\(type)--" + uuid5(stixNamespace, "{\"value\":\"\(address)\"}")
            if observableIDs.contains(id) { continue }
            observableIDs.append(id)
            objects.append(["type": type, "spec_version": "2.1", "id": id, "value": address])
        }
        let observedID = "observed-data--" + uuid4(namespace, "observed/\(incidentID)")
        objects.append([
            "type": "observed-data", "spec_version": "2.1", "id": observedID, "created": created, "modified": modified,
            "created_by_ref": identityID, "first_observed": created, "last_observed": modified,
            "number_observed": max(1, i.alertCount), "object_refs": observableIDs,
        ])
        for source in m.external {
            let type = source.contains(":") ? "ipv6-addr" : "ipv4-addr"
            let indicatorID = "indicator--" + uuid4(namespace, "indicator/\(incidentID)/\(source)")
            objects.append([
                "type": "indicator", "spec_version": "2.1", "id": indicatorID, "created": created, "modified": modified,
                "created_by_ref": identityID, "name": "\(source): \(i.title)", "indicator_types": ["malicious-activity"],
                "description": "Address seen in HealthNet incident \(i.id) (\(i.taxonomy)/\(i.type)), \(i.alertCount) alerts.",
                "pattern": "[\(type):value = '\(source)']", "pattern_type": "stix", "valid_from": created,
            ])
            objects.append([
                "type": "sighting", "spec_version": "2.1", "id": "sighting--" + uuid4(namespace, "sighting/\(indicatorID)"),
                "created": created, "modified": modified, "created_by_ref": identityID, "sighting_of_ref": indicatorID,
                "observed_data_refs": [observedID], "where_sighted_refs": [identityID], "first_seen": created,
                "last_seen": modified, "count": max(1, i.alertCount),
            ])
            objects.append([
                "type": "relationship", "spec_version": "2.1", "id": "relationship--" + uuid4(namespace, "rel/\(indicatorID)"),
                "created": created, "modified": modified, "relationship_type": "related-to", "source_ref": indicatorID,
                "target_ref": incidentID,
            ])
        }
        return json(["type": "bundle", "id": "bundle--" + uuid4(namespace, "bundle/\(incidentID)/\(i.lastSeen)"), "objects": objects])
    }

    // MARK: Report

    /// A notification report answering what a CSIRT reporting form asks: who reports, what
    /// happened, when, which systems and members, the impact, the actions taken.
    public static func report(_ m: Material) -> String {
        let i = m.incident
        func t(_ ns: Int64) -> String { String(EVETime.format(ns).prefix(19)).replacingOccurrences(of: "T", with: " ") + " UTC" }
        var lines: [String] = []
        lines.append("# Incident notification: \(i.title)")
        lines.append("")
        lines.append("| | |")
        lines.append("|---|---|")
        lines.append("| Reported by | HealthNet CSIRT, from sensor `\(m.sensorName)` (hnsensor) |")
        lines.append("| Incident | \(i.id) (rule `\(i.ruleID)`) |")
        lines.append("| Classification (RSIT) | \(i.taxonomy) / \(i.type) |")
        lines.append("| Priority | \(i.priorityName): \(i.priorityReason) |")
        lines.append("| Status | \(i.status.rawValue)\(i.assignee.map { ", assigned to \($0)" } ?? "") |")
        lines.append("| Reportable | \(i.reportable ? "yes, " + (i.reportedAt.map { "reported \(t($0))" } ?? "due by \(t(i.reportDeadline ?? i.firstSeen))") : "no") |")
        lines.append("")
        lines.append("## What happened")
        lines.append("")
        lines.append("\(i.alertCount) alerts in \(i.eventCount) security events:")
        lines.append("")
        for e in m.events.prefix(50) {
            lines.append("- \(t(e.firstSeen)) to \(t(e.lastSeen)): \(e.signature) (sid \(e.sid), \(e.alertCount) alerts) from \(e.source) to \(e.destination)")
        }
        if m.events.count > 50 { lines.append("- … \(m.events.count - 50) more events") }
        lines.append("")
        lines.append("## When")
        lines.append("")
        lines.append("- First seen: \(t(i.firstSeen))")
        lines.append("- Last seen: \(t(i.lastSeen))")
        lines.append("")
        lines.append("## Systems and members affected")
        lines.append("")
        lines.append("- Sources: \(i.sources.isEmpty ? "none" : i.sources.joined(separator: ", "))")
        lines.append("- Targets: \(i.targets.isEmpty ? "none" : i.targets.joined(separator: ", "))")
        lines.append("- Members (constituents): \(i.constituents.isEmpty ? "none identified" : i.constituents.joined(separator: ", "))")
        lines.append("- Segments: \(i.segments.isEmpty ? "not recorded" : i.segments.joined(separator: ", "))")
        lines.append("")
        lines.append("## Impact")
        lines.append("")
        lines.append("- Patient care: \(i.patientCare ? "at stake (a constituent delivering care, or the incident class, is affected)" : "no impact identified")")
        lines.append("- Severity of the most serious alert: \(i.severity) (1 highest)")
        lines.append("")
        lines.append("## Actions taken")
        lines.append("")
        if m.audit.isEmpty { lines.append("- none recorded") }
        for a in m.audit {
            var text = "- \(t(a.at)) \(a.actor): \(a.action)"
            if let from = a.from, let to = a.to { text += " \(from) -> \(to)" } else if let to = a.to { text += " (\(to))" }
            if let note = a.note, !note.isEmpty { text += ": \(note)" }
            lines.append(text)
        }
        lines.append("")
        lines.append("Evidence (flow tuples, capture files and packet numbers) is kept in the CSIRT store; payload excerpts are not included in this report.")
        return lines.joined(separator: "\n") + "\n"
    }
}

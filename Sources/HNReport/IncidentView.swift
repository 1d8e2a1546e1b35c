import Foundation
import HNCorrelate
import HNOutput
import HNStore

/// `incidents show`: the incident with its timeline, hosts, constituents, evidence and
/// audit trail, as text or JSON.
public enum IncidentView {
    static func t(_ ns: Int64) -> String { String(EVETime.format(ns).prefix(19)) }

    public static func text(_ m: IncidentExport.Material) -> String {
        let i = m.incident
        var lines: [String] = []
        lines.append("incident \(i.id): \(i.title)")
        lines.append("  priority       \(i.priorityName) (\(i.priorityReason))")
        lines.append("  status         \(i.status.rawValue)\(i.assignee.map { ", assigned to \($0)" } ?? "")")
        lines.append("  class          \(i.taxonomy)/\(i.type) (rule \(i.ruleID))")
        lines.append("  seen           \(t(i.firstSeen)) to \(t(i.lastSeen))")
        lines.append("  alerts         \(i.alertCount) in \(i.eventCount) events")
        lines.append("  sources        \(i.sources.joined(separator: ", "))")
        lines.append("  targets        \(i.targets.joined(separator: ", "))")
        lines.append("  constituents   \(i.constituents.isEmpty ? "-" : i.constituents.joined(separator: ", "))")
        lines.append("  segments       \(i.segments.isEmpty ? "-" : i.segments.joined(separator: ", "))")
        if let sensors = m.sensors, !sensors.isEmpty { lines.append("  sensors        \(sensors.joined(separator: ", "))") }
        lines.append("  patient care   \(i.patientCare ? "yes" : "no")")
        if i.reportable {
            lines.append("  reportable     " + (i.reportedAt.map { "reported \(t($0))" } ?? "yes, due by \(t(i.reportDeadline ?? i.firstSeen))"))
        }
        if !i.related.isEmpty { lines.append("  related        " + i.related.map(String.init).joined(separator: ", ")) }
        lines.append("")
        lines.append("timeline (events):")
        for e in m.events {
            lines.append("  \(t(e.firstSeen))  \(e.alertCount) x [\(e.gid):\(e.sid)] \(e.signature)  \(e.source) -> \(e.destination)")
        }
        lines.append("")
        lines.append("evidence (alerts):")
        for a in m.alerts.prefix(100) {
            var where_ = a.captureFile.map { " \($0)" } ?? ""
            if let n = a.packetNumber { where_ += " packet \(n)" }
            if let f = a.flowID { where_ += " flow \(f)" }
            lines.append("  \(t(a.timestamp))  sid \(a.sid)  \(a.source):\(a.sourcePort) -> \(a.destination):\(a.destinationPort)\(where_)")
            if let excerpt = a.excerpt {
                lines.append(m.excerptsReadable ? "      payload: " + printable(excerpt) : "      payload: \(excerpt.count) bytes, encrypted (show --evidence with the key file)")
            }
        }
        if m.alerts.count > 100 { lines.append("  … \(m.alerts.count - 100) more") }
        lines.append("")
        lines.append("audit trail:")
        for a in m.audit {
            var text = "  \(t(a.at))  \(a.actor)  \(a.action)"
            if let from = a.from, let to = a.to { text += " \(from) -> \(to)" } else if let to = a.to { text += " \(to)" }
            if let note = a.note, !note.isEmpty { text += ": \(note)" }
            lines.append(text)
        }
        return lines.joined(separator: "\n")
    }

    static func printable(_ bytes: [UInt8]) -> String {
        String(decoding: bytes.map { $0 >= 0x20 && $0 < 0x7F ? $0 : UInt8(ascii: ".") }, as: UTF8.self)
    }

    public static func json(_ m: IncidentExport.Material) -> String {
        var json = JSONWriter()
        json.beginObject()
        IncidentJSON.write(m.incident, into: &json, key: "incident", sensors: m.sensors)
        json.beginArray("events")
        for e in m.events {
            json.beginObject()
            json.field("id", Int(e.id))
            json.field("signature_id", Int(e.sid))
            json.field("signature", e.signature)
            json.field("src_ip", e.source.description)
            json.field("dest_ip", e.destination.description)
            json.field("first_seen", EVETime.format(e.firstSeen))
            json.field("last_seen", EVETime.format(e.lastSeen))
            json.field("alert_count", e.alertCount)
            json.endObject()
        }
        json.endArray()
        json.beginArray("alerts")
        for a in m.alerts {
            json.beginObject()
            json.field("id", Int(a.id))
            json.field("timestamp", EVETime.format(a.timestamp))
            json.field("signature_id", Int(a.sid))
            json.field("signature", a.signature)
            json.field("origin", a.origin)
            json.field("src_ip", a.source)
            json.field("src_port", a.sourcePort)
            json.field("dest_ip", a.destination)
            json.field("dest_port", a.destinationPort)
            if let c = a.captureFile { json.field("capture_file", c) }
            if let n = a.packetNumber { json.field("pcap_cnt", Int(n)) }
            if let f = a.flowID { json.field("flow_id", UInt64(bitPattern: f)) }
            if let e = a.excerpt, m.excerptsReadable { json.field("payload_printable", printable(e)) }
            json.endObject()
        }
        json.endArray()
        json.beginArray("audit")
        for a in m.audit {
            json.beginObject()
            json.field("at", EVETime.format(a.at))
            json.field("actor", a.actor)
            json.field("action", a.action)
            if let f = a.from { json.field("from", f) }
            if let to = a.to { json.field("to", to) }
            if let n = a.note { json.field("note", n) }
            json.endObject()
        }
        json.endArray()
        json.endObject()
        return String(decoding: json.bytes, as: UTF8.self)
    }
}

import Foundation
import HNCorrelate
import HNDecode
import HNOutput
import HNStore
import Mustache

/// Renders the console's pages from plain dictionaries (what the templates show is built
/// here, not in the templates).
struct Views: Sendable {
    let library: MustacheLibrary

    init() throws {
        var library = MustacheLibrary()
        for (name, text) in Templates.all {
            do { try library.register(text, named: name) } catch {
                throw ConsoleStartError("console template \(name): \(error)")
            }
        }
        self.library = library
    }

    func render(_ name: String, _ values: [String: Any]) -> String {
        library.render(values, withTemplate: name) ?? ""
    }

    /// The error page, rendered without a library instance at hand (from `ConsoleError`).
    static let shared = try? Views()

    static func errorPage(status: Int, reason: String, message: String) -> String {
        shared?.render("error", ["title": "\(status) \(reason)", "status": status, "reason": reason, "message": message]) ?? message
    }

    static func json(_ object: Any) -> String {
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])) ?? Data()
        return String(decoding: data, as: UTF8.self)
    }

    // MARK: Values

    /// `2026-11-02 08:00:09` (UTC).
    static func time(_ ns: Int64?) -> String {
        guard let ns else { return "" }
        var text = Array(EVETime.format(ns).utf8.prefix(19))
        if text.count > 10, text[10] == UInt8(ascii: "T") { text[10] = UInt8(ascii: " ") }
        return String(decoding: text, as: UTF8.self)
    }

    static func list(_ values: [String], limit: Int = 3) -> String {
        if values.isEmpty { return "–" }
        if values.count <= limit { return values.joined(separator: ", ") }
        return values.prefix(limit).joined(separator: ", ") + " +\(values.count - limit)"
    }

    static func who(_ s: SignedIn?, nav: String) -> [String: Any] {
        guard let s else { return [:] }
        return ["who": ["name": s.name, "role": s.role.rawValue, "csrf": s.csrf, "admin": s.role.managesAccounts] as [String: Any],
                "nav" + nav: true]
    }

    /// The queue's rows as HTML, written here rather than through a template section: the
    /// queue is the page analysts reload most, and a Mustache section over fifty rows of
    /// fifteen fields took about two thirds of its time (BENCHMARKS.md, console). Every value
    /// is escaped as `{{x}}` would.
    static func rowsHTML(_ incidents: [Incident], now: Int64) -> String {
        var out = ""
        out.reserveCapacity(incidents.count * 900)
        for i in incidents {
            let due = i.reportable && i.reportedAt == nil
            let overdue = due && (i.reportDeadline ?? i.firstSeen) < now
            let prio = i.priorityName.lowercased()
            out += "<tr data-href=\"/incidents/\(i.id)\" class=\"\(escape(prio))\(due ? " reportable" : "")\(overdue ? " overdue" : "")\">\n"
            out += "  <td><a href=\"/incidents/\(i.id)\">\(i.id)</a></td><td><span class=\"prio \(escape(prio))\">\(escape(i.priorityName))</span></td>"
            out += "<td>\(escape(i.status.rawValue))</td>\n"
            out += "  <td>\(escape("\(i.taxonomy)/\(i.type)"))</td><td><a href=\"/incidents/\(i.id)\">\(escape(i.title))</a></td>"
            out += "<td>\(escape(list(i.sources)))</td><td>\(escape(list(i.targets)))</td>\n"
            out += "  <td>\(escape(list(i.constituents, limit: 2)))</td><td>\(escape(list(i.segments, limit: 2)))</td>"
            out += "<td class=\"num\">\(i.alertCount)</td><td>\(escape(time(i.lastSeen)))</td>\n  <td>"
            if due {
                out += "<span class=\"deadline\(overdue ? " overdue" : "")\">\(escape(time(i.reportDeadline ?? i.firstSeen)))\(overdue ? " overdue" : "")</span>"
            }
            if let r = i.reportedAt { out += "reported \(escape(time(r)))" }
            out += "</td>\n  <td>\(escape(i.assignee ?? ""))</td>\n</tr>\n"
        }
        return out
    }

    /// HTML escaping as Mustache's `{{x}}`: & < > " and '.
    static func escape(_ text: String) -> String {
        guard text.utf8.contains(where: { $0 == 0x26 || $0 == 0x3C || $0 == 0x3E || $0 == 0x22 || $0 == 0x27 }) else { return text }
        var out = ""
        out.reserveCapacity(text.utf8.count + 16)
        for c in text.unicodeScalars {
            switch c {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default: out.unicodeScalars.append(c)
            }
        }
        return out
    }

    /// The incident summary of its page.
    static func summary(_ i: Incident, sensors: [String], now: Int64) -> [String: Any] {
        var reporting = "not reportable"
        if i.reportable {
            if let r = i.reportedAt { reporting = "reported \(time(r))" } else {
                let deadline = i.reportDeadline ?? i.firstSeen
                reporting = "reportable: due by \(time(deadline))" + (deadline < now ? " (overdue)" : "")
            }
        }
        return [
            "id": Int(i.id), "title": i.title, "priority": i.priorityName, "priorityClass": i.priorityName.lowercased(),
            "priorityReason": i.priorityReason, "status": i.status.rawValue, "classification": "\(i.taxonomy)/\(i.type)", "ruleID": i.ruleID,
            "firstSeen": time(i.firstSeen), "lastSeen": time(i.lastSeen), "alertCount": i.alertCount, "eventCount": i.eventCount,
            "assignee": i.assignee ?? "unassigned", "constituents": list(i.constituents, limit: 20), "segments": list(i.segments, limit: 20),
            "sensors": list(sensors, limit: 20), "patientCare": i.patientCare ? "yes" : "no", "reporting": reporting,
            "related": i.related.map { Int($0) }, "hasRelated": !i.related.isEmpty,
        ]
    }

    static let protocols: [Int: String] = [1: "ICMP", 6: "TCP", 17: "UDP", 47: "GRE", 50: "ESP", 58: "IPv6-ICMP", 132: "SCTP"]

    static func alert(_ a: IncidentStore.StoredAlert) -> [String: Any] {
        var row: [String: Any] = [
            "timestamp": time(a.timestamp), "gid": Int(a.gid), "sid": Int(a.sid), "rev": Int(a.rev), "signature": a.signature,
            "classtype": a.classtype, "category": a.category, "severity": a.severity, "origin": a.origin,
            "source": "\(a.source):\(a.sourcePort)", "destination": "\(a.destination):\(a.destinationPort)",
            "proto": protocols[a.proto] ?? "\(a.proto)", "action": a.action, "sensor": a.sensor ?? "–",
        ]
        if let p = a.appProto { row["appProto"] = p }
        if a.metadata != "{}" { row["metadata"] = a.metadata }
        if let c = a.captureFile { row["captureFile"] = c }
        if let n = a.packetNumber { row["packet"] = Int(n) }
        if let f = a.flowID { row["flowID"] = String(UInt64(bitPattern: f)) }
        if a.excerpt != nil { row["excerpt"] = true }
        return row
    }

    /// The incident's addresses, sources first, placed in their constituent and segment.
    static func hosts(_ i: Incident, constituents: [ConstituentInfo], segments: [ConsoleDirectory.Segment]) -> [[String: Any]] {
        var rows: [[String: Any]] = []
        var seen = Set<String>()
        for (role, addresses) in [("source", i.sources), ("target", i.targets)] {
            for address in addresses where seen.insert(address).inserted {
                let ip = IPAddress(address)
                let c = ip.flatMap { ip in constituents.first { $0.networks.contains { $0.contains(ip) } } }
                let g = ip.flatMap { ip in segments.first { $0.networks.contains { $0.contains(ip) } } }
                let both = i.sources.contains(address) && i.targets.contains(address)
                rows.append(["address": address, "role": both ? "source and target" : role, "constituent": c?.name ?? "outside HealthNet members",
                             "type": c?.type ?? "", "segment": g?.name ?? ""])
            }
        }
        return rows
    }
}

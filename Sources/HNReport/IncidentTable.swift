import HNCorrelate
import HNOutput

/// The incidents table the CLI prints (`incidents list`, the end of a replay).
public enum IncidentTable {
    /// The incidents table: priority, id, status, classification, title, sources -> targets,
    /// counts, and a reportable mark.
    public static func text(_ incidents: [Incident]) -> String {
        guard !incidents.isEmpty else { return "no incidents" }
        var rows: [[String]] = [["PRI", "ID", "STATUS", "CLASSIFICATION", "TITLE", "SOURCES", "TARGETS", "ALERTS", "LAST SEEN", "REPORT"]]
        for i in incidents {
            func hosts(_ list: [String]) -> String {
                list.count <= 2 ? list.joined(separator: ",") : list.prefix(2).joined(separator: ",") + " +\(list.count - 2)"
            }
            rows.append([i.priorityName, "\(i.id)", i.status.rawValue, "\(i.taxonomy)/\(i.type)", i.title, hosts(i.sources),
                         hosts(i.targets), "\(i.alertCount)", String(EVETime.format(i.lastSeen).prefix(19)),
                         i.reportable ? (i.reportedAt != nil ? "reported" : "due " + String(EVETime.format(i.reportDeadline ?? 0).prefix(16))) : "-"])
        }
        var widths = [Int](repeating: 0, count: rows[0].count)
        for r in rows { for (c, cell) in r.enumerated() { widths[c] = max(widths[c], cell.count) } }
        return rows.map { r in
            r.enumerated().map { c, cell in c == r.count - 1 ? cell : cell.padded(toLength: widths[c] + 1) }.joined().trimmingTrailingSpaces()
        }.joined(separator: "\n")
    }
}

extension String {
    func padded(toLength length: Int) -> String {
        count >= length ? self + " " : self + String(repeating: " ", count: length - count)
    }

    func trimmingTrailingSpaces() -> String {
        var s = self
        while s.last == " " { s.removeLast() }
        return s
    }
}

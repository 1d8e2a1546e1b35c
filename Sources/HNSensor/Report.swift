import HNAnomaly
import HNCorrelate
import HNOutput
/// Text the CLI prints: the replay summary.
public enum Report {
    public static func summary(_ s: ReplaySummary, evePath: String?) -> String {
        var lines: [String] = []
        func row(_ name: String, _ value: String) {
            lines.append(name.padding(toLength: 18) + value)
        }
        row("captures", "\(s.files)")
        row("packets", "\(s.packets)")
        row("bytes", "\(s.bytes)")
        row("decoder rejects", "\(s.rejected)")
        row("flows", "\(s.flows)")
        if s.rulesLoaded > 0 || !s.ruleErrors.isEmpty {
            row("rules", "\(s.rulesLoaded) loaded" + (s.ruleErrors.isEmpty ? "" : ", \(s.ruleErrors.count) skipped"))
        }
        row("alerts", "\(s.alerts)")
        row("events", "\(s.events)")
        row("incidents", "\(s.incidents)")
        row("workers", "\(s.workers)")
        row("wall time", fixed(s.wallSeconds, 3) + " s")
        row("throughput", fixed(s.packetsPerSecond, 0) + " packets/s, " + fixed(s.megabitsPerSecond, 1) + " Mbit/s")
        if let evePath, evePath != "-" { row("eve", "\(evePath) (\(s.eveRecords) records)") }
        return lines.joined(separator: "\n")
    }

    static func fixed(_ value: Double, _ decimals: Int) -> String {
        guard value.isFinite else { return "0" }
        var scale = 1.0
        for _ in 0..<decimals { scale *= 10 }
        let scaled = Int64((value * scale).rounded())
        let whole = scaled / Int64(scale)
        guard decimals > 0 else { return "\(whole)" }
        var fraction = String(abs(scaled % Int64(scale)))
        while fraction.count < decimals { fraction = "0" + fraction }
        return "\(whole).\(fraction)"
    }
}

extension String {
    func padding(toLength length: Int) -> String {
        count >= length ? self + " " : self + String(repeating: " ", count: length - count)
    }
}

/// Reads the ISO 8601 times the CLI accepts (`2026-11-02T08:00:00`).
public enum ISOTime {
    public static func parse(_ text: String) -> Int64? { WeakTLSCheck.parseTime(text) }
}

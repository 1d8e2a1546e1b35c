import ArgumentParser
import Foundation
import HNCorrelate
import HNOutput
import HNReport
import HNSensor
import HNCentral
import HNStore

/// Options shared by the store commands.
struct StoreOptions: ParsableArguments {
    @Option(name: .long, help: "CSIRT store: a SQLite file or postgresql://USER@HOST[:PORT]/DB. Default: store.url, else store.path of the config.")
    var store: String?

    @Option(name: .long, help: "Configuration file (YAML).")
    var config: String?

    func open() throws -> (any CSIRTStore, SensorConfig) {
        let settings = try loadConfig(config)
        guard let spec = try StoreSpec.resolve(store, settings) else {
            throw RuntimeFailure(message: "no store: give --store FILE|URL or set store.path or store.url in the configuration")
        }
        return (try spec.open(), settings)
    }
}

func wallClockNanos() -> Int64 {
    var ts = timespec()
    clock_gettime(CLOCK_REALTIME, &ts)
    return Int64(ts.tv_sec) * 1_000_000_000 + Int64(ts.tv_nsec)
}

/// `2026-11-02`, `2026-11-02T08:00:00`, or a span back from now: `24h`, `7d`, `30m`.
func parseSince(_ text: String) -> Int64? {
    let units: [(String, Int64)] = [("m", 60), ("h", 3600), ("d", 86_400)]
    for (suffix, seconds) in units where text.hasSuffix(suffix) {
        if let n = Int64(text.dropLast()), n >= 0 { return wallClockNanos() - n * seconds * 1_000_000_000 }
    }
    var t = text
    if t.count == 10 { t += "T00:00:00" }
    return ISOTime.parse(t)
}

func storeFailure(_ body: () throws(StoreError) -> Void) throws {
    do { try body() } catch { throw RuntimeFailure(message: error.description) }
}

struct Incidents: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Review, update and export incidents in the CSIRT store.",
                                                    subcommands: [List.self, Show.self, Update.self, Export.self])

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List incidents, most urgent first, then most recent.")
        @OptionGroup var options: StoreOptions
        @Option(name: .long, help: "Only these statuses (comma-separated; 'open' for every open phase).")
        var status: String?
        @Option(name: .long, help: "Only this priority or more urgent (P1..P4).")
        var priority: String?
        @Option(name: .long, help: "Only incidents seen since: 2026-11-02, 2026-11-02T08:00:00, or 24h / 7d back from now.")
        var since: String?
        @Option(name: .long, help: "table or json.")
        var format = "table"

        func validate() throws {
            guard ["table", "json"].contains(format) else { throw ValidationError("--format must be table or json") }
            if let priority, priorityNumber(priority) == nil { throw ValidationError("--priority must be P1, P2, P3 or P4") }
            if let since, parseSince(since) == nil { throw ValidationError("--since: cannot read '\(since)' (2026-11-02, 2026-11-02T08:00:00, 24h, 7d)") }
            if let status { _ = try statuses(status) }
        }

        func run() throws {
            let (store, _) = try options.open()
            var filter = IncidentStore.Filter()
            if let status { filter.status = try statuses(status) }
            filter.priority = priority.flatMap(priorityNumber)
            filter.since = since.flatMap(parseSince)
            var incidents: [Incident] = []
            var sensors: [Int64: [String]] = [:]
            try storeFailure { () throws(StoreError) in
                incidents = try store.incidents(filter)
                if format == "json" { sensors = try store.sensors(incidents: incidents.map(\.id)) }
            }
            print(format == "json" ? IncidentJSON.array(incidents, sensors: sensors) : IncidentTable.text(incidents))
        }
    }

    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show an incident: timeline, hosts, constituents, evidence, audit trail.")
        @OptionGroup var options: StoreOptions
        @Argument(help: "Incident id.") var id: Int64
        @Option(name: .long, help: "text or json.") var format = "text"
        @Flag(name: .long, help: "Decrypt and show the payload excerpts kept as evidence (needs the key file).")
        var evidence = false
        @Option(name: .long, help: "Evidence key file. Default: store.key_file, or the store's path + .key.")
        var keyFile: String?

        func validate() throws {
            guard ["text", "json"].contains(format) else { throw ValidationError("--format must be text or json") }
        }

        func run() throws {
            let (store, settings) = try options.open()
            var material = try load(store, id, sensor: settings)
            if evidence {
                let path = keyFile ?? settings.evidenceKeyPath(for: store)
                var key: EvidenceKey? = nil
                try storeFailure { () throws(StoreError) in key = try EvidenceKey.load(path: path) }
                for i in material.alerts.indices {
                    guard let sealed = material.alerts[i].excerpt else { continue }
                    try storeFailure { () throws(StoreError) in material.alerts[i].excerpt = try key!.open(sealed) }
                }
                material.excerptsReadable = true
            }
            print(format == "json" ? IncidentView.json(material) : IncidentView.text(material))
        }
    }

    struct Update: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Change an incident's status, assignee or reporting; add a note. Every change is audited.")
        @OptionGroup var options: StoreOptions
        @Argument(help: "Incident id.") var id: Int64
        @Option(name: .long, help: "New status: \(IncidentStatus.allCases.map(\.rawValue).joined(separator: ", ")).")
        var status: String?
        @Option(name: .long, help: "Analyst in charge.") var assignee: String?
        @Option(name: .long, help: "A note for the audit trail.") var note: String?
        @Flag(name: .long, help: "Mark the incident as reported to the authority.") var reported = false
        @Option(name: .long, help: "Who makes the change (default: the login name).") var actor: String?

        func validate() throws {
            if let status, IncidentStatus(rawValue: status) == nil {
                throw ValidationError("--status: unknown status '\(status)' (expected one of: \(IncidentStatus.allCases.map(\.rawValue).joined(separator: ", ")))")
            }
            if status == nil && assignee == nil && note == nil && !reported {
                throw ValidationError("give --status, --assignee, --note or --reported")
            }
        }

        func run() throws {
            let (store, _) = try options.open()
            let who = actor ?? ProcessInfo.processInfo.environment["SUDO_USER"] ?? ProcessInfo.processInfo.environment["USER"] ?? "analyst"
            var updated: Incident? = nil
            try storeFailure { () throws(StoreError) in
                updated = try store.update(id, status: status.flatMap(IncidentStatus.init(rawValue:)), assignee: assignee, note: note,
                                           reported: reported, actor: who, at: wallClockNanos())
            }
            if let updated { print("incident \(updated.id): \(updated.status.rawValue)\(updated.assignee.map { ", assigned to \($0)" } ?? "")") }
        }
    }

    struct Export: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Export an incident as a MISP event, a STIX 2.1 bundle or a notification report.")
        @OptionGroup var options: StoreOptions
        @Argument(help: "Incident id.") var id: Int64
        @Option(name: .long, help: "misp, stix or report.") var format: String

        func validate() throws {
            guard ["misp", "stix", "report"].contains(format) else { throw ValidationError("--format must be misp, stix or report") }
        }

        func run() throws {
            let (store, settings) = try options.open()
            let material = try load(store, id, sensor: settings)
            switch format {
            case "misp": print(IncidentExport.misp(material))
            case "stix": print(IncidentExport.stix(material))
            default: print(IncidentExport.report(material), terminator: "")
            }
        }
    }
}

func priorityNumber(_ text: String) -> Int? {
    guard text.count == 2, text.uppercased().first == "P", let n = Int(text.dropFirst()), (1...4).contains(n) else { return nil }
    return n
}

func statuses(_ text: String) throws -> [IncidentStatus] {
    var result: [IncidentStatus] = []
    for part in text.split(separator: ",") {
        if part == "open" { result += IncidentStatus.allCases.filter(\.isOpen); continue }
        guard let s = IncidentStatus(rawValue: String(part)) else {
            throw ValidationError("--status: unknown status '\(part)' (expected open or one of: \(IncidentStatus.allCases.map(\.rawValue).joined(separator: ", ")))")
        }
        result.append(s)
    }
    return result
}

func load(_ store: any CSIRTStore, _ id: Int64, sensor: SensorConfig) throws -> IncidentExport.Material {
    var material: IncidentExport.Material? = nil
    try storeFailure { () throws(StoreError) in
        guard let incident = try store.incident(id) else { throw StoreError("incident \(id) not found in \(store.location)") }
        material = IncidentExport.Material(incident: incident, events: try store.events(incident: id), alerts: try store.alerts(incident: id),
                                           audit: try store.audit(incident: id), sensorName: sensor.sensorName, homeNet: sensor.homeNet)
        material?.sensors = try store.sensors(incident: id)
    }
    return material!
}

struct Store: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Maintain the CSIRT store.", subcommands: [Purge.self, Stats.self, Forward.self])

    struct Purge: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Remove alerts and closed incidents past retention; open incidents and their alerts are kept.")
        @OptionGroup var options: StoreOptions
        @Option(name: .long, help: "Retention in days (default: retention.period of the config, 180 days).")
        var olderThan: Int?

        func validate() throws {
            if let olderThan, olderThan < 0 { throw ValidationError("--older-than must be 0 or more days") }
        }

        func run() throws {
            let (store, settings) = try options.open()
            let span = olderThan.map { Int64($0) * 86_400_000_000_000 } ?? settings.retention
            try storeFailure { () throws(StoreError) in
                let r = try store.purge(before: wallClockNanos() - span)
                print("purged \(r.alerts) alerts, \(r.events) events, \(r.incidents) closed incidents older than \(span / 86_400_000_000_000) days")
            }
        }
    }

    struct Stats: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Counts, time range, size and schema of the store.")
        @OptionGroup var options: StoreOptions

        func run() throws {
            let (store, _) = try options.open()
            try storeFailure { () throws(StoreError) in
                let s = try store.stats()
                print("store             \(store.location)")
                print("schema            \(s.schema.joined(separator: ", "))")
                print("size              \(s.bytes / 1024) KiB")
                print("alerts            \(s.alerts)")
                print("events            \(s.events)")
                print("incidents         \(s.incidents)" + (s.byStatus.isEmpty ? "" : " (" + s.byStatus.map { "\($0.0) \($0.1)" }.joined(separator: ", ") + ")"))
                if !s.byPriority.isEmpty { print("by priority       " + s.byPriority.map { "\($0.0) \($0.1)" }.joined(separator: ", ")) }
                if let a = s.oldestAlert, let b = s.newestAlert {
                    print("alerts from       \(EVETime.format(a).prefix(19)) to \(EVETime.format(b).prefix(19))")
                }
                print("integrity         \(try store.integrityCheck())")
            }
        }
    }
}

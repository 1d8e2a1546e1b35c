import ArgumentParser
import HNCapture
import HNCentral
import HNDetect
import HNReport
import HNSensor

#if canImport(Glibc)
import Glibc
#endif

/// A runtime failure: printed as one line, exit status 1.
struct RuntimeFailure: Error {
    let message: String
}

struct HNSensorCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "hnsensor",
        abstract: "Network sensor and alert correlator for HealthNet.",
        subcommands: [Replay.self, Run.self, Correlate.self, Status.self, Rules.self, Incidents.self, Store.self, Serve.self, Users.self, Version.self]
    )
}

/// The options of every command that runs the sensor (replay and run).
struct InspectionOptions: ParsableArguments {
    @Option(name: .long, help: "Rules directory or a single .rules file. Default: rules.path of the config.")
    var rules: String?

    @Option(name: .long, help: "EVE JSON file ('-' for standard output; the daemon appends to it). Default: eve.path of the config.")
    var eve: String?

    @Option(name: .long, help: "CSIRT store: a SQLite file (this sensor correlates into it) or postgresql://USER@HOST[:PORT]/DB (central mode: alerts go there, `hnsensor correlate` builds the incidents). Default: store.url, else store.path of the config.")
    var store: String?

    @Option(name: .long, help: "Central mode: the local spool of alerts not yet in the central store. Default: store.spool of the config.")
    var spool: String?

    @Option(name: .long, help: "Inspection worker threads (flows are shared out by address pair; output is the same for any number). Default: the number of cores.")
    var workers: Int = HNSensor.Cores.online

    func validate() throws {
        if !(1...HNSensor.Cores.maxWorkers).contains(workers) {
            throw ValidationError("--workers \(workers): give a number from 1 to \(HNSensor.Cores.maxWorkers)")
        }
    }
}

struct Replay: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run the pipeline on capture files (pcap or pcapng) and print a summary.")

    @Option(name: .long, help: "Configuration file (YAML). Built-in defaults when absent.")
    var config: String?

    @OptionGroup var inspection: InspectionOptions

    @Flag(name: .long, help: "Simulate an inline IPS: drop rules drop the packet and the rest of its flow (alert.action 'blocked').")
    var simulateIPS = false

    @Option(name: .long, help: ArgumentHelp("How far packets go: read, decode, flows or full (benchmarks price each stage).", visibility: .hidden))
    var depth: String = "full"

    @Option(name: .long, help: "Central mode: seconds to wait at the end for the spool to reach the central store (default 60).")
    var drainTimeout: Double = 60

    @Argument(help: "Capture files, replayed in order as one stream.")
    var captures: [String]

    func validate() throws {
        if HNSensor.InspectionDepth(rawValue: depth) == nil {
            throw ValidationError("--depth \(depth): give one of read, decode, flows, full")
        }
        if captures.isEmpty { throw ValidationError("give at least one capture file") }
    }

    func run() throws {
        let settings = try loadConfig(config)
        let evePath = inspection.eve ?? settings.evePath
        var storePath: String? = nil
        var forwarder: CentralForwarder? = nil
        switch try StoreSpec.resolve(inspection.store, settings) {
        case .file(let path)?: storePath = path
        case .central(let url)?: forwarder = try makeForwarder(url: url, settings: settings, spool: inspection.spool, liveSegments: false)
        case nil: break
        }
        let summary: ReplaySummary
        do {
            summary = try HNSensor.Replay.run(files: captures, config: settings, evePath: evePath,
                                              rulesPath: inspection.rules ?? settings.rulesPath, simulateIPS: simulateIPS,
                                              storePath: storePath, workers: inspection.workers,
                                              depth: HNSensor.InspectionDepth(rawValue: depth) ?? .full, forwarder: forwarder)
        } catch {
            // What was taken stays in the spool for the next run.
            forwarder?.stop()
            throw RuntimeFailure(message: error.description)
        }
        for error in summary.ruleErrors { printError("hnsensor: rule skipped: \(error)") }
        for warning in summary.warnings { printError("hnsensor: warning: \(warning)") }
        print(Report.summary(summary, evePath: evePath))
        if let forwarder {
            try drainForwarder(forwarder, timeout: drainTimeout)
            return
        }
        if !summary.incidentList.isEmpty || summary.rulesLoaded > 0 {
            print("")
            print(IncidentTable.text(summary.incidentList))
        }
    }
}

struct Rules: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Work with rule sets.", subcommands: [Check.self])

    struct Check: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Load every rule, print each error and a summary; exit 1 when any rule failed.")

        @Option(name: .long, help: "Configuration file (YAML), for variables such as HOME_NET.")
        var config: String?

        @Option(name: .long, help: "Rules directory or a single .rules file. Default: rules.path, ./Rules, /etc/hnsensor/rules.")
        var rules: String?

        func run() throws {
            let settings = try loadConfig(config)
            guard let path = rules ?? RulesLoading.defaultPath(config: settings) else {
                throw RuntimeFailure(message: "no rules directory: give --rules DIR or set rules.path")
            }
            let set: RuleSet
            do { set = try RulesLoading.load(path: path, config: settings) } catch { throw RuntimeFailure(message: error.description) }
            print(RulesLoading.report(set))
            if let engine = try? DetectionEngine(ruleSet: set) {
                let dbs = engine.databaseSummary
                print("prefilter: \(dbs.count) Vectorscan databases, \(dbs.bytes / 1024) KiB; \(ScanPath.selected.summary)")
                let heavy = engine.alwaysCheckedGroups(minimum: 0)
                if !heavy.isEmpty {
                    print("rules checked on every packet of their group: " + heavy.map { "\($0.0)/\($0.1) \($0.2)" }.joined(separator: ", "))
                }
            }
            if !set.errors.isEmpty { throw ExitCode(1) }
        }
    }
}

struct Version: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Print the version and the libraries in use.")

    func run() {
        print("hnsensor \(HNSensorVersion.string)")
        print(PacketSource.libraryVersion)
        print(Libraries.vectorscanVersion + "; " + ScanPath.selected.summary)
        print(Libraries.pcre2Version)
    }
}

/// The configuration at `path`, or the built-in defaults when none is given.
func loadConfig(_ path: String?) throws -> SensorConfig {
    guard let path else { return SensorConfig() }
    do { return try SensorConfig.load(path: path) } catch { throw RuntimeFailure(message: error.description) }
}

func printError(_ line: String) {
    let bytes = Array((line + "\n").utf8)
    _ = bytes.withUnsafeBytes { write(2, $0.baseAddress, $0.count) }
}

// Exit status: 0 success, 1 runtime error, 2 usage error (ArgumentParser's own 64 is mapped).
do {
    var command = try HNSensorCommand.parseAsRoot()
    do {
        try command.run()
    } catch let failure as RuntimeFailure {
        printError("hnsensor: error: \(failure.message)")
        exit(1)
    } catch let code as ExitCode {
        exit(code.rawValue)
    }
} catch {
    let code = HNSensorCommand.exitCode(for: error)
    if code == .success {
        print(HNSensorCommand.fullMessage(for: error))
        exit(0)
    }
    printError(HNSensorCommand.fullMessage(for: error))
    exit(2)
}

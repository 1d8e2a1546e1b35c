import ArgumentParser
import Dispatch
import Foundation
import HNCentral
import HNCorrelate
import HNDetect
import HNSensor
import HNStore

#if canImport(Glibc)
import Glibc
#endif

/// The store a command works on: a SQLite file (one sensor's embedded store) or a
/// PostgreSQL URL (the central store).
enum StoreSpec {
    case file(String)
    case central(StoreURL)

    /// `--store` or, without it, `store.url` then `store.path` of the configuration; nil when
    /// none is set. A URL's password comes from the URL, `store.password_file` or PGPASSWORD.
    static func resolve(_ option: String?, _ settings: SensorConfig) throws -> StoreSpec? {
        guard let text = option ?? settings.store else { return nil }
        guard StoreURL.isURL(text) else { return .file(text) }
        do {
            var url = try StoreURL(parsing: text)
            if let file = settings.storePasswordFile, url.password == nil || option == nil { try url.readPassword(file: file) }
            return .central(url)
        } catch {
            throw RuntimeFailure(message: error.description)
        }
    }

    /// Opens the store; a SQLite file must exist unless `create` (a URL is migrated on open).
    func open(create: Bool = false) throws -> any CSIRTStore {
        do {
            switch self {
            case .file(let path):
                guard create || FileManager.default.fileExists(atPath: path) else { throw RuntimeFailure(message: "\(path): no such store") }
                return try IncidentStore(path: path)
            case .central(let url):
                return try PostgresStore(url: url)
            }
        } catch let error as StoreError {
            throw RuntimeFailure(message: error.description)
        }
    }
}

extension SensorConfig {
    /// The evidence key for a store: `store.key_file`, else beside a SQLite store, else the
    /// central store's default place.
    func evidenceKeyPath(for store: any CSIRTStore) -> String { evidenceKeyFile ?? store.defaultKeyPath }
}

/// The forwarder of a sensor in central mode (replay and run).
func makeForwarder(url: StoreURL, settings: SensorConfig, spool: String?, liveSegments: Bool) throws -> CentralForwarder {
    var f = CentralForwarder.Settings(url: url, spoolPath: spool ?? settings.spoolPath, spoolMax: settings.spoolMax, sensorName: settings.sensorName)
    f.constituents = settings.constituentInfos
    if liveSegments { f.segmentNames = settings.segments.map(\.name) }
    if settings.storeEvidencePayload {
        guard let keyFile = settings.evidenceKeyFile else {
            throw RuntimeFailure(message: "store.evidence_payload with a central store needs store.key_file: the same key on every sensor and the console")
        }
        do { f.evidenceKey = try EvidenceKey.loadOrCreate(path: keyFile) } catch { throw RuntimeFailure(message: error.description) }
    }
    do { return try CentralForwarder(settings: f) } catch { throw RuntimeFailure(message: error.description) }
}

/// Waits for the forwarder to empty its spool; says what stayed behind.
func drainForwarder(_ forwarder: CentralForwarder, timeout: Double) throws {
    let done = forwarder.drain(timeout: timeout)
    forwarder.stop()
    let c = forwarder.snapshot()
    if done {
        print("central store: \(c.forwarded) alerts forwarded to \(forwarder.settings.url)"
              + (c.dropped > 0 ? "; \(c.dropped) dropped over store.spool_max" : ""))
        return
    }
    throw RuntimeFailure(message: "\(forwarder.settings.url): \(c.lastError ?? "not reachable"); \(c.spoolAlerts) alerts wait in the spool "
                         + "\(forwarder.settings.spoolPath) (the next replay or run with it forwards them first, or: hnsensor store forward --spool \(forwarder.settings.spoolPath))")
}

/// A flag set by SIGTERM or SIGINT.
final class StopFlag: @unchecked Sendable {
    private let lock = NSLock()
    private var stopped = false
    private var sources: [any DispatchSourceSignal] = []

    init() {
        for sig in [SIGTERM, SIGINT] {
            signal(sig, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: sig, queue: .global())
            source.setEventHandler { [weak self] in self?.set() }
            source.resume()
            sources.append(source)
        }
    }

    func set() { lock.lock(); stopped = true; lock.unlock() }
    var isSet: Bool { lock.lock(); defer { lock.unlock() }; return stopped }
}

struct Correlate: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "The central correlator: builds events and incidents from every sensor's alerts in a PostgreSQL store.",
        discussion: """
            One correlator is active per store (an advisory lock); another one started beside it waits and takes over \
            within a second when the first one's connection ends. SIGTERM stops it after its current commit.
            """)

    @Option(name: .long, help: "Configuration file (YAML): constituents, segments, priority, correlation.")
    var config: String?

    @Option(name: .long, help: "The central store, postgresql://USER@HOST[:PORT]/DB. Default: store.url of the config.")
    var store: String?

    @Option(name: .long, help: "Rules directory (its correlation/ folder is read). Default: rules.path, ./Rules, /etc/hnsensor/rules.")
    var rules: String?

    @Flag(name: .long, help: "Correlate the alerts stored now, then exit (tests, batch use).")
    var once = false

    @Option(name: .long, help: "Seconds without new alerts after which waiting alerts are correlated regardless of the other sensors (default 5).")
    var idle: Double = 5

    @Option(name: .long, help: ArgumentHelp("Alerts read per query.", visibility: .hidden))
    var readBatch = 20_000

    @Option(name: .long, help: ArgumentHelp("Alerts per commit (tests make it small to have many commits to kill in).", visibility: .hidden))
    var commitBatch = 5_000

    func validate() throws {
        if idle <= 0 { throw ValidationError("--idle must be more than 0 seconds") }
        if readBatch < 1 || commitBatch < 1 { throw ValidationError("--read-batch and --commit-batch must be 1 or more") }
    }

    func run() throws {
        let settings = try loadConfig(config)
        guard case .central(let url)? = try StoreSpec.resolve(store, settings) else {
            throw RuntimeFailure(message: "correlate needs a central store: give --store postgresql://USER@HOST/DB or set store.url")
        }
        var correlationRules: [CorrelationRule] = []
        if let path = rules ?? RulesLoading.defaultPath(config: settings) {
            let folder = RuleSet.isDirectory(path) ? path + "/correlation" : path
            if RuleSet.isDirectory(folder) {
                do { correlationRules = try CorrelationRuleLoader.load(folder: folder) } catch { throw RuntimeFailure(message: "\(error)") }
            }
        }
        var s = CentralCorrelator.Settings(url: url)
        s.maxLateness = settings.maxLateness
        s.readBatch = readBatch
        s.commitBatch = commitBatch
        var host = [CChar](repeating: 0, count: 256)
        gethostname(&host, 255)
        s.holder = "\(String(cString: host)):\(getpid())"
        let stop = StopFlag()
        let central: CentralCorrelator
        do {
            let pg = try PostgresStore(url: url)
            try pg.saveConstituents(settings.constituentInfos)
            central = try CentralCorrelator(settings: s, rules: correlationRules, config: settings, store: pg)
        } catch {
            throw RuntimeFailure(message: error.description)
        }
        while !stop.isSet {
            do throws(StoreError) {
                let holding = try central.acquire(waiting: {
                    printError("hnsensor correlate: another correlator holds \(url); waiting to take over")
                }, stop: { stop.isSet })
                guard holding else { break }
                printError("hnsensor correlate: correlating \(url) with \(correlationRules.count) rules")
                if once {
                    try central.runOnce()
                    let c = central.counters
                    print("correlated \(c.correlated) alerts (\(c.late) late), \(c.incidentsOpened) incidents opened")
                    central.release()
                    return
                }
                try central.run(idle: idle, stop: { stop.isSet })
            } catch {
                if once { throw RuntimeFailure(message: error.description) }
                printError("hnsensor correlate: \(error.description); starting again from the last commit")
                central.release()
                Thread.sleep(forTimeInterval: 1)
            }
        }
        central.release()
    }
}

extension Store {
    struct Forward: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Send the alerts a sensor's spool still holds to the central store, then exit.")
        @Option(name: .long, help: "Configuration file (YAML).") var config: String?
        @Option(name: .long, help: "The central store, postgresql://USER@HOST[:PORT]/DB. Default: store.url of the config.") var store: String?
        @Option(name: .long, help: "The spool file. Default: store.spool of the config.") var spool: String?
        @Option(name: .long, help: "Seconds to keep trying (default 60).") var timeout: Double = 60

        func run() throws {
            let settings = try loadConfig(config)
            guard case .central(let url)? = try StoreSpec.resolve(store, settings) else {
                throw RuntimeFailure(message: "give the central store: --store postgresql://USER@HOST/DB or store.url")
            }
            let path = spool ?? settings.spoolPath
            guard FileManager.default.fileExists(atPath: path) else { throw RuntimeFailure(message: "\(path): no such spool") }
            let forwarder = try makeForwarder(url: url, settings: settings, spool: path, liveSegments: false)
            try drainForwarder(forwarder, timeout: timeout)
        }
    }
}

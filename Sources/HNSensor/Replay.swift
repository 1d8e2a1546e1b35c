import HNAnomaly
import HNCapture
import HNCorrelate
import HNStore
import HNDetect
import HNOutput

#if canImport(Glibc)
import Glibc
#endif

/// What a replay did, for the summary line and tests.
public struct ReplaySummary: Sendable {
    public var files = 0
    public var packets: UInt64 = 0
    public var bytes: UInt64 = 0
    public var decoded: UInt64 = 0
    public var rejected: UInt64 = 0
    public var flows: UInt64 = 0
    public var alerts: UInt64 = 0
    public var events: UInt64 = 0
    public var incidents: UInt64 = 0
    public var eveRecords: UInt64 = 0
    public var wallSeconds: Double = 0
    /// Files damaged part-way (truncated record, …): what came before was processed.
    public var warnings: [String] = []
    /// Rules that failed to load (the others were used).
    public var ruleErrors: [String] = []
    public var rulesLoaded = 0
    /// Worker threads the replay ran with.
    public var workers = 1
    public var indicators = 0
    /// The incidents this replay opened or grew, most urgent first.
    public var incidentList: [Incident] = []
    public var stats = StatsTree()

    public var packetsPerSecond: Double { wallSeconds > 0 ? Double(packets) / wallSeconds : 0 }
    public var megabitsPerSecond: Double { wallSeconds > 0 ? Double(bytes) * 8 / wallSeconds / 1e6 : 0 }
}

/// A failure of a replay or of the daemon's set-up: one line naming the file or the place.
public struct ReplayError: Error, CustomStringConvertible {
    public let description: String
    public init(description: String) { self.description = description }
}

/// Runs the pipeline over capture files, in order, as one continuous stream of packet time.
public enum Replay {
    /// - Parameters:
    ///   - files: pcap or pcapng files, processed in the given order.
    ///   - evePath: EVE output file ("-" for standard output, nil for none). Written to a
    ///     temporary file and moved into place only when the replay succeeds.
    ///   - storePath: the CSIRT store (SQLite) receiving alerts, events and incidents; nil
    ///     keeps incidents in memory for the summary only.
    ///   - workers: inspection threads; 1 runs everything on the calling thread. Output is
    ///     the same for any number (see `WorkerPool`).
    public static func run(files: [String], config: SensorConfig, evePath: String?, rulesPath: String? = nil,
                           simulateIPS: Bool = false, storePath: String? = nil, workers: Int = 1,
                           depth: InspectionDepth = .full, forwarder: (any AlertForwarder)? = nil) throws(ReplayError) -> ReplaySummary {
        guard !files.isEmpty else { throw ReplayError(description: "no capture file given") }
        let engines = try rulesPath.map { p throws(ReplayError) in try SensorEngines.build(rulesPath: p, config: config, simulateIPS: simulateIPS) }
        // Open every capture first: a missing file or a corrupt header fails before any output.
        var sources: [PacketSource] = []
        for file in files {
            do {
                sources.append(try PacketSource(file: file))
            } catch {
                throw ReplayError(description: error.description)
            }
        }
        var eve: EVEWriter? = nil
        if let evePath {
            do {
                eve = EVEWriter(file: try OutputFile(path: evePath), sensorName: nil, segmentNames: [])
                eve?.settings = config.eve
            } catch {
                throw ReplayError(description: error.description)
            }
        }
        let sensor = try Sensor(config: config, engines: engines, eve: eve, storePath: storePath, workers: max(1, workers),
                                captureSegments: false, forwarder: forwarder)
        let inspector = sensor.inspector
        inspector.depth = depth
        var summary = ReplaySummary()
        summary.ruleErrors = engines?.ruleErrors ?? []
        summary.warnings = engines?.warnings ?? []
        summary.indicators = engines?.intel?.set.count ?? 0
        summary.rulesLoaded = engines?.detection?.ruleCount ?? 0
        summary.workers = max(1, workers)
        var readPackets: UInt64 = 0, readBytes: UInt64 = 0
        let started = monotonicSeconds()
        inspector.start()
        for (index, source) in sources.enumerated() {
            summary.files += 1
            let linkType = source.linkType
            sensor.correlation?.correlator.captureFile = files[index]
            sensor.forwarder?.source = files[index]
            loop: while true {
                let result: PacketSource.ReadResult
                if depth == .read {
                    result = source.next { bytes, _, _, _ in
                        readPackets &+= 1
                        readBytes &+= UInt64(bytes.count)
                    }
                } else {
                    result = source.next { bytes, ts, caplen, wirelen in
                        sensor.inspect(bytes, timestamp: ts, captureLength: caplen, wireLength: wirelen, linkType: linkType)
                    }
                    // A store that failed a commit: stop here, keeping what was committed.
                    if sensor.storeStopped { break loop }
                }
                switch result {
                case .packet, .timeout: continue
                case .endOfFile: break loop
                case .damaged(let message):
                    summary.warnings.append(message)
                    break loop
                }
            }
            // (With workers the stage runs on the merge thread: its failure is read after finish.)
            if inspector.outputFailure != nil || sensor.storeStopped { break }
        }
        inspector.finish()
        summary.wallSeconds = monotonicSeconds() - started
        if let failure = inspector.outputFailure {
            eve?.abandon()
            throw ReplayError(description: failure.description)
        }
        if let failure = sensor.correlation?.failure {
            eve?.abandon()
            throw ReplayError(description: failure)
        }
        summary.incidentList = sensor.correlation?.sortedIncidents ?? []
        summary.incidents = UInt64(summary.incidentList.count)
        summary.events = sensor.correlation?.events ?? 0
        do {
            try eve?.commit()
        } catch {
            throw ReplayError(description: error.description)
        }
        let stats = inspector.finalStatistics
        summary.packets = depth == .read ? readPackets : stats.value("decoder.pkts") ?? 0
        summary.bytes = depth == .read ? readBytes : stats.value("decoder.bytes") ?? 0
        summary.decoded = stats.value("decoder.decoded") ?? 0
        summary.rejected = stats.value("decoder.invalid") ?? 0
        summary.flows = stats.value("flow.total") ?? 0
        summary.alerts = sensor.output.alerts
        summary.eveRecords = (eve?.records ?? 0) + inspector.workerEVERecords
        summary.stats = stats
        return summary
    }

    static func monotonicSeconds() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
    }
}

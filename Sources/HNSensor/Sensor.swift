import HNCorrelate
import HNStore
#if canImport(Glibc)
import Glibc
#endif
import HNOutput

/// Something that inspects captured packets and feeds the output stage: the pipeline on the
/// calling thread (one worker) and the worker pool (several workers and a merge thread) both
/// are. Replay and the daemon drive either through this one interface; what runs "on the
/// output thread" runs on the calling thread for the pipeline and on the merge thread for the
/// pool, so the stage after inspection (EVE, correlator, store) is never shared.
public protocol PacketInspector: AnyObject {
    /// The stage after inspection: thresholds, behaviour detectors, EVE order, the alert sink.
    var output: OutputStage { get }
    /// How far packets go (benchmarks price each stage).
    var depth: InspectionDepth { get set }
    /// Keep payload excerpts with alerts (for the store, which encrypts them).
    var keepExcerpts: Bool { get set }
    /// The first EVE failure (a full disk), until cleared.
    var outputFailure: OutputFile.Failure? { get }
    var lastTimestamp: Int64 { get }
    /// The daemon's timers, run on the output thread at each `poll()` (pipeline) or after each
    /// merged batch (pool).
    var periodic: (() -> Void)? { get set }
    /// Receives the counters `requestStats` asked for, on the output thread; the flag says
    /// whether an EVE stats record is wanted.
    var onStats: ((StatsTree, Bool) -> Void)? { get set }

    /// Hooks on the output thread: after each packet's output (the correlator's batch
    /// boundary), and once, with the last packet time, before the final stats record.
    func onOutput(afterPacket: @escaping () -> Void, beforeStats: @escaping (Int64) -> Void)
    /// Starts the threads, if any.
    func start()
    /// Takes one captured frame; `bytes` is only borrowed for the call.
    func inspect(_ bytes: UnsafeRawBufferPointer, timestamp: Int64, captureLength: Int, wireLength: Int, linkType: Int32,
                 segment: UInt16)
    /// The end of a capture round: the pool hands its batches on; the pipeline runs `periodic`.
    func poll()
    func requestStats(write: Bool)
    /// Expires idle flows by a clock when no packet comes (a quiet link).
    func advanceIdle(to time: Int64)
    /// Swaps in newly built engines between two packets; `then` runs on the output thread
    /// once every packet before the swap is through.
    func replace(_ engines: SensorEngines, then: @escaping () -> Void)
    func clearOutputFailure()
    /// Ends every flow and writes the final stats record (the pool joins its threads).
    func finish()
    /// The counters at the end.
    var finalStatistics: StatsTree { get }
    /// EVE records the workers formatted (the pool; 0 for the pipeline, whose writer counts them).
    var workerEVERecords: UInt64 { get }
}

extension Pipeline: PacketInspector {
    public var output: OutputStage { stage! }
    public func onOutput(afterPacket: @escaping () -> Void, beforeStats: @escaping (Int64) -> Void) {
        afterPacketHook = afterPacket
        beforeStatsHook = beforeStats
    }
    public func start() {}
    @inline(__always)
    public func inspect(_ bytes: UnsafeRawBufferPointer, timestamp: Int64, captureLength: Int, wireLength: Int, linkType: Int32,
                        segment: UInt16) {
        process(bytes, timestamp: timestamp, captureLength: captureLength, wireLength: wireLength, linkType: linkType, segment: segment)
        afterPacketHook?()
    }
    public func poll() { periodic?() }
    public func requestStats(write: Bool) { onStats?(statsTree(), write) }
    public func replace(_ engines: SensorEngines, then: @escaping () -> Void) {
        replace(detection: engines.detection, intel: engines.intel, anomalies: engines.anomalies)
        then()
    }
    public func finish() { finish(beforeStats: { [self] in beforeStatsHook?(lastTimestamp) }) }
    public var finalStatistics: StatsTree { statsTree() }
    public var workerEVERecords: UInt64 { 0 }
}

extension WorkerPool: PacketInspector {
    public var output: OutputStage { stage }
    public func onOutput(afterPacket: @escaping () -> Void, beforeStats: @escaping (Int64) -> Void) {
        self.afterPacket = afterPacket
        self.beforeStats = beforeStats
    }
    @inline(__always)
    public func inspect(_ bytes: UnsafeRawBufferPointer, timestamp: Int64, captureLength: Int, wireLength: Int, linkType: Int32,
                        segment: UInt16) {
        process(bytes, timestamp: timestamp, captureLength: captureLength, wireLength: wireLength, linkType: linkType, segment: segment)
    }
    public func poll() { flush() }
    public func replace(_ engines: SensorEngines, then: @escaping () -> Void) {
        replace(detection: engines.detection, intel: engines.intel, anomalies: engines.anomalies, stage: then)
    }
    public var finalStatistics: StatsTree { finalStats }
}

/// A sensor assembled for a configuration: the inspector (one pipeline, or a pool of
/// workers), the EVE writer, and the correlation stage with its store. The one place replay
/// and the daemon wire the stages together.
public final class Sensor {
    public let inspector: any PacketInspector
    public let eve: EVEWriter?
    /// The correlator and the store writer; nil when there is neither a correlation rule nor
    /// a store.
    public let correlation: CorrelationStage?
    /// Central mode: the forwarder taking every alert to the central store, whose
    /// correlator builds the incidents (nil: the sensor correlates into its own store).
    public let forwarder: (any AlertForwarder)?
    public var output: OutputStage { inspector.output }
    /// The concrete inspector, for the per-packet call without a dynamic dispatch.
    let single: Pipeline?
    let pool: WorkerPool?

    /// - Parameters:
    ///   - workers: 1 runs the pipeline on the calling thread; more start a worker pool.
    ///   - storePath: the CSIRT store the correlator continues from and writes (nil: none).
    ///   - captureSegments: packets carry the segment they were captured on (live capture).
    ///   - alwaysCorrelate: make the correlation stage even without rules or a store (the
    ///     daemon, whose counters and reloads expect one).
    ///   - finishTime: the packet time of the last packet, mapped to the time the correlator
    ///     judges its windows at the end (replay: itself; the daemon: the wall clock).
    ///   - forwarder: central mode (a PostgreSQL store): alerts go to it, and the sensor
    ///     neither correlates nor opens a local store.
    public init(config: SensorConfig, engines: SensorEngines?, eve: EVEWriter?, storePath: String?, workers: Int,
                captureSegments: Bool, alwaysCorrelate: Bool = false, forwarder: (any AlertForwarder)? = nil,
                finishTime: @escaping (Int64) -> Int64 = { $0 }) throws(ReplayError) {
        if workers <= 1 {
            single = Pipeline(config: config, eve: eve, detection: engines?.detection, intel: engines?.intel, anomalies: engines?.anomalies)
            pool = nil
            inspector = single!
        } else {
            pool = WorkerPool(count: workers, config: config, eve: eve, detection: engines?.detection, intel: engines?.intel,
                              anomalies: engines?.anomalies)
            single = nil
            inspector = pool!
        }
        self.eve = eve
        self.forwarder = forwarder
        let rules = engines?.correlation ?? []
        if let forwarder {
            forwarder.register(IncidentStore.SensorRecord(name: config.sensorName, version: HNSensorVersion.string, startedAt: sensorClock(),
                                                          rules: engines?.detection?.ruleCount ?? 0, indicators: engines?.intel?.set.count ?? 0,
                                                          correlationRules: rules.count))
            correlation = nil
            inspector.output.alertSink = { forwarder.add($0) }
            inspector.output.extraStats = { [("central", forwarder.statsTree())] }
            inspector.keepExcerpts = config.storeEvidencePayload
            inspector.onOutput(afterPacket: { forwarder.afterPacket() }, beforeStats: { _ in forwarder.flush() })
        } else if !rules.isEmpty || storePath != nil || alwaysCorrelate {
            let stage: CorrelationStage
            do {
                let record = IncidentStore.SensorRecord(name: config.sensorName, version: HNSensorVersion.string, startedAt: sensorClock(),
                                                        rules: engines?.detection?.ruleCount ?? 0, indicators: engines?.intel?.set.count ?? 0,
                                                        correlationRules: rules.count)
                stage = try CorrelationStage.make(rules: rules, config: config, storePath: storePath, eve: eve, captureSegments: captureSegments,
                                                  sensor: record)
            } catch {
                eve?.abandon()
                throw error
            }
            correlation = stage
            inspector.output.alertSink = { stage.ingest($0) }
            inspector.output.extraStats = { [("correlation", stage.statsTree())] }
            inspector.keepExcerpts = config.storeEvidencePayload && storePath != nil
            inspector.onOutput(afterPacket: { stage.afterPacket() }, beforeStats: { stage.finish(at: finishTime($0)) })
        } else {
            correlation = nil
        }
    }

    /// Takes one captured frame (borrowed for the call).
    @inline(__always)
    public func inspect(_ bytes: UnsafeRawBufferPointer, timestamp: Int64, captureLength: Int, wireLength: Int, linkType: Int32,
                        segment: UInt16 = 0) {
        if let single {
            single.inspect(bytes, timestamp: timestamp, captureLength: captureLength, wireLength: wireLength, linkType: linkType, segment: segment)
        } else {
            pool!.inspect(bytes, timestamp: timestamp, captureLength: captureLength, wireLength: wireLength, linkType: linkType, segment: segment)
        }
    }

    /// Whether the correlation stage stopped writing (a failed commit in a replay). Read on
    /// the calling thread, so only when the pipeline runs there.
    public var storeStopped: Bool { single != nil && correlation?.stopped == true }
}

/// The wall clock (nanoseconds), for metadata only: when a sensor registered in the store.
/// Alerts, events and incidents take their time from packets.
func sensorClock() -> Int64 {
    var ts = timespec()
    clock_gettime(CLOCK_REALTIME, &ts)
    return Int64(ts.tv_sec) * 1_000_000_000 + Int64(ts.tv_nsec)
}

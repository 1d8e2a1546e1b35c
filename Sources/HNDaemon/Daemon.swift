import CLinux
import Dispatch
import Foundation
import HNCapture
import HNCorrelate
import HNOutput
import HNSensor
import Logging

#if canImport(Glibc)
import Glibc
#endif

/// `hnsensor run`: live capture on every segment of the configuration through the same
/// pipeline as replay. One thread polls the capture handles, a signal descriptor and the
/// metrics listener; the store has its own writer thread; rule reloads build on a background
/// thread while capture goes on.
///
/// - SIGTERM, SIGINT: stop capture, flush flows, commit the store, close EVE, exit 0.
/// - SIGHUP: rebuild rules, indicators, detectors and correlation rules; swap them in between
///   two packets when the build succeeded, keep the old ones when it failed; reopen EVE.
/// - A capture that outruns the pipeline drops in the kernel (counted by pcap); memory stays
///   bounded. EVE write failures (full disk) are logged and retried; capture goes on.
public final class Daemon {
    public struct Options: Sendable {
        public var configPath: String?
        public var rulesPath: String?
        /// Capture on these interfaces instead of the configured segments.
        public var interfaces: [String] = []
        public var evePath: String?
        public var storePath: String?
        /// Inspection worker threads (1: everything on the polling thread).
        public var workers = Cores.online
        public init() {}
    }

    struct Capture {
        let source: PacketSource
        let segment: UInt16
        let interface: String
        let fd: Int32
    }

    /// A reload built on a background thread, handed to the capture thread.
    final class ReloadBox: @unchecked Sendable {
        let lock = NSLock()
        var result: Result<SensorEngines, ReplayError>? = nil
        func put(_ r: Result<SensorEngines, ReplayError>) { lock.lock(); result = r; lock.unlock() }
        func take() -> Result<SensorEngines, ReplayError>? { lock.lock(); defer { result = nil; lock.unlock() }; return result }
    }

    var config: SensorConfig
    let options: Options
    let logger: Logger
    let notifier = SystemdNotifier()

    /// Central mode: where alerts go instead of the sensor's own correlator and store.
    let forwarder: (any AlertForwarder)?

    public init(config: SensorConfig, options: Options, forwarder: (any AlertForwarder)? = nil) {
        self.config = config
        self.options = options
        self.forwarder = forwarder
        var logger = Logger(label: "hnsensor") { JournalLogHandler(label: $0) }
        logger.logLevel = .info
        self.logger = logger
    }

    static func wallNanos() -> Int64 {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return Int64(ts.tv_sec) * 1_000_000_000 + Int64(ts.tv_nsec)
    }

    static func monotonicNanos() -> Int64 {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Int64(ts.tv_sec) * 1_000_000_000 + Int64(ts.tv_nsec)
    }

    /// Runs until SIGTERM or SIGINT; returns the exit status (0 clean, 1 failure).
    public func run() -> Int32 {
        do {
            return try runLoop()
        } catch {
            logger.error("\(error.description)")
            notifier.notify("STATUS=failed: \(error.description)")
            return 1
        }
    }

    func runLoop() throws(ReplayError) -> Int32 {
        // Capture targets: --interface, else every segment with an interface.
        var targets: [(String, String)] = []  // (segment name, interface)
        if !options.interfaces.isEmpty {
            targets = options.interfaces.map { ($0, $0) }
            config.segments = options.interfaces.map { SensorConfig.Segment(name: $0, kind: .internal, interface: $0, bpf: nil, networks: []) }
        } else {
            targets = config.segments.compactMap { s in s.interface.map { (s.name, $0) } }
        }
        guard !targets.isEmpty else {
            throw ReplayError(description: "\(config.source): no segment has an interface: nothing to capture (set segments[].interface or give --interface)")
        }

        // Signals arrive on a descriptor the loop polls: no work in signal handlers.
        var mask = sigset_t()
        sigemptyset(&mask)
        for s in [SIGTERM, SIGINT, SIGHUP] { sigaddset(&mask, s) }
        sigprocmask(SIG_BLOCK, &mask, nil)
        signal(SIGPIPE, SIG_IGN)
        let signals = signalfd(-1, &mask, Int32(SFD_NONBLOCK) | Int32(SFD_CLOEXEC))
        guard signals >= 0 else { throw ReplayError(description: "cannot create a signal descriptor: \(String(cString: strerror(errno)))") }
        defer { close(signals) }

        // Privileged steps first: capture handles and the metrics socket.
        var captures: [Capture] = []
        for (index, (segment, interface)) in targets.enumerated() {
            var live = PacketSource.LiveOptions()
            live.snaplen = config.captureSnaplen
            live.bufferSize = Int32(clamping: config.captureBuffer)
            live.promiscuous = config.capturePromiscuous
            // Not immediate: libpcap then uses TPACKET_V3's variable-size blocks, so the kernel
            // ring holds buffer_size bytes of packets rather than buffer_size / snaplen slots;
            // blocks are handed over at least every 100 ms.
            live.immediate = false
            live.bpf = config.segments.first { $0.name == segment }?.bpf
            do {
                let source = try PacketSource(interface: interface, options: live)
                try source.setNonblocking()
                captures.append(Capture(source: source, segment: UInt16(index), interface: interface, fd: source.selectableDescriptor))
            } catch {
                throw ReplayError(description: "segment \(segment): \(error.description)")
            }
        }
        var metricsServer: MetricsServer? = nil
        if let endpoint = config.metricsListen {
            do { metricsServer = try MetricsServer(endpoint) } catch { throw ReplayError(description: error.description) }
        }
        do {
            if let identity = try Privileges.drop(user: config.daemonUser, group: config.daemonGroup) {
                logger.info("dropped privileges", metadata: ["identity": "\(identity)"])
            }
        } catch {
            throw ReplayError(description: error.description)
        }
        umask(0o027)

        // Rules, outputs, store.
        guard let rulesPath = options.rulesPath ?? RulesLoading.defaultPath(config: config) else {
            throw ReplayError(description: "no rules directory: give --rules DIR or set rules.path")
        }
        var engines = try SensorEngines.build(rulesPath: rulesPath, config: config)
        for e in engines.ruleErrors { logger.warning("rule skipped: \(e)") }
        for w in engines.warnings { logger.warning("\(w)") }
        var eve: EVEWriter? = nil
        if let path = options.evePath ?? config.evePath {
            do {
                eve = EVEWriter(file: try OutputFile(appendingTo: path), sensorName: config.sensorName, segmentNames: captures.map(\.interface))
                eve?.settings = config.eve
            } catch {
                throw ReplayError(description: error.description)
            }
        }
        // One worker: the pipeline runs on this thread. Several: this thread is the capture
        // stage of a worker pool and the output stage (EVE, correlation, store) runs on the
        // pool's merge thread; everything that touches them runs in the inspector's hooks.
        let storePath = options.storePath ?? config.storePath
        let forwarder = self.forwarder
        let sensor = try Sensor(config: config, engines: engines, eve: eve, storePath: forwarder == nil ? storePath : nil, workers: options.workers,
                                captureSegments: true, alwaysCorrelate: forwarder == nil, forwarder: forwarder,
                                finishTime: { _ in Daemon.wallNanos() })
        let inspector = sensor.inspector
        let output = sensor.output
        // The sensor's own correlator and store, unless the central store's correlator does it.
        let stage = sensor.correlation
        // A live sensor keeps what the store could not take and retries it every second.
        stage?.retryFailedBatches = true
        // Kernel counters per interface, in the EVE stats record as in the metrics. Read on the
        // polling thread only (libpcap handles are not shared); with workers the output thread
        // takes the last reading.
        func captureTree() -> StatsTree {
            var capture = StatsTree()
            for c in captures {
                let s = c.source.stats()
                var t = StatsTree()
                t.set("kernel_packets", s.received)
                t.set("kernel_drops", s.kernelDropped)
                t.set("interface_drops", s.interfaceDropped)
                capture.set(c.interface, t)
            }
            return capture
        }
        let captureReading = LatestStats()
        let polled = options.workers <= 1
        output.extraStats = {
            let capture = polled ? captureTree() : captureReading.get()
            var eveTree = StatsTree()
            eveTree.set("dropped_bytes", eve?.droppedBytes ?? 0)
            if let forwarder { return [("capture", capture), ("central", forwarder.statsTree()), ("eve", eveTree)] }
            return [("capture", capture), ("correlation", stage!.statsTree()), ("eve", eveTree)]
        }

        let metrics = SensorMetrics()
        // Counters come from the latest answer to a stats request (at most a second old), made
        // on the output thread.
        let latest = LatestStats()
        func refreshMetrics() {
            metrics.update(from: latest.get())
            for c in captures {
                let s = c.source.stats()
                metrics.set("hnsensor_capture_received", Double(s.received), labels: [("interface", c.interface)])
                metrics.set("hnsensor_capture_kernel_drops", Double(s.kernelDropped), labels: [("interface", c.interface)])
                metrics.set("hnsensor_capture_interface_drops", Double(s.interfaceDropped), labels: [("interface", c.interface)])
            }
            metrics.set("hnsensor_eve_dropped_bytes", Double(latest.get().value("eve.dropped_bytes") ?? 0))
            metrics.set("hnsensor_rules_loaded", Double(engines.detection?.ruleCount ?? 0))
        }

        logger.info("capturing", metadata: ["interfaces": "\(captures.map(\.interface).joined(separator: ","))",
                                             "rules": "\(engines.detection?.ruleCount ?? 0)",
                                             "metrics": "\(config.metricsListen?.description ?? "off")"])
        notifier.notify("READY=1\nSTATUS=capturing on \(captures.map(\.interface).joined(separator: ", "))")

        var fds = captures.map { pollfd(fd: $0.fd, events: Int16(POLLIN), revents: 0) }
        fds.append(pollfd(fd: signals, events: Int16(POLLIN), revents: 0))
        if let metricsServer { fds.append(pollfd(fd: metricsServer.fd, events: Int16(POLLIN), revents: 0)) }
        let signalIndex = captures.count
        var stopping = false
        let reload = ReloadBox()
        var reloading = false
        var nextStats = Daemon.monotonicNanos() + config.statsInterval
        var nextWatchdog = notifier.watchdogInterval.map { Daemon.monotonicNanos() + $0 }
        var lastPacket = Daemon.monotonicNanos()
        var nextSnapshot = Daemon.monotonicNanos() + 1_000_000_000
        let timers = MergeTimers()
        let reopenEVE = Request()
        let logger = self.logger
        // The output stage's timers, on the output thread: the correlator's boundary every
        // second, a rotated EVE file reopened, EVE retried after a failure (a full disk).
        inspector.periodic = {
            let now = Daemon.monotonicNanos()
            if reopenEVE.take() {
                do { try eve?.reopen() } catch { logger.error("\(error)") }
            }
            if now >= timers.nextBoundary {
                forwarder?.flush()
                if let stage, stage.hasPending { stage.boundary() }
                timers.nextBoundary = now + 1_000_000_000
                if let failure = stage?.failure, now - timers.lastError > 10_000_000_000 {
                    logger.error("store: \(failure)")
                    timers.lastError = now
                }
            }
            if let failure = inspector.outputFailure {
                if now - timers.lastError > 10_000_000_000 {
                    logger.error("EVE output failing, retrying: \(failure.description)")
                    timers.lastError = now
                }
                if (try? eve?.flush()) != nil { inspector.clearOutputFailure() }
            }
        }
        let started = Daemon.wallNanos()
        inspector.onStats = { tree, write in
            latest.set(tree)
            guard write, let eve, inspector.outputFailure == nil else { return }
            let now = Daemon.wallNanos()
            try? eve.writeStats(timestamp: now, uptime: (now - started) / 1_000_000_000, counters: tree)
            try? eve.flush()
        }
        inspector.start()

        while !stopping {
            for i in fds.indices { fds[i].revents = 0 }
            let ready = poll(&fds, nfds_t(fds.count), 200)
            let now = Daemon.monotonicNanos()
            if ready > 0 {
                for (i, c) in captures.enumerated() where fds[i].revents != 0 {
                    let linkType = c.source.linkType
                    let started = Daemon.monotonicNanos()
                    var count = 0
                    while count < 4096 {
                        let r = c.source.next { bytes, ts, caplen, wirelen in
                            sensor.inspect(bytes, timestamp: ts, captureLength: caplen, wireLength: wirelen, linkType: linkType,
                                           segment: c.segment)
                        }
                        if r != .packet {
                            if case .damaged(let message) = r { logger.error("capture error", metadata: ["detail": "\(message)"]) }
                            break
                        }
                        count += 1
                    }
                    if count > 0 {
                        lastPacket = now
                        metrics.latency.record(.nanoseconds((Daemon.monotonicNanos() - started) / Int64(count)))
                    }
                }
                if fds[signalIndex].revents != 0 {
                    var info = signalfd_siginfo()
                    while read(signals, &info, MemoryLayout<signalfd_siginfo>.size) == MemoryLayout<signalfd_siginfo>.size {
                        switch Int32(info.ssi_signo) {
                        case SIGHUP:
                            if !reloading {
                                reloading = true
                                notifier.notify("RELOADING=1\nSTATUS=reloading rules")
                                logger.info("reload requested: rebuilding rules; capture continues with the current ones")
                                reopenEVE.set()
                                let config = self.config
                                DispatchQueue.global().async {
                                    do throws(ReplayError) {
                                        reload.put(.success(try SensorEngines.build(rulesPath: rulesPath, config: config)))
                                    } catch {
                                        reload.put(.failure(error))
                                    }
                                }
                            }
                        default:
                            logger.info("stopping", metadata: ["signal": "\(info.ssi_signo)"])
                            stopping = true
                        }
                    }
                }
                if let metricsServer, fds.count > signalIndex + 1, fds[signalIndex + 1].revents != 0 {
                    metricsServer.serve {
                        refreshMetrics()
                        return metrics.text()
                    }
                }
            }
            if reloading, let result = reload.take() {
                reloading = false
                switch result {
                case .success(let next):
                    do {
                        // Checked here; the store and correlator take it on the output thread once
                        // every packet before the swap is through.
                        _ = try CorrelationStage.makeCorrelator(rules: next.correlation, config: config, store: nil, captureSegments: true)
                        let config = self.config
                        inspector.replace(next) {
                            do throws(ReplayError) {
                                try stage?.reload(rules: next.correlation, config: config)
                            } catch {
                                logger.error("correlation reload refused: \(error.description)")
                            }
                        }
                        engines = next
                        for e in next.ruleErrors { logger.warning("rule skipped: \(e)") }
                        logger.info("reloaded", metadata: ["rules": "\(next.detection?.ruleCount ?? 0)", "correlation_rules": "\(next.correlation.count)",
                                                           "indicators": "\(next.intel?.set.count ?? 0)"])
                    } catch {
                        logger.error("reload refused: \(error.description); the previous rules stay")
                    }
                case .failure(let error):
                    logger.error("reload refused: \(error.description); the previous rules stay")
                }
                notifier.notify("READY=1\nSTATUS=capturing on \(captures.map(\.interface).joined(separator: ", "))")
            }
            // Flows of a quiet link still end, by the clock.
            if now - lastPacket > 1_000_000_000 { inspector.advanceIdle(to: Daemon.wallNanos()) }
            // What this round captured goes on (the pool's workers); counters for the metrics
            // every second and an EVE stats record at the interval.
            if now >= nextStats || now >= nextSnapshot { captureReading.set(captureTree()) }
            if now >= nextStats {
                inspector.requestStats(write: true)
                nextStats = now + config.statsInterval
                nextSnapshot = now + 1_000_000_000
            } else if now >= nextSnapshot {
                inspector.requestStats(write: false)
                nextSnapshot = now + 1_000_000_000
            } else if !polled {
                inspector.poll()  // (a stats request hands the pool's batches on already)
            }
            if polled { inspector.poll() }
            if let interval = notifier.watchdogInterval, let due = nextWatchdog, now >= due {
                notifier.notify("WATCHDOG=1")
                nextWatchdog = now + interval
            }
        }

        notifier.notify("STOPPING=1\nSTATUS=flushing flows and the store")
        inspector.finish()
        do { try eve?.commit() } catch { logger.error("\(error.description)") }
        let packets = inspector.finalStatistics.value("decoder.pkts") ?? 0
        var dropped: UInt64 = 0
        for c in captures { dropped += c.source.stats().kernelDropped }
        logger.info("stopped", metadata: ["packets": "\(packets)", "kernel_drops": "\(dropped)", "alerts": "\(output.alerts)",
                                          "incidents": "\(stage?.incidents.count ?? 0)"])
        if let failure = stage?.failure {
            logger.error("store: \(failure)")
            return 1
        }
        return 0
    }
}

/// The output thread's timers.
final class MergeTimers: @unchecked Sendable {
    // Touched by the merge thread only.
    var nextBoundary: Int64 = 0
    var lastError: Int64 = 0
}

/// The counters the merge thread summed last, for the metrics endpoint on the polling thread.
final class LatestStats: @unchecked Sendable {
    private let lock = NSLock()
    private var tree = StatsTree()
    func set(_ t: StatsTree) { lock.lock(); tree = t; lock.unlock() }
    func get() -> StatsTree { lock.lock(); defer { lock.unlock() }; return tree }
}

/// A request from the polling thread to the merge thread (reopen EVE after rotation).
final class Request: @unchecked Sendable {
    private let lock = NSLock()
    private var pending = false
    func set() { lock.lock(); pending = true; lock.unlock() }
    func take() -> Bool { lock.lock(); defer { pending = false; lock.unlock() }; return pending }
}

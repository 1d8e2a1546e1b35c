import HNAlert
import HNAnomaly
import HNAppLayer
import HNDecode
import HNDetect
import HNFlow
import HNOutput
import HNStore

/// What a worker hands on to the output stage: the work that must see every flow's output in
/// packet order (alert thresholds, the cross-flow behaviour detectors, the correlator, the EVE
/// file). Flow-local work (decode, streams, parsers, signatures, indicators, EVE formatting of
/// application records) stays in the worker.
public enum StageItem {
    /// EVE records a worker already formatted: bytes `start..<end` of its batch.
    case eve(start: Int, end: Int)
    /// An alert, with the flow as it was then; `payload` is the packet payload while the
    /// packet is alive (one worker), `copy` the bytes kept when it is not (several workers).
    /// `app` is the transaction the alert is about, for EVE.
    case alert(SecurityAlert, Flow?, payload: ByteView, copy: [UInt8]?, gate: AlertGate.Ticket?, app: AlertApp?)
    /// Detector inputs.
    case flowStarted(Flow)
    case packet(Packet, copy: [UInt8]?, flow: Flow?, toServer: Bool)
    case appEvent(AppEvent, Flow, time: Int64)
    case flowEnding(Flow)
    /// The flow's EVE `flow` record (its `alerted` flag is known only here).
    case flowRecord(Flow, FlowEndReason, FlowMACs?, TrafficTags?)
}

/// The single-threaded stage after the workers: applies alert thresholds, runs the behaviour
/// detectors, writes EVE in packet order and hands alerts to the correlator. With one worker
/// the pipeline calls it directly; with several the merge thread feeds it the workers' items
/// merged by packet number, so the output is the same whatever the number of workers.
public final class OutputStage {
    public let eve: EVEWriter?
    public private(set) var anomalies: AnomalyEngine?
    /// Thresholds and suppressions of the signature rules, with their state.
    public private(set) var gate: AlertGate?
    /// Receives every alert after EVE (the correlator).
    public var alertSink: ((SecurityAlert) -> Void)? = nil
    /// Counters of the stages after this one (correlation), added to `stats`.
    public var extraStats: (() -> [(String, StatsTree)])? = nil
    public private(set) var alerts: UInt64 = 0
    /// The first output failure (disk full, …); writing stops after it.
    public private(set) var outputFailure: OutputFile.Failure? = nil
    /// Open flows that alerted (written as `alerted` in their flow record).
    var alertedFlows: Set<UInt64> = []
    public private(set) var flowRecords: UInt64 = 0

    public init(eve: EVEWriter?, gate: AlertGate?, anomalies: AnomalyEngine?) {
        self.eve = eve
        self.gate = gate
        self.anomalies = anomalies
    }

    public func replace(gate: AlertGate?, anomalies: AnomalyEngine?) {
        self.gate = gate
        self.anomalies = anomalies
    }

    public func clearOutputFailure() { outputFailure = nil }

    /// Takes one item; `formatted` holds the bytes of `.eve` items.
    public func consume(_ item: StageItem, formatted: UnsafeRawBufferPointer? = nil) {
        switch item {
        case .eve(let start, let end):
            guard let eve, outputFailure == nil, let formatted, start < end, end <= formatted.count else { return }
            do {
                try eve.writeFormatted(UnsafeRawBufferPointer(rebasing: formatted[start..<end]))
            } catch {
                outputFailure = error
            }
        case .alert(let alert, let flow, let payload, let copy, let gate, let app):
            if let g = self.gate, alert.origin == .signature {
                if let ticket = gate {
                    guard g.admit(ticket) else { return }
                } else {
                    g.count()
                }
            }
            if let copy {
                copy.withUnsafeBytes { deliver(alert, flow: flow, payload: ByteView($0), app: app) }
            } else {
                deliver(alert, flow: flow, payload: payload, app: app)
            }
        case .flowStarted(let flow):
            guard let anomalies else { return }
            anomalies.flowStarted(flow) { deliver($0, about: flow) }
        case .packet(var packet, let copy, let flow, let toServer):
            guard let anomalies else { return }
            if let copy {
                copy.withUnsafeBytes { raw in
                    packet.payload = ByteView(raw)
                    anomalies.packet(packet, flow: flow, toServer: toServer) { deliver($0, about: flow) }
                }
            } else {
                anomalies.packet(packet, flow: flow, toServer: toServer) { deliver($0, about: flow) }
            }
        case .appEvent(let event, let flow, let time):
            guard let anomalies else { return }
            anomalies.appEvent(event, flow: flow, time: time) { deliver($0, about: flow) }
        case .flowEnding(let flow):
            guard let anomalies else { return }
            anomalies.flowEnded(flow) { deliver($0, about: flow) }
        case .flowRecord(var flow, let reason, let macs, let traffic):
            flowRecords += 1
            if alertedFlows.remove(flow.id) != nil { flow.alerted = true }
            guard let eve, outputFailure == nil else { return }
            do {
                try eve.writeFlow(flow, reason: reason, macs: macs, traffic: traffic)
            } catch {
                outputFailure = error
            }
        }
    }

    /// Writes an alert of any origin to EVE and hands it to the correlator.
    func deliver(_ alert: SecurityAlert, flow: Flow?, payload: ByteView = .empty, app: AlertApp? = nil) {
        alerts &+= 1
        if let flow { alertedFlows.insert(flow.id) }
        if let eve, outputFailure == nil {
            do throws(OutputFile.Failure) {
                try eve.writeAlert(alert, flow: flow, payload: payload, app: app)
            } catch {
                outputFailure = error
            }
        }
        alertSink?(alert)
    }

    /// Delivers a detector's alert, with the flow when it is about it.
    func deliver(_ alert: SecurityAlert, about flow: Flow?) {
        let mine = flow != nil && alert.flowID == flow?.id
        deliver(alert, flow: mine ? flow : nil)
    }

    /// This stage's counters, merged into the workers' `stats` tree: the threshold verdicts
    /// under `detect`, then `anomaly` and the later stages after `intel`.
    public func compose(_ workers: StatsTree) -> StatsTree {
        var tree = StatsTree()
        for (name, node) in workers.children {
            if name == "defrag" { appendOwn(&tree) }
            if name == "detect", case .tree(var detect) = node, let g = gate {
                let s = g.stats
                detect.replace("alerts", s.alerts)
                detect.replace("suppressed", s.suppressed)
                detect.replace("thresholded", s.thresholded)
                tree.set(name, detect)
            } else {
                tree.children.append((name, node))
            }
        }
        if !tree.children.contains(where: { $0.0 == "defrag" }) { appendOwn(&tree) }
        return tree
    }

    func appendOwn(_ tree: inout StatsTree) {
        if let anomalies {
            anomalies.refreshStats()
            var t = StatsTree()
            t.set("alerts", anomalies.stats.alerts)
            t.set("tracked_keys", UInt64(anomalies.stats.trackedKeys))
            t.set("untracked", anomalies.stats.untracked)
            tree.set("anomaly", t)
        }
        for (name, t) in extraStats?() ?? [] { tree.set(name, t) }
    }
}

extension StatsTree {
    /// Replaces the value `name` (or adds it).
    mutating func replace(_ name: String, _ value: UInt64) {
        if let i = children.firstIndex(where: { $0.0 == name }) { children[i].1 = .value(value) } else { set(name, value) }
    }

    /// The sum of two workers' trees of the same shape; values named in `first` are taken
    /// from `self` (rule and indicator counts are the same in every worker).
    func summed(with other: StatsTree, keepingFirst first: Set<String> = ["rules", "indicators"]) -> StatsTree {
        var out = self
        for (name, node) in other.children {
            guard let i = out.children.firstIndex(where: { $0.0 == name }) else {
                out.children.append((name, node))
                continue
            }
            switch (out.children[i].1, node) {
            case (.value(let a), .value(let b)):
                if !first.contains(name) { out.children[i].1 = .value(a &+ b) }
            case (.tree(let a), .tree(let b)):
                out.children[i].1 = .tree(a.summed(with: b, keepingFirst: first))
            default:
                break
            }
        }
        return out
    }
}

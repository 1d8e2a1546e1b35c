import HNAlert
import HNAnomaly
import HNAppLayer
import HNDecode
import HNDetect
import HNFlow
import HNIntel
import HNOutput
import HNStore

/// The merge order of a worker's items: packet number, then flows ended by that packet's
/// clock tick (phase 0, by second and flow id) before the packet's own items (phase 1).
/// Flows ended at shutdown come last, by start and flow id.
public struct ItemKey: Comparable, Sendable {
    public var sequence: UInt64
    public var phase: UInt8
    public var a: Int64
    public var b: UInt64

    public static func < (l: ItemKey, r: ItemKey) -> Bool {
        (l.sequence, l.phase, l.a, l.b) < (r.sequence, r.phase, r.a, r.b)
    }
}

/// How far the pipeline takes packets: everything (the sensor), or only the first stages,
/// for benchmarks that price each stage (`hnsensor replay --depth`).
public enum InspectionDepth: String, Sendable, CaseIterable {
    /// Packets are read and counted, nothing more.
    case read
    /// Decoded (with defragmentation), no flows.
    case decode
    /// Decoded and tracked as flows (flow records only): no streams, parsers or detection.
    case flows
    /// Streams, application-layer parsers, detection, output: the sensor.
    case full
}

/// The inspection pipeline for one worker: decode, flow tracking, and the EVE records they
/// produce. It knows nothing of libpcap: it takes bytes with a timestamp and a link type, so
/// replay, live capture and tests drive the very same code.
public final class Pipeline {
    public private(set) var decoder: Decoder
    public let flows: FlowTable
    let eve: EVEWriter?
    /// The output stage, called directly (one worker); nil in a worker of several, whose
    /// items go to `items` for the merge thread.
    public let stage: OutputStage?
    /// Items for the merge, each with its order key (several workers).
    public internal(set) var items: [(key: ItemKey, item: StageItem)] = []
    /// The order key of the items produced now.
    var key = ItemKey(sequence: 0, phase: 1, a: 0, b: 0)
    /// Detector settings (the detectors themselves run in the output stage).
    var anomalySettings: AnomalySettings?
    /// How far packets go (benchmarks measure each stage on its own).
    public var depth = InspectionDepth.full
    /// Set while a flow's end is processed: the current packet is not that flow's.
    var endingFlow = false
    var packet = Packet()
    /// Decodes packets whose outer flow only is this worker's (several workers).
    var outerDecoder: Decoder? = nil
    public private(set) var firstTimestamp: Int64? = nil
    public private(set) var lastTimestamp: Int64 = 0
    /// The first output failure (disk full, …); processing stops writing after it.
    public var outputFailure: OutputFile.Failure? { localFailure ?? stage?.outputFailure }
    var localFailure: OutputFile.Failure? = nil
    public var flowRecords: UInt64 { stage?.flowRecords ?? 0 }
    public private(set) var detection: DetectionEngine? {
        didSet { fitTo(detection) }
    }
    /// What the rules read, so nothing else is copied: stream bytes only when a rule reads
    /// the payload, HTTP bodies only when one reads a body; no detection pass without rules.
    var readsPayload = false
    var hasRules = false

    func fitTo(_ detection: DetectionEngine?) {
        hasRules = (detection?.ruleCount ?? 0) > 0
        readsPayload = detection?.reads(.payload) ?? false
        appLayer.keepBodies = detection.map { $0.reads(.httpRequestBody) || $0.reads(.httpResponseBody) || $0.reads(.fileData) } ?? false
        appLayer.sshHassh = detection.map { d in [.sshHassh, .sshHasshString, .sshHasshServer, .sshHasshServerString].contains { d.reads($0) } } ?? false
    }
    public let streams: StreamReassembler
    public let appLayer = AppLayer()
    var buffers = InspectionBuffers()
    /// Application-layer events of the packet being processed (their buffers stay alive
    /// until the next packet).
    var events: [AppEvent] = []
    /// Stream bytes handed to the parsers on this packet, per direction (to server, to
    /// client): the reassembled data a transaction of the other direction is inspected with.
    var streamData = Both<[UInt8]>([])

    /// Stream-level matching of TCP payload rules, per flow slot.
    let streamInspector = StreamInspector()
    /// Transactions waiting for a packet of their own direction, per flow slot.
    let transactions = TransactionQueue()
    /// The events and the flushed stream bytes of a flow being ended (reused).
    var endingScratch: [AppEvent] = []
    var flushScratch = Both<[UInt8]>([])
    public private(set) var packetNumber: UInt64 = 0
    public var alerts: UInt64 { stage?.alerts ?? 0 }
    /// Packets dropped by a drop rule under simulated IPS.
    public private(set) var dropped: UInt64 = 0

    /// Indicators of compromise matched on flow addresses and application-layer fields.
    public private(set) var intel: IntelMatcher?
    /// Behaviour detectors (run by the output stage).
    public var anomalies: AnomalyEngine? { stage?.anomalies }
    /// Receives every alert after EVE (the correlator).
    public var alertSink: ((SecurityAlert) -> Void)? {
        get { stage?.alertSink }
        set { stage?.alertSink = newValue }
    }
    /// Keep payload excerpts with alerts for the store (encrypted there).
    public var keepExcerpts = false
    /// The frame being processed, for packet logging; valid only during `process`.
    var frame = UnsafeRawBufferPointer(start: nil, count: 0)
    /// The Ethernet addresses of each open flow, kept only when EVE logs them.
    var macs: [UInt64: FlowMACs] = [:]
    /// The transaction being inspected (event type and id), while `detect` runs.
    var alertTransaction: (String, Int)? = nil
    /// The objects the inspected transaction's events give an alert (a file's `files`).
    var alertObjects: [(String, JSONValue)] = []
    /// The sensor's hooks (see `PacketInspector`): after each packet, before the final stats.
    var afterPacketHook: (() -> Void)? = nil
    var beforeStatsHook: ((Int64) -> Void)? = nil
    public var periodic: (() -> Void)? = nil
    public var onStats: ((StatsTree, Bool) -> Void)? = nil
    static let excerptLength = 256
    /// Counters of the stages after the pipeline (correlation), added to `stats`.
    public var extraStats: (() -> [(String, StatsTree)])? {
        get { stage?.extraStats }
        set { stage?.extraStats = newValue }
    }

    /// One worker: the pipeline drives its own output stage.
    public convenience init(config: SensorConfig, eve: EVEWriter?, detection: DetectionEngine? = nil, intel: IntelMatcher? = nil,
                            anomalies: AnomalyEngine? = nil) {
        detection?.deferThresholds = true
        self.init(config: config, eve: eve, detection: detection, intel: intel, anomalySettings: anomalies?.settings,
                  stage: OutputStage(eve: eve, gate: detection?.gate, anomalies: anomalies), shares: 1)
    }

    /// A worker among `shares`: its items go to the merge; caps on memory are its share.
    init(config: SensorConfig, eve: EVEWriter?, detection: DetectionEngine?, intel: IntelMatcher?, anomalySettings: AnomalySettings?,
         stage: OutputStage?, shares: Int) {
        self.intel = intel
        self.anomalySettings = anomalySettings
        self.stage = stage
        var defrag = config.defrag
        defrag.memcap /= shares
        self.decoder = Decoder(defragLimits: defrag)
        self.flows = FlowTable(timeouts: config.flowTimeouts, memcap: config.flowMemcap / shares, midstream: config.streamMidstream)
        self.eve = eve
        appLayer.dumpHTTPHeaders(request: config.eve.httpRequestHeaders, response: config.eve.httpResponseHeaders)
        appLayer.tlsCustomFields(config.eve.tlsCustom.map(Set.init))
        self.detection = detection
        detection?.deferThresholds = true
        var limits = StreamReassembler.Limits()
        defer { fitTo(detection) }
        limits.inline = config.streamInline
        limits.depth = config.streamDepth
        limits.memcap /= shares
        self.streams = StreamReassembler(limits: limits)
    }

    /// Hands an item to the output stage, or keeps it for the merge.
    @inline(__always)
    func emit(_ item: StageItem) {
        if let stage { stage.consume(item) } else { items.append((key, item)) }
    }

    /// A worker's broadcast clock tick: packet `sequence` moved time to `time` (a new
    /// second), so idle flows expire exactly as they would with one worker.
    public func tick(sequence: UInt64, time: Int64) {
        packetNumber = sequence
        key = ItemKey(sequence: sequence, phase: 1, a: 0, b: 0)
        if firstTimestamp == nil { firstTimestamp = time }
        if time > lastTimestamp { lastTimestamp = time }
        flows.advance(to: time, onEnd: flowEnded)
    }

    /// Processes one captured frame. `bytes` is only borrowed for the call.
    /// `sequence` is the packet's number in the whole capture (workers see only their share).
    public func process(_ bytes: UnsafeRawBufferPointer, timestamp: Int64, captureLength: Int, wireLength: Int,
                        linkType: Int32, segment: UInt16 = 0, sequence: UInt64? = nil, outerFlow: Bool = true) {
        begin(timestamp: timestamp, captureLength: captureLength, wireLength: wireLength, segment: segment, sequence: sequence)
        frame = bytes
        defer { frame = UnsafeRawBufferPointer(start: nil, count: 0) }
        let verdict = decoder.decode(ByteView(bytes), linkType: linkType, into: &packet)
        if depth != .full {
            if depth == .flows, verdict == .decoded { _ = flows.track(packet, onEnd: flowEnded) }
            return
        }
        guard verdict == .decoded else { return rejected() }
        if outerFlow && packet.tunnelDepth > 0 && packet.outerVersion != 0 { trackTunnel() }
        let tracked = flows.track(packet, onEnd: flowEnded)
        if let tracked, tracked.created { flowStarted(at: tracked.position) }
        if let tracked, packet.sourceMAC | packet.destinationMAC != 0, eve?.settings.ethernet == true {
            macs[flows[tracked.position].id, default: FlowMACs()].add(source: packet.sourceMAC, destination: packet.destinationMAC,
                                                                     toServer: tracked.direction == .toServer)
        }
        events.removeAll(keepingCapacity: true)
        if let tracked { applicationLayer(tracked) }
        behaviourInput(tracked)
        if let tracked {
            observeEvents(at: tracked.position)
            writeRecords(tracked)
        }
        guard let detection, hasRules, packet.ipVersion != 0, !packet.isFragment else { return }
        detect(tracked, detection)
    }

    /// The packet's clock, size, segment and number.
    @inline(__always)
    func begin(timestamp: Int64, captureLength: Int, wireLength: Int, segment: UInt16, sequence: UInt64?) {
        if firstTimestamp == nil { firstTimestamp = timestamp }
        if timestamp > lastTimestamp { lastTimestamp = timestamp }
        packet.timestamp = timestamp
        packet.captureLength = captureLength
        packet.wireLength = wireLength
        packet.segment = segment
        packetNumber = sequence ?? packetNumber &+ 1
        key = ItemKey(sequence: packetNumber, phase: 1, a: 0, b: 0)
    }

    /// A packet the decoder rejected: it still moves packet time forward, so idle flows
    /// expire, and one whose IP header was sound but whose transport was not is still seen by
    /// IP-only rules, as in Suricata.
    func rejected() {
        flows.advance(to: packet.timestamp, onEnd: flowEnded)
        guard let detection, packet.ipVersion != 0, !packet.hasTransport else { return }
        buffers.clear()
        _ = detection.inspect(packet, packetNumber: packetNumber, flow: nil, flowKey: nil, toServer: true,
                              buffers: buffers, ipOnly: true) { alert in self.emitAlert(alert, detection, nil, nil) }
    }

    /// A new flow: the application layer, the detectors and the address indicators see it.
    func flowStarted(at position: Int) {
        appLayer.flowStarted(&flows[position])
        if anomalySettings != nil { emit(.flowStarted(flows[position])) }
        if let intel, intel.checksAddresses {
            let flow = flows[position]
            intel.flowStarted(flow) { deliver($0, flow: flow) }
        }
    }

    /// The packet for the per-packet detectors (floods, clear-text logins), when they want it.
    func behaviourInput(_ tracked: FlowTable.Tracked?) {
        guard let anomalySettings, AnomalyEngine.wants(packet, anomalySettings) else { return }
        let flow = tracked.map { flows[$0.position] }
        if stage == nil {
            // The packet's bytes are gone by the time the merge reads it: keep what the
            // clear-text login check reads.
            var copy: [UInt8] = []
            if packet.ipProto == IPProto.tcp && packet.payload.count > 0 { copy = Array(packet.payload.rawBuffer.prefix(64)) }
            var bare = packet
            bare.payload = .empty
            emit(.packet(bare, copy: copy, flow: flow, toServer: tracked?.direction != .toClient))
        } else {
            emit(.packet(packet, copy: nil, flow: flow, toServer: tracked?.direction != .toClient))
        }
    }

    /// The packet's application-layer events for the indicators and the detectors.
    func observeEvents(at position: Int) {
        guard !events.isEmpty, anomalySettings != nil || intel != nil else { return }
        for event in events where event.record != nil || !event.notes.isEmpty {
            observe(event, flows[position], position, time: packet.timestamp)
        }
    }

    /// The packet's application-layer EVE records.
    func writeRecords(_ tracked: FlowTable.Tracked) {
        guard eve != nil, outputFailure == nil else { return }
        for event in events where event.record != nil {
            writeApp(event, flow: flows[tracked.position], timestamp: packet.timestamp, packetNumber: packetNumber,
                     packetToServer: tracked.direction == .toServer)
        }
    }

    /// Signature matching: the packet (with the first transaction it completed), the stream
    /// bytes it handed on, then each other transaction it made available, each on its own;
    /// the verdict marks the flow passed or dropped.
    func detect(_ tracked: FlowTable.Tracked?, _ detection: DetectionEngine) {
        let toServer = tracked.map { $0.direction == .toServer } ?? true
        let position = tracked?.position
        let flow = tracked.map { flows[$0.position] }
        let facts = flow.flatMap { $0.appProto == 0 ? nil : appLayer.facts($0) }
        transactions.collect(events, slot: position, toServer: toServer, streamData: streamData)
        let groups = transactions.groups
        let firstIndex = groups.firstIndex { $0.fromThisPacket }
        buffers.clear()
        if packet.payload.count > 0 { buffers.set(.payload, packet.payload) }
        if let firstIndex { setBuffers(groups[firstIndex]) }
        alertTransaction = firstIndex.map { (groups[$0].first.eventType, groups[$0].tx) }
        alertObjects = firstIndex.map { Pipeline.objects(groups[$0]) } ?? []
        defer {
            alertTransaction = nil
            alertObjects = []
        }
        var result = detection.inspect(packet, packetNumber: packetNumber, flow: flow, flowKey: flow.map { Int($0.id) },
                                       toServer: toServer, buffers: buffers, facts: facts) { alert in
            if let position, detection.isStreamRule(alert.ruleIndex) {
                streamInspector.packetAlerted(slot: position, toServer: toServer, rule: alert.ruleIndex, bytes: packet.payload.count)
            }
            emitAlert(alert, detection, flow, position)
        }
        if let flow, let position, packet.ipProto == IPProto.tcp, result != .dropped, readsPayload {
            // Where this packet's stream bytes start in each direction's stream.
            var starts = Both(0)
            starts[0] = streams.delivered(slot: position, toServer: true) - streamData[0].count
            starts[1] = streams.delivered(slot: position, toServer: false) - streamData[1].count
            result = streamInspector.inspect(packet, packetNumber: packetNumber, flow: flow, slot: position, toServer: toServer,
                                             data: streamData, streamOffsets: starts, detection: detection, facts: facts,
                                             result: result) { alert in
                emitAlert(alert, detection, flow, position)
            }
        }
        for (index, group) in groups.enumerated() where index != firstIndex && result != .dropped {
            buffers.clear()
            setBuffers(group)
            alertTransaction = (group.first.eventType, group.tx)
            alertObjects = Pipeline.objects(group)
            // A transaction's own stream bytes stand in for the payload; one completed by
            // this packet sees the packet payload.
            if !group.stream.isEmpty { buffers.set(.payload, group.stream[0].1) } else if group.fromThisPacket, packet.payload.count > 0 {
                buffers.set(.payload, packet.payload)
            }
            let next = detection.inspect(packet, packetNumber: packetNumber, flow: flow, flowKey: flow.map { Int($0.id) },
                                         toServer: toServer, buffers: buffers, facts: facts, appOnly: true) { alert in
                emitAlert(alert, detection, flow, position)
            }
            if next != .accepted { result = next }
        }
        guard let position else { if result == .dropped { dropped &+= 1 }; return }
        switch result {
        case .dropped:
            dropped &+= 1
            flows[position].action = .drop
        case .passed:
            if flows[position].action == .none { flows[position].action = .pass }
        case .accepted:
            break
        }
    }

    /// A tunnelled packet whose inner flow another worker inspects: only its outer flow is
    /// tracked here. Decoded by a decoder of its own, whose counters and fragments are not
    /// this worker's.
    func trackOuterFlow(_ bytes: UnsafeRawBufferPointer, timestamp: Int64, captureLength: Int, wireLength: Int, linkType: Int32,
                        segment: UInt16, sequence: UInt64) {
        packetNumber = sequence
        key = ItemKey(sequence: sequence, phase: 1, a: 0, b: 0)
        if timestamp > lastTimestamp { lastTimestamp = timestamp }
        packet.timestamp = timestamp
        packet.captureLength = captureLength
        packet.wireLength = wireLength
        packet.segment = segment
        if outerDecoder == nil { outerDecoder = Decoder(defragLimits: decoder.defragmenter.limits) }
        guard outerDecoder!.decode(ByteView(bytes), linkType: linkType, into: &packet) == .decoded,
              packet.tunnelDepth > 0, packet.outerVersion != 0 else { return }
        trackTunnel()
    }

    /// Tracks the outer layer of a tunnelled packet as a flow of its own (IP-in-IP, GRE).
    func trackTunnel() {
        var outer = Packet()
        outer.timestamp = packet.timestamp
        outer.captureLength = packet.captureLength
        outer.wireLength = packet.wireLength
        outer.segment = packet.segment
        outer.vlanCount = packet.vlanCount
        outer.vlan0 = packet.vlan0
        outer.vlan1 = packet.vlan1
        outer.ipVersion = packet.outerVersion
        outer.source = packet.outerSource
        outer.destination = packet.outerDestination
        outer.ipProto = packet.outerProto
        _ = flows.track(outer, onEnd: flowEnded)
    }

    /// The alert objects a transaction's events carry (the last event's that has any).
    static func objects(_ group: TransactionQueue.Transaction) -> [(String, JSONValue)] {
        if let e = group.more.last(where: { !$0.alertObjects.isEmpty }) { return e.alertObjects }
        return group.first.alertObjects
    }

    /// Registers the buffers of one transaction.
    func setBuffers(_ group: TransactionQueue.Transaction) {
        buffers.set(group.first.buffers)
        for event in group.more { buffers.set(event.buffers) }
    }

    /// Stream reassembly and application-layer parsing of a tracked packet.
    func applicationLayer(_ tracked: FlowTable.Tracked) {
        let toServer = tracked.direction == .toServer
        let position = tracked.position
        if packet.ipProto == IPProto.tcp {
            streamData[0].removeAll(keepingCapacity: true)
            streamData[1].removeAll(keepingCapacity: true)
            // A connection whose handshake was missed, without midstream pick-up, is not
            // reassembled (as in Suricata): its packets are inspected alone.
            guard flows[position].tcpState != .none else { return }
            // The bytes are kept for stream-level matching only when a rule reads the payload.
            let keep = readsPayload
            streams.segment(slot: position, toServer: toServer, packet: packet) { chunk, direction in
                if keep, case .data(let bytes) = chunk { streamData[direction ? 0 : 1].append(contentsOf: bytes.rawBuffer) }
                appLayer.stream(chunk, toServer: direction, flow: &flows[position], events: &events)
            }
            if flows[position].tcpState == .closed { appLayer.connectionClosed(flows[position], events: &events) }
        } else if packet.ipProto == IPProto.udp, packet.payload.count > 0 {
            appLayer.datagram(packet, toServer: toServer, flow: &flows[position], events: &events)
        }
    }

    func emitAlert(_ alert: Alert, _ detection: DetectionEngine, _ flow: Flow?, _ position: Int?) {
        var described = detection.describe(alert, flowID: flow?.id, segment: flow?.segment ?? packet.segment,
                                           appProto: flow.flatMap { AppProtocol.name($0.appProto) }, hasFlow: flow != nil)
        if let flow { described.traffic = detection.traffic(flowKey: Int(flow.id)) }
        described.streamMatch = flow?.proto == IPProto.tcp && (detection.isStreamRule(alert.ruleIndex) || detection.usesAppLayer(alert.ruleIndex))
        let onThisPacket = !endingFlow && alert.packetNumber == packetNumber
        let payload = onThisPacket ? packet.payload : .empty
        if onThisPacket, eve?.settings.ethernet == true {
            described.sourceMAC = packet.sourceMAC
            described.destinationMAC = packet.destinationMAC
        }
        if onThisPacket, eve?.settings.alertPacket == true, frame.count > 0 {
            // A reassembled datagram is logged whole, as Suricata logs it.
            described.packet = packet.reassembled && !decoder.reassembledPacket.isEmpty ? decoder.reassembledPacket : Array(frame)
            described.linkType = packet.linkType
        }
        if onThisPacket && packet.tunnelDepth > 0 {
            described.tunnel = .init(source: packet.outerSource, destination: packet.outerDestination, proto: packet.outerProto,
                                     version: packet.outerVersion, depth: packet.tunnelDepth)
        }
        if keepExcerpts && payload.count > 0 {
            described.excerpt = CredentialRedaction.redact(Array(payload.rawBuffer.prefix(Pipeline.excerptLength)))
        }
        // An alert on a transaction carries it (Suricata's app-layer metadata in alerts).
        var app: AlertApp? = nil
        if let flow, let (eventType, tx) = alertTransaction, let eve, detection.usesAppLayer(alert.ruleIndex) {
            // The transaction's id always; its record only with `metadata` on.
            app = eve.settings.alertMetadata ? appLayer.alertMetadata(flow, eventType: eventType, tx: tx, events: events) : nil
            if app == nil || (app?.objects.isEmpty == true && !alertObjects.isEmpty) {
                app = AlertApp(transactionID: tx, objects: eve.settings.alertMetadata ? alertObjects : [])
            }
        }
        deliver(described, flow: flow, payload: payload, gate: detection.gate.ticket(alert, flowKey: flow.map { Int($0.id) }), app: app)
    }

    /// Hands an alert of any origin to the output stage (EVE, correlator).
    func deliver(_ alert: SecurityAlert, flow: Flow?, payload: ByteView = .empty, gate: AlertGate.Ticket? = nil, app: AlertApp? = nil) {
        if stage != nil {
            emit(.alert(alert, flow, payload: payload, copy: nil, gate: gate, app: app))
        } else {
            let copy = eve?.includePayload == true && payload.count > 0 ? Array(payload.rawBuffer) : nil
            emit(.alert(alert, flow, payload: .empty, copy: copy, gate: gate, app: app))
        }
    }

    /// Writes an application-layer record (a worker of several formats it for the merge).
    func writeApp(_ event: AppEvent, flow: Flow, timestamp: Int64, packetNumber: UInt64?, packetToServer: Bool) {
        guard let eve else { return }
        let start = eve.output.collected
        do {
            try eve.writeApp(event, flow: flow, timestamp: timestamp, packetNumber: packetNumber, packetToServer: packetToServer,
                             macs: eve.settings.ethernet ? macs[flow.id] : nil)
        } catch {
            localFailure = error
        }
        if stage == nil { items.append((key, .eve(start: start, end: eve.output.collected))) }
    }

    /// An application-layer event seen by the indicator matcher and the detectors.
    func observe(_ event: AppEvent, _ flow: Flow, _ position: Int?, time: Int64) {
        if anomalySettings != nil {
            var bare = event
            if stage == nil { bare.buffers = .empty }
            emit(.appEvent(bare, flow, time: time))
        }
        if let intel, let record = event.record {
            intel.appRecord(event.eventType, record, flow: flow, time: time) { deliver($0, flow: flow) }
        }
    }

    /// Data handed on only at the end of a flow is still inspected, in its own direction, on a
    /// pseudo packet carrying the flow's tuple (as Suricata does): one inspection per
    /// transaction, with the stream bytes flushed for its direction as payload (as Suricata
    /// inspects the reassembled stream at the end of a flow).
    func inspectAtEnd(_ flow: Flow, ended: Flow, ending: [AppEvent], flushed: Both<[UInt8]>, _ detection: DetectionEngine) {
        var groups: [(toServer: Bool, tx: Int)] = []
        for event in ending where !event.buffers.isEmpty && !groups.contains(where: { $0.toServer == event.toServer && $0.tx == event.transactionID }) {
            groups.append((event.toServer, event.transactionID))
        }
        // Alerts take their transaction's record from the flow's last events.
        let packetEvents = events
        events = ending
        defer {
            events = packetEvents
            alertTransaction = nil
        }
        for group in groups {
            let direction = group.toServer
            buffers.clear()
            for event in ending where event.toServer == direction && event.transactionID == group.tx {
                buffers.set(event.buffers)
                alertTransaction = (event.eventType, group.tx)
            }
            var pseudo = Packet()
            pseudo.timestamp = flow.last
            pseudo.ipVersion = flow.ipVersion
            pseudo.ipProto = flow.proto
            pseudo.hasTransport = true
            pseudo.source = direction ? flow.client : flow.server
            pseudo.destination = direction ? flow.server : flow.client
            pseudo.sourcePort = direction ? flow.clientPort : flow.serverPort
            pseudo.destinationPort = direction ? flow.serverPort : flow.clientPort
            let facts = appLayer.facts(flow)
            let stream = flushed[direction ? 0 : 1]
            stream.withUnsafeBytes { raw in
                if !stream.isEmpty { buffers.set(.payload, ByteView(raw)) }
                _ = detection.inspect(pseudo, packetNumber: packetNumber, flow: ended, flowKey: Int(flow.id), toServer: direction,
                                      buffers: buffers, facts: facts, appOnly: true) { alert in
                    emitAlert(alert, detection, ended, nil)
                }
            }
        }
    }

    func flowEnded(_ flow: Flow, _ reason: FlowEndReason) {
        // Flows ending on a clock tick, or at shutdown, are merged in an order of their own.
        let saved = key
        switch reason {
        case .timeout: key = ItemKey(sequence: saved.sequence, phase: 0, a: flow.wheelSlot, b: flow.id)
        case .shutdown: key = ItemKey(sequence: .max, phase: 0, a: flow.start, b: flow.id)
        default: break
        }
        guard depth == .full else {
            emit(.flowRecord(flow, reason, macs.removeValue(forKey: flow.id), nil))
            key = saved
            return
        }
        endingFlow = true
        defer {
            key = saved
            endingFlow = false
            detection?.flowEnded(flowKey: Int(flow.id))
        }
        // The events and flushed bytes of the ending flow, in arrays reused from flow to flow.
        var ending: [AppEvent] = []
        var flushed = Both<[UInt8]>([])
        swap(&ending, &endingScratch)
        swap(&flushed, &flushScratch)
        defer {
            ending.removeAll(keepingCapacity: true)
            flushed.toServer.removeAll(keepingCapacity: true)
            flushed.toClient.removeAll(keepingCapacity: true)
            swap(&ending, &endingScratch)
            swap(&flushed, &flushScratch)
        }
        var ended = flow
        let keep = readsPayload
        streams.flowEnded(slot: Int(flow.slot)) { chunk, direction in
            if keep, case .data(let bytes) = chunk { flushed[direction ? 0 : 1].append(contentsOf: bytes.rawBuffer) }
            appLayer.stream(chunk, toServer: direction, flow: &ended, events: &ending)
        }
        appLayer.flowEnded(&ended, events: &ending)
        streamInspector.flowEnded(slot: Int(flow.slot))
        // Their records were written when they were produced: only the buffers are left to inspect.
        let leftover = transactions.flowEnded(slot: Int(flow.slot))
        if !leftover.isEmpty { ending.insert(contentsOf: leftover, at: 0) }
        if let detection, ending.contains(where: { !$0.buffers.isEmpty }) {
            inspectAtEnd(flow, ended: ended, ending: ending, flushed: flushed, detection)
        }
        if anomalySettings != nil || intel != nil {
            for event in ending where event.record != nil || !event.notes.isEmpty { observe(event, ended, nil, time: flow.last) }
        }
        if anomalySettings != nil { emit(.flowEnding(ended)) }
        intel?.flowEnded(flow.id)
        if eve != nil, outputFailure == nil {
            for event in ending where event.record != nil {
                writeApp(event, flow: ended, timestamp: flow.last, packetNumber: nil, packetToServer: true)
            }
        }
        emit(.flowRecord(ended, reason, macs.removeValue(forKey: flow.id), detection?.traffic(flowKey: Int(flow.id))))
    }

    /// Swaps in a reloaded rule set between two packets (the daemon's SIGHUP). Flows keep
    /// their state; per-rule state (thresholds, flowbits) and detector windows start afresh.
    public func replace(detection: DetectionEngine?, intel: IntelMatcher?, anomalies: AnomalyEngine?) {
        detection?.deferThresholds = true
        self.detection = detection
        self.intel = intel
        stage?.replace(gate: detection?.gate, anomalies: anomalies)
    }

    /// A worker's share of a reload: its own detection engine and indicator matcher.
    func replaceInWorker(detection: DetectionEngine?, intel: IntelMatcher?, anomalySettings: AnomalySettings?) {
        detection?.deferThresholds = true
        self.detection = detection
        self.intel = intel
        self.anomalySettings = anomalySettings
    }

    /// Lets EVE writing resume after a failure (the daemon retries; replay stops at the first).
    public func clearOutputFailure() {
        localFailure = nil
        stage?.clearOutputFailure()
    }

    /// Expires idle flows by a clock when no packet comes (live capture on a quiet link).
    public func advanceIdle(to time: Int64) {
        guard time > lastTimestamp else { return }
        lastTimestamp = time
        flows.advance(to: time, onEnd: flowEnded)
    }

    /// Writes a `stats` record now (the daemon's interval).
    public func writeStats(at time: Int64) {
        guard let eve, outputFailure == nil else { return }
        do {
            try eve.writeStats(timestamp: time, uptime: uptimeSeconds, counters: statsTree())
        } catch {
            localFailure = error
        }
    }

    /// Ends every open flow (a worker at the end of the capture).
    public func flushFlows() {
        flows.flush(onEnd: flowEnded)
    }

    /// Ends every open flow, calling `handOff` after every `piece` flows (a worker hands its
    /// items on in bounded batches).
    func flushFlows(every piece: Int, handOff: () -> Void) {
        var ended = 0
        flows.flush { flow, reason in
            flowEnded(flow, reason)
            ended += 1
            if ended % piece == 0 { handOff() }
        }
    }

    /// Ends every open flow and writes the final `stats` record.
    public func finish(beforeStats: () -> Void = {}) {
        flushFlows()
        beforeStats()
        guard let eve, outputFailure == nil else { return }
        do {
            try eve.writeStats(timestamp: lastTimestamp, uptime: uptimeSeconds, counters: statsTree())
        } catch {
            localFailure = error
        }
    }

    /// Seconds of packet time between the first and the last packet.
    public var uptimeSeconds: Int64 {
        guard let firstTimestamp else { return 0 }
        return (lastTimestamp - firstTimestamp) / 1_000_000_000
    }

    /// The counters in Suricata's `stats` layout.
    public func statsTree() -> StatsTree {
        let own = workerStatsTree()
        return stage?.compose(own) ?? own
    }

    /// This worker's counters (the output stage adds its own).
    public func workerStatsTree() -> StatsTree {
        let d = decoder.stats
        var decoderTree = StatsTree()
        let values: [(String, UInt64)] = [
            ("pkts", d.packets), ("bytes", d.bytes), ("decoded", d.decoded), ("invalid", d.rejected),
            ("ethernet", d.ethernet), ("vlan", d.vlan), ("sll", d.sll), ("sll2", d.sll2), ("null", d.null),
            ("raw", d.raw), ("nsh", d.nsh), ("chdlc", d.chdlc), ("non_ip", d.nonIP), ("ipv4", d.ipv4), ("ipv6", d.ipv6), ("tcp", d.tcp),
            ("udp", d.udp), ("sctp", d.sctp), ("icmpv4", d.icmpv4), ("icmpv6", d.icmpv6), ("gre", d.gre),
            ("ipv4_in_ip", d.ipip), ("ipv6_in_ip", d.ipv6InIP), ("esp", d.esp), ("ah", d.ah),
            ("other_ip_proto", d.otherIPProto),
        ]
        for (name, value) in values { decoderTree.set(name, value) }
        var events = StatsTree()
        var layers: [(String, StatsTree)] = []
        for event in DecodeEvent.allCases {
            let layer = String(event.layer)
            if let i = layers.firstIndex(where: { $0.0 == layer }) {
                layers[i].1.set(String(event.event), d[event])
            } else {
                var tree = StatsTree()
                tree.set(String(event.event), d[event])
                layers.append((layer, tree))
            }
        }
        for (name, tree) in layers { events.set(name, tree) }
        decoderTree.set("event", events)

        var defrag = StatsTree()
        defrag.set("ipv4_fragments", d.ipv4Fragments)
        defrag.set("ipv6_fragments", d.ipv6Fragments)
        defrag.set("reassembled", d.reassembled)
        defrag.set("timeouts", d.defragTimeouts)
        defrag.set("pending", UInt64(decoder.defragmenter.pendingDatagrams))

        let f = flows.stats
        var flow = StatsTree()
        let flowValues: [(String, UInt64)] = [
            ("total", f.created), ("tcp", f.tcp), ("udp", f.udp), ("icmp", f.icmp), ("other", f.other),
            ("active", UInt64(flows.activeFlows)), ("peak_active", UInt64(f.peakActive)),
            ("timeout", f.timedOut), ("evicted_memcap", f.evicted), ("tcp_reuse", f.reused),
            ("shutdown", f.flushed), ("not_tracked", f.notTracked), ("max_flows", UInt64(flows.maxFlows)),
        ]
        for (name, value) in flowValues { flow.set(name, value) }

        var tree = StatsTree()
        tree.set("decoder", decoderTree)
        let st = streams.stats
        var stream = StatsTree()
        let streamValues: [(String, UInt64)] = [
            ("segments", st.segments), ("delivered_bytes", st.delivered), ("out_of_order", st.outOfOrder),
            ("retransmissions", st.retransmissions), ("overlaps", st.overlaps), ("gaps", st.gaps),
            ("depth_reached", st.depthReached), ("memcap_drops", st.memcapDrops), ("unacked_forced", st.unackedForced),
        ]
        for (name, value) in streamValues { stream.set(name, value) }
        tree.set("stream", stream)
        var app = StatsTree()
        for name in appLayer.stats.detected.keys.sorted() { app.set(name, appLayer.stats.detected[name] ?? 0) }
        app.set("failed", appLayer.stats.failed)
        app.set("transactions", appLayer.stats.transactions)
        tree.set("app_layer", app)
        if let detection {
            let s = detection.stats
            var detect = StatsTree()
            let values: [(String, UInt64)] = [
                ("rules", UInt64(detection.ruleCount)), ("packets", s.packetsInspected), ("prefilter_scans", s.prefilterScans),
                ("candidates", s.candidates), ("rules_evaluated", s.rulesEvaluated), ("matches", s.matches),
                ("alerts", s.alerts), ("suppressed", s.suppressed), ("thresholded", s.thresholded),
                ("pcre_limit_hits", detection.pcreLimitHits), ("recursion_limit_hits", s.recursionLimitHits),
                ("passed", s.passed), ("dropped", s.dropped),
            ]
            for (name, value) in values { detect.set(name, value) }
            tree.set("detect", detect)
        }
        if let intel {
            var t = StatsTree()
            t.set("indicators", UInt64(intel.set.count))
            t.set("hits", intel.hits)
            tree.set("intel", t)
        }
        tree.set("defrag", defrag)
        tree.set("flow", flow)
        return tree
    }
}

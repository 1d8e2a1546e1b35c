import HNAlert
import HNAppLayer
import HNDecode
import HNFlow

/// A rule prepared for matching: the parsed rule plus ids resolved at compile time. A class,
/// so the per-packet path reads it by reference instead of copying its arrays.
final class CompiledRule {
    var rule: Rule
    var flowbits: [(kind: FlowbitOperation.Kind, ids: [Int], any: Bool)]
    var xbits: [(kind: FlowbitOperation.Kind, id: Int, track: XbitOperation.Track, expire: Int64)]
    var flowints: [(op: FlowintOperation.Op, id: Int, value: Int64, valueID: Int?)]
    var threshold: ThresholdSpec?
    var suppressions: [(track: ThresholdSpec.Track?, addresses: AddressMatcher?)]
    var appProtoID: UInt8?
    var severity: Int
    var category: String
    /// The rule inspects application-layer buffers or state (not only the packet).
    var usesAppLayer: Bool
    /// A TCP payload rule on established flows that may also match on reassembled stream data
    /// (content spanning segments); `flow:no_stream` rules never do.
    var isStreamRule: Bool
    /// A rule of TLS state checks only (`ssl_version`, `tls.version`, `ssl_state`, certificate
    /// validity), no content: Suricata inspects them with the transaction, so it alerts once
    /// per direction of a flow, not on every packet after the handshake.
    var oncePerDirection: Bool

    init(rule: Rule, threshold: ThresholdSpec?, severity: Int, category: String) {
        self.rule = rule
        self.flowbits = []
        self.xbits = []
        self.flowints = []
        self.threshold = threshold
        self.suppressions = []
        self.appProtoID = nil
        self.severity = severity
        self.category = category
        self.usesAppLayer = rule.buffers.contains { $0.buffer != .payload } || !rule.appChecks.isEmpty
        let tcp = rule.proto.ipProto == IPProto.tcp || rule.proto.alternateIPProto == IPProto.tcp
        let flow = rule.flow ?? FlowOptions()
        self.isStreamRule = tcp && !usesAppLayer && rule.buffers.contains { $0.buffer == .payload }
            && (flow.established || flow.onlyStream) && !flow.noStream
        self.oncePerDirection = rule.buffers.isEmpty && !rule.appChecks.isEmpty && rule.appChecks.allSatisfy {
            if case .appLayerProtocol = $0 { return false }
            return true
        }
    }
}

/// The signature engine: rules grouped by protocol class and inspection buffer, one
/// Vectorscan database per group, and full verification only for rules whose fast pattern
/// occurred (rules without a usable pattern are checked on every packet of their class).
///
/// One engine serves one worker: it holds the per-thread scratch (Vectorscan, PCRE2) and the
/// per-flow detection state (flowbits, flowints), keyed by flow id and cleared
/// when the flow ends.
public final class DetectionEngine {
    /// Protocol classes a rule can apply to.
    static let classes = 4  // tcp, udp, icmp, other
    @inline(__always)
    static func protoClass(_ proto: UInt8) -> Int {
        switch proto {
        case IPProto.tcp: 0
        case IPProto.udp: 1
        case 1, 58: 2
        default: 3
        }
    }

    let rules: [CompiledRule]
    /// Rule groups by protocol class and application protocol (slot 0: rules that name no
    /// application protocol). A packet is matched against its class's slot 0 group and, once
    /// its flow's protocol is known, that protocol's group: an HTTP rule is never a candidate
    /// on an SSH flow.
    let groups: [[RuleGroup?]]
    public let simulateIPS: Bool
    /// Leave thresholds and suppression to the gate's owner (the output stage, which sees the
    /// alerts of every worker in packet order): `inspect` then emits every matching alerting
    /// rule. Otherwise `inspect` passes them through `gate` itself.
    public var deferThresholds = false
    /// Where the payload being inspected begins in its TCP stream (set by the stream
    /// inspection for its window; 0 for a packet).
    public var streamStart = 0
    /// The thresholds and suppressions of these rules, with their state.
    public private(set) lazy var gate = AlertGate(rules: rules)
    let scratch: PrefilterScratch
    let pcre = PCREScratch()
    let candidates: CandidateSet
    let flowbitNames: [String: Int]
    /// The flowbits that tag traffic (`traffic/id/NAME`, `traffic/label/NAME`), by bit, in
    /// name order: (bit, is a label, name).
    let trafficBits: [(bit: Int, label: Bool, name: String)]

    static func trafficBits(_ names: [String: Int]) -> [(bit: Int, label: Bool, name: String)] {
        names.compactMap { name, bit -> (bit: Int, label: Bool, name: String)? in
            if name.hasPrefix("traffic/id/") { return (bit, false, String(name.dropFirst("traffic/id/".count))) }
            if name.hasPrefix("traffic/label/") { return (bit, true, String(name.dropFirst("traffic/label/".count))) }
            return nil
        }.sorted { $0.name < $1.name }
    }

    /// The traffic tags of a flow: its set flowbits named `traffic/id/…` or `traffic/label/…`
    /// (nil when none is set).
    public func traffic(flowKey: Int) -> TrafficTags? {
        guard !trafficBits.isEmpty else { return nil }
        var tags = TrafficTags(ids: [], labels: [])
        for t in trafficBits where isBitSet(flowKey, t.bit) {
            if t.label { tags.labels.append(t.name) } else { tags.ids.append(t.name) }
        }
        return tags.ids.isEmpty && tags.labels.isEmpty ? nil : tags
    }
    let flowintNames: [String: Int]
    let xbitNames: [String: Int]
    var counters = DetectStats()
    /// The counters, the gate's included.
    public var stats: DetectStats {
        var s = counters
        s.alerts = gate.stats.alerts
        s.suppressed = gate.stats.suppressed
        s.thresholded = gate.stats.thresholded
        return s
    }

    // Per-flow state, keyed by flow id.
    var flowBits: [Int: [UInt64]] = [:]
    /// The once-per-direction rules that matched on a flow (rule index × 2 + direction).
    var stateMatched: [Int: Set<Int>] = [:]
    var flowInts: [Int: [Int: Int64]] = [:]
    /// Flows a drop rule blocked (simulated IPS): later packets are dropped uninspected.
    var droppedFlows: Set<Int> = []
    var passedFlows: Set<Int> = []
    struct XbitKey: Hashable { var id: Int; var a: IPAddress; var b: IPAddress }
    var xbits: [XbitKey: Int64] = [:]
    /// Xbits kept at most, so a flood of sources cannot grow memory forever.
    static let maxXbits = 100_000
    var dotScratch: [UInt8] = []

    public var ruleCount: Int { rules.count }

    /// Whether any rule reads `buffer` (the parsers keep bodies, and the pipeline stream
    /// bytes, only for rules that read them).
    public func reads(_ buffer: InspectionBuffer) -> Bool {
        rules.contains { $0.rule.buffers.contains { $0.buffer == buffer } }
    }
    public var pcreLimitHits: UInt64 { pcre.limitHits }

    public func rule(_ index: Int) -> Rule { rules[index].rule }
    public func isStreamRule(_ index: Int) -> Bool { rules[index].isStreamRule }
    /// Does the rule look at application-layer buffers or state (an alert on a transaction)?
    public func usesAppLayer(_ index: Int) -> Bool { rules[index].usesAppLayer }
    public func severity(_ index: Int) -> Int { rules[index].severity }
    public func category(_ index: Int) -> String { rules[index].category }

    public struct BuildError: Error, CustomStringConvertible {
        public let description: String
    }

    public init(ruleSet: RuleSet, simulateIPS: Bool = false) throws(BuildError) {
        self.simulateIPS = simulateIPS
        // Order as Suricata does: pass, drop, reject, alert; then flowbit setters before
        // readers; then priority; then load order.
        func actionRank(_ a: RuleAction) -> Int {
            switch a {
            case .pass: 0
            case .drop: 1
            case .reject, .rejectsrc, .rejectdst, .rejectboth: 2
            case .alert: 3
            }
        }
        func priority(_ r: Rule) -> Int { r.priority ?? r.classtype.flatMap { ruleSet.classifications[$0]?.priority } ?? 3 }
        func flowbitRank(_ r: Rule) -> Int { r.setsFlowbits && !r.readsFlowbits ? 0 : (r.readsFlowbits && !r.setsFlowbits ? 2 : 1) }
        let ordered = ruleSet.rules.enumerated().sorted { x, y in
            let a = (actionRank(x.element.action), flowbitRank(x.element), priority(x.element), x.offset)
            let b = (actionRank(y.element.action), flowbitRank(y.element), priority(y.element), y.offset)
            return a < b
        }.map(\.element)

        var bitNames: [String: Int] = [:], intNames: [String: Int] = [:], xNames: [String: Int] = [:]
        func intern(_ name: String, _ table: inout [String: Int]) -> Int {
            if let id = table[name] { return id }
            table[name] = table.count
            return table.count - 1
        }
        var compiled: [CompiledRule] = []
        for r in ordered {
            let c = CompiledRule(rule: r, threshold: r.detectionFilter ?? r.threshold, severity: priority(r),
                                 category: r.classtype.flatMap { ruleSet.classifications[$0]?.description } ?? "")
            if r.detectionFilter != nil && r.threshold != nil { c.threshold = r.threshold }
            for op in r.flowbits { c.flowbits.append((op.kind, op.names.map { intern($0, &bitNames) }, op.any)) }
            for x in r.xbits { c.xbits.append((x.kind, intern(x.name, &xNames), x.track, x.expireSeconds)) }
            for f in r.flowints {
                c.flowints.append((f.op, intern(f.name, &intNames), f.value, f.valueName.map { intern($0, &intNames) }))
            }
            if let app = r.proto.appProto { c.appProtoID = AppProtocol.id(app) ?? 255 }
            for entry in ruleSet.thresholds {
                switch entry {
                case .threshold(let gid, let sid, let spec) where gid == r.gid && (sid == r.sid || sid == 0):
                    c.threshold = spec
                case .suppress(let gid, let sid, let track, let addresses) where gid == r.gid && (sid == r.sid || sid == 0):
                    c.suppressions.append((track, addresses))
                default: break
                }
            }
            compiled.append(c)
        }
        rules = compiled
        flowbitNames = bitNames
        trafficBits = DetectionEngine.trafficBits(bitNames)
        flowintNames = intNames
        xbitNames = xNames

        let appSlots = AppProtocol.names.count + 1
        var builders = [[GroupBuilder]](repeating: [GroupBuilder](repeating: GroupBuilder(), count: appSlots), count: DetectionEngine.classes)
        for (index, c) in compiled.enumerated() {
            let proto = c.rule.proto
            var classes: [Int] = []
            if let p = proto.ipProto {
                classes.append(DetectionEngine.protoClass(p))
                if let alt = proto.alternateIPProto, DetectionEngine.protoClass(alt) != classes[0] {
                    classes.append(DetectionEngine.protoClass(alt))
                }
            } else {
                classes = Array(0..<DetectionEngine.classes)
            }
            let app = c.appProtoID.map { Int($0) < AppProtocol.names.count ? Int($0) : appSlots - 1 } ?? 0
            for k in classes { builders[k][app].add(c.rule, index: Int32(index)) }
        }
        var all: [PrefilterDatabase] = []
        var built: [[RuleGroup?]] = []
        for k in 0..<DetectionEngine.classes {
            var row: [RuleGroup?] = []
            for a in 0..<appSlots {
                if builders[k][a].isEmpty { row.append(nil); continue }
                do {
                    let g = try builders[k][a].build()
                    all += g.databases.compactMap { $0 }
                    row.append(g)
                } catch {
                    throw BuildError(description: error.description)
                }
            }
            built.append(row)
        }
        groups = built
        scratch = PrefilterScratch(databases: all)
        candidates = CandidateSet(ruleCount: compiled.count)
    }

    /// An engine for another worker thread: the same compiled rules and prefilter databases
    /// (read only, shared), its own Vectorscan and PCRE2 scratch and its own empty state.
    public init(sharing other: DetectionEngine) {
        simulateIPS = other.simulateIPS
        deferThresholds = other.deferThresholds
        rules = other.rules
        groups = other.groups
        flowbitNames = other.flowbitNames
        trafficBits = other.trafficBits
        flowintNames = other.flowintNames
        xbitNames = other.xbitNames
        scratch = PrefilterScratch(databases: other.groups.flatMap { $0 }.compactMap { $0 }.flatMap(\.databases).compactMap { $0 })
        candidates = CandidateSet(ruleCount: other.rules.count)
    }

    /// Rule groups with more than `minimum` rules checked on every packet (no fast pattern,
    /// no address to index by): where per-packet cost hides. (class, app protocol, count).
    public func alwaysCheckedGroups(minimum: Int = 0) -> [(String, String, Int)] {
        let classNames = ["tcp", "udp", "icmp", "other"]
        var out: [(String, String, Int)] = []
        for (k, row) in groups.enumerated() {
            for (a, g) in row.enumerated() {
                guard let g, g.always.count > minimum else { continue }
                out.append((classNames[k], a == 0 ? "any" : (a < AppProtocol.names.count ? AppProtocol.names[a] : "other"), g.always.count))
            }
        }
        return out
    }

    /// Prefilter databases and their total size, for `rules check` and benchmarks.
    public var databaseSummary: (count: Int, bytes: Int) {
        let all = groups.flatMap { $0 }.compactMap { $0 }.flatMap(\.databases).compactMap { $0 }
        return (all.count, all.reduce(0) { $0 + $1.sizeInBytes })
    }

    /// Forgets the detection state of a flow that ended. `flowKey` is the flow's id.
    public func flowEnded(flowKey: Int) {
        if !stateMatched.isEmpty { stateMatched.removeValue(forKey: flowKey) }
        if !flowBits.isEmpty { flowBits.removeValue(forKey: flowKey) }
        if !flowInts.isEmpty { flowInts.removeValue(forKey: flowKey) }
        if !droppedFlows.isEmpty { droppedFlows.remove(flowKey) }
        if !passedFlows.isEmpty { passedFlows.remove(flowKey) }
    }

    /// What inspection decided for the packet.
    public enum Verdict: Equatable {
        case accepted
        /// A pass rule matched: no further alerts for the packet (and its flow).
        case passed
        /// A drop or reject rule matched with IPS simulated: the packet (and its flow) is dropped.
        case dropped
    }

    /// Inspects one packet of a tracked flow (or an untracked packet, `flow` nil).
    /// `emit` is called for each alert, in rule order.
    public func inspect(_ packet: Packet, packetNumber: UInt64, flow: Flow?, flowKey: Int?, toServer: Bool,
                        buffers: InspectionBuffers, facts: AppFacts? = nil, ipOnly: Bool = false,
                        appOnly: Bool = false, streamOnly: Bool = false, skip: Set<Int> = [],
                        emit: (Alert) -> Void) -> Verdict {
        counters.packetsInspected &+= 1
        if let flowKey, droppedFlows.contains(flowKey) {
            counters.dropped &+= 1
            return .dropped
        }
        if let flowKey, passedFlows.contains(flowKey) { return .passed }
        let k = DetectionEngine.protoClass(packet.ipProto)
        candidates.reset()
        if let g = groups[k][0] { collect(g, packet, buffers) }
        if let app = flow?.appProto, app != 0 {
            let slot = Int(app) < AppProtocol.names.count ? Int(app) : groups[k].count - 1
            if let g = groups[k][slot] { collect(g, packet, buffers) }
        }
        counters.candidates &+= UInt64(candidates.list.count)
        candidates.list.sort()
        var verdict = Verdict.accepted
        for index in candidates.list {
            let i = Int(index)
            counters.rulesEvaluated &+= 1
            if ipOnly && rules[i].rule.proto.ipProto != nil { continue }
            if appOnly && !rules[i].usesAppLayer { continue }
            if streamOnly && (!rules[i].isStreamRule || skip.contains(i)) { continue }
            guard evaluate(i, packet, flow: flow, flowKey: flowKey, toServer: toServer, buffers: buffers, facts: facts) else { continue }
            if rules[i].oncePerDirection, let flowKey {
                guard stateMatched[flowKey, default: []].insert(i * 2 + (toServer ? 0 : 1)).inserted else { continue }
            }
            counters.matches &+= 1
            let r = rules[i]
            applyEffects(r, packet, flowKey: flowKey)
            if r.rule.action == .pass {
                counters.passed &+= 1
                // A pass rule ends inspection of this packet; on a flow it passes the flow.
                if let flowKey, flow != nil { passedFlows.insert(flowKey) }
                return verdict == .dropped ? .dropped : .passed
            }
            let dropping = simulateIPS && r.rule.action != .alert
            if dropping {
                verdict = .dropped
                if let flowKey { droppedFlows.insert(flowKey) }
            }
            if r.rule.noalert { continue }
            if !deferThresholds {
                if gate.isGated(i) {
                    let ticket = AlertGate.Ticket(rule: i, source: packet.source, destination: packet.destination, time: packet.timestamp,
                                                  flowKey: flowKey, sourcePort: packet.sourcePort, destinationPort: packet.destinationPort)
                    guard gate.admit(ticket) else { continue }
                } else {
                    gate.count()
                }
            }
            emit(Alert(ruleIndex: i, timestamp: packet.timestamp, packetNumber: packetNumber, source: packet.source,
                       destination: packet.destination, sourcePort: packet.sourcePort, destinationPort: packet.destinationPort,
                       ipProto: packet.ipProto, toServer: toServer, blocked: dropping))
            if dropping { break }
        }
        return verdict
    }

    /// Adds a group's candidates for this packet: prefilter hits in each present buffer, and
    /// the content-less rules (those that inspect a buffer only when it is present).
    func collect(_ g: RuleGroup, _ packet: Packet, _ buffers: InspectionBuffers) {
        for slot in g.bufferSlots {
            guard let db = g.databases[slot],
                  let view = buffers.get(InspectionBuffer(slot: slot)) else { continue }
            counters.prefilterScans &+= 1
            db.scan(view, scratch: scratch, into: candidates)
        }
        add(g.ungated, packet)
        for (slot, rules) in g.gated where buffers.get(InspectionBuffer(slot: slot)) != nil {
            add(rules, packet)
        }
    }

    /// Adds content-less rules: the ones always checked, the port-indexed ones whose ports hold
    /// the packet's destination port, and the address-indexed ones whose set covers either
    /// packet address (a `<>` rule may match either way; evaluation checks the exact header).
    @inline(__always)
    func add(_ c: ContentlessRules, _ packet: Packet) {
        for index in c.always { candidates.add(Int(index)) }
        if !c.byDestinationPort.isEmpty {
            c.byDestinationPort.rules.withUnsafeBufferPointer { rules in
                for k in c.byDestinationPort.lookup(packet.destinationPort) { candidates.add(Int(rules[k])) }
            }
        }
        func add(_ index: AddressRuleIndex) {
            guard !index.isEmpty else { return }
            index.rules.withUnsafeBufferPointer { rules in
                for k in index.lookup(packet.source) { candidates.add(Int(rules[k])) }
                for k in index.lookup(packet.destination) { candidates.add(Int(rules[k])) }
            }
        }
        add(c.bySource)
        add(c.byDestination)
    }

    // MARK: Evaluation

    func evaluate(_ i: Int, _ p: Packet, flow: Flow?, flowKey: Int?, toServer: Bool, buffers: InspectionBuffers, facts: AppFacts?) -> Bool {
        let c = rules[i]
        guard c.rule.proto.matchesTransport(p.ipProto) else { return false }
        if let app = c.appProtoID {
            guard let flow, flow.appProto == app else { return false }
        }
        // Addresses and ports, in either orientation for `<>`.
        let hasPorts = IPProto.hasPorts(p.ipProto)
        func headerMatches(_ s: IPAddress, _ sp: UInt16, _ d: IPAddress, _ dp: UInt16) -> Bool {
            guard c.rule.source.matches(s), c.rule.destination.matches(d) else { return false }
            if hasPorts {
                return c.rule.sourcePorts.matches(sp) && c.rule.destinationPorts.matches(dp)
            }
            return true
        }
        if !headerMatches(p.source, p.sourcePort, p.destination, p.destinationPort) {
            guard c.rule.bidirectional, headerMatches(p.destination, p.destinationPort, p.source, p.sourcePort) else { return false }
        }
        if let f = c.rule.flow {
            if f.toServer && !toServer { return false }
            if f.toClient && toServer { return false }
            if f.established || f.notEstablished {
                // For TCP, as Suricata: established from the end of the handshake on, through
                // the closing states.
                let established = flow.map { f -> Bool in
                    if f.proto == IPProto.tcp {
                        switch f.tcpState {
                        case .none, .synSent, .synReceived: return false
                        default: return !f.reset
                        }
                    }
                    return f.state == .established
                } ?? false
                if f.established && !established { return false }
                if f.notEstablished && established { return false }
            }
            if (f.toServer || f.toClient) && flow == nil { return false }
            if f.onlyFragment && !p.reassembled { return false }
            if f.noFragment && p.reassembled { return false }
        }
        for check in c.rule.packetChecks where !check.matches(p) { return false }
        if !c.rule.appChecks.isEmpty {
            // Application-layer state is answered by the protocol parsers; none is known here.
            for check in c.rule.appChecks {
                switch check {
                case .appLayerProtocol(let name, let negated, let original):
                    // As Suricata: nothing is decided while the protocol is not known yet (a
                    // negation too); `failed` is a protocol like the others.
                    guard let flow else { return false }
                    let id = original && flow.appProtoOrig != 0 ? flow.appProtoOrig : flow.appProto
                    guard id != 0 else { return false }
                    let has = AppProtocol.name(id) == name
                    if has == negated { return false }
                case .tlsVersion(let v):
                    guard facts?.tlsVersion == v else { return false }
                case .sslVersion(let list, let negated):
                    // A flow whose version is not known yet matches neither way.
                    guard let v = facts?.tlsVersion, list.contains(v) != negated else { return false }
                default:
                    return false
                }
            }
        }
        for fb in c.flowbits {
            switch fb.kind {
            case .isSet:
                guard let flowKey else { return false }
                let hit = fb.any ? fb.ids.contains { isBitSet(flowKey, $0) } : fb.ids.allSatisfy { isBitSet(flowKey, $0) }
                if !hit { return false }
            case .isNotSet:
                guard let flowKey else { continue }
                let hit = fb.any ? fb.ids.contains { !isBitSet(flowKey, $0) } : fb.ids.allSatisfy { !isBitSet(flowKey, $0) }
                if !hit { return false }
            default: break
            }
        }
        for x in c.xbits where x.kind == .isSet || x.kind == .isNotSet {
            let set = xbitIsSet(x.id, x.track, p)
            if (x.kind == .isSet) != set { return false }
        }
        for f in c.flowints where !isModifier(f.op) {
            guard flowintCondition(f, flowKey: flowKey) else { return false }
        }
        for b in c.rule.buffers {
            guard var view = buffers.get(b.buffer) else { return false }
            if b.dotPrefix {
                dotScratch.removeAll(keepingCapacity: true)
                dotScratch.append(UInt8(ascii: "."))
                dotScratch.append(contentsOf: view.rawBuffer)
                let matched = dotScratch.withUnsafeBytes { raw -> Bool in
                    view = ByteView(raw)
                    var budget = 3000
                    return matchItems(b.items, 0, view, cursor: 0, budget: &budget)
                }
                if !matched { return false }
                continue
            }
            var budget = 3000
            if !matchItems(b.items, 0, view, cursor: 0, budget: &budget, streamStart: b.buffer == .payload ? streamStart : 0) {
                if budget <= 0 { counters.recursionLimitHits &+= 1 }
                return false
            }
        }
        return true
    }

    func isModifier(_ op: FlowintOperation.Op) -> Bool { op == .assign || op == .add || op == .subtract }

    /// Matches a buffer's items in order, backtracking over earlier content positions when a
    /// later relative item fails (as Suricata does), within a recursion budget.
    ///
    /// `streamStart` is where the buffer begins in its TCP stream (a stream inspection's
    /// window past the stream's start): absolute positions (`offset`, `depth`, `startswith`)
    /// count from the stream's start, so an anchored pattern is not found again at the start
    /// of every later window.
    func matchItems(_ items: [MatchItem], _ index: Int, _ buffer: ByteView, cursor: Int, budget: inout Int, streamStart: Int = 0) -> Bool {
        if index == items.count { return true }
        budget -= 1
        if budget <= 0 { return false }
        switch items[index] {
        case .content(let c):
            var start: Int, end: Int
            if c.startsWith {
                start = 0
                end = c.pattern.count
            } else if c.isRelative {
                start = cursor + (c.distance ?? 0)
                end = c.within.map { start + $0 } ?? buffer.count
            } else {
                start = c.offset ?? 0
                end = c.depth.map { start + $0 } ?? buffer.count
            }
            if streamStart > 0 && !c.isRelative {
                // Anchored to the stream's start: past it in this window, or nowhere.
                let anchored = c.startsWith || c.depth != nil
                if anchored && end <= streamStart {
                    return c.negated && matchItems(items, index + 1, buffer, cursor: cursor, budget: &budget, streamStart: streamStart)
                }
                start -= streamStart
                if anchored { end -= streamStart }
            }
            if start < 0 { start = 0 }
            if end > buffer.count { end = buffer.count }
            if c.endsWith { start = max(start, buffer.count - c.pattern.count) }
            if c.negated {
                if c.find(in: buffer, from: start, limit: end) != nil { return false }
                return matchItems(items, index + 1, buffer, cursor: cursor, budget: &budget, streamStart: streamStart)
            }
            var from = start
            let nextRelative = index + 1 < items.count && items[index + 1].isRelative
            while let position = c.find(in: buffer, from: from, limit: end) {
                if matchItems(items, index + 1, buffer, cursor: position + c.pattern.count, budget: &budget, streamStart: streamStart) { return true }
                if !nextRelative || budget <= 0 { return false }
                from = position + 1
            }
            return false
        case .pcre(let p):
            // A relative expression sees the buffer from the cursor on (so `^` anchors at the
            // cursor), as Suricata passes it.
            let start = p.relative ? min(cursor, buffer.count) : 0
            let subject = buffer.suffix(from: start) ?? .empty
            if p.negated {
                return pcre.match(p.regex, subject, from: 0) == nil && matchItems(items, index + 1, buffer, cursor: cursor, budget: &budget, streamStart: streamStart)
            }
            // Like content, a later relative item that fails makes the expression search on
            // from just after its last match's start.
            let nextRelative = index + 1 < items.count && items[index + 1].isRelative
            var from = 0
            while from <= subject.count, let found = pcre.match(p.regex, subject, from: from) {
                if matchItems(items, index + 1, buffer, cursor: start + found.end, budget: &budget, streamStart: streamStart) { return true }
                if !nextRelative || budget <= 0 { return false }
                from = found.start + 1
            }
            return false
        case .byteTest(let t):
            return t.matches(buffer, position: cursor) && matchItems(items, index + 1, buffer, cursor: cursor, budget: &budget, streamStart: streamStart)
        case .byteJump(let j):
            guard let next = j.jump(buffer, position: cursor) else { return false }
            return matchItems(items, index + 1, buffer, cursor: next, budget: &budget, streamStart: streamStart)
        case .isDataAt(let d):
            return d.matches(buffer, position: cursor) && matchItems(items, index + 1, buffer, cursor: cursor, budget: &budget, streamStart: streamStart)
        case .size(let s):
            return s.range.matches(buffer.count) && matchItems(items, index + 1, buffer, cursor: cursor, budget: &budget, streamStart: streamStart)
        }
    }

    // MARK: Flow state

    func isBitSet(_ flowKey: Int, _ id: Int) -> Bool {
        guard let words = flowBits[flowKey], id / 64 < words.count else { return false }
        return words[id / 64] & (1 << UInt64(id % 64)) != 0
    }

    func setBit(_ flowKey: Int, _ id: Int, _ value: Bool?) {
        var words = flowBits[flowKey] ?? []
        while words.count <= id / 64 { words.append(0) }
        let mask: UInt64 = 1 << UInt64(id % 64)
        switch value {
        case .some(true): words[id / 64] |= mask
        case .some(false): words[id / 64] &= ~mask
        case .none: words[id / 64] ^= mask
        }
        flowBits[flowKey] = words
    }

    func xbitKey(_ id: Int, _ track: XbitOperation.Track, _ p: Packet) -> XbitKey {
        switch track {
        case .source: XbitKey(id: id, a: p.source, b: .zero)
        case .destination: XbitKey(id: id, a: p.destination, b: .zero)
        case .pair: XbitKey(id: id, a: min(p.source, p.destination), b: max(p.source, p.destination))
        }
    }

    func xbitIsSet(_ id: Int, _ track: XbitOperation.Track, _ p: Packet) -> Bool {
        guard let expiry = xbits[xbitKey(id, track, p)] else { return false }
        return expiry >= p.timestamp
    }

    func flowintCondition(_ f: (op: FlowintOperation.Op, id: Int, value: Int64, valueID: Int?), flowKey: Int?) -> Bool {
        let current = flowKey.flatMap { flowInts[$0]?[f.id] }
        switch f.op {
        case .isSet: return current != nil
        case .notSet, .isNotSet: return current == nil
        default: break
        }
        guard let current else { return false }
        let operand: Int64
        if let valueID = f.valueID {
            guard let v = flowKey.flatMap({ flowInts[$0]?[valueID] }) else { return false }
            operand = v
        } else {
            operand = f.value
        }
        switch f.op {
        case .eq: return current == operand
        case .ne: return current != operand
        case .lt: return current < operand
        case .gt: return current > operand
        case .le: return current <= operand
        case .ge: return current >= operand
        default: return true
        }
    }

    func applyEffects(_ c: CompiledRule, _ p: Packet, flowKey: Int?) {
        if let flowKey {
            for fb in c.flowbits {
                switch fb.kind {
                case .set: for id in fb.ids { setBit(flowKey, id, true) }
                case .unset: for id in fb.ids { setBit(flowKey, id, false) }
                case .toggle: for id in fb.ids { setBit(flowKey, id, nil) }
                default: break
                }
            }
            for f in c.flowints where isModifier(f.op) {
                var table = flowInts[flowKey] ?? [:]
                let operand = f.valueID.flatMap { table[$0] } ?? f.value
                switch f.op {
                case .assign: table[f.id] = operand
                case .add: table[f.id] = (table[f.id] ?? 0) &+ operand
                case .subtract: table[f.id] = (table[f.id] ?? 0) &- operand
                default: break
                }
                flowInts[flowKey] = table
            }
        }
        for x in c.xbits {
            let key = xbitKey(x.id, x.track, p)
            if xbits.count >= DetectionEngine.maxXbits && xbits[key] == nil {
                // Full: forget expired bits first; if still full, the new bit is not kept.
                let now = p.timestamp
                xbits = xbits.filter { $0.value >= now }
                if xbits.count >= DetectionEngine.maxXbits { continue }
            }
            switch x.kind {
            case .set: xbits[key] = p.timestamp + x.expire * 1_000_000_000
            case .unset: xbits.removeValue(forKey: key)
            case .toggle:
                if xbitIsSet(x.id, x.track, p) { xbits.removeValue(forKey: key) } else { xbits[key] = p.timestamp + x.expire * 1_000_000_000 }
            default: break
            }
        }
    }

}

/// Rules without a fast pattern, by how they become candidates: those whose destination
/// ports hold the packet's (a policy rule on port 3389), those whose address side covers one
/// of the packet's addresses (ET's block lists), and the rest on every packet.
struct ContentlessRules {
    var always: [Int32] = []
    var byDestinationPort = PortRuleIndex()
    var bySource = AddressRuleIndex()
    var byDestination = AddressRuleIndex()
    var isEmpty: Bool { always.isEmpty && byDestinationPort.isEmpty && bySource.isEmpty && byDestination.isEmpty }
}

/// The rules of one (protocol class, application protocol) group, ready for prefiltering.
/// A class, so the per-packet path takes it by reference instead of copying (and retaining)
/// each of its arrays.
final class RuleGroup {
    /// Prefilter database per buffer slot.
    let databases: [PrefilterDatabase?]
    /// Slots that have a database, so a packet only visits those.
    let bufferSlots: [Int]
    /// Content-less rules that inspect no buffer (header, flags, flowbits): on every packet.
    let ungated: ContentlessRules
    /// Content-less rules that inspect a buffer (a `pcre` on `http.uri`, say), by the slot of
    /// their first buffer: only when that buffer is present, since they cannot match without
    /// it (Suricata inspects such rules only on transactions that have the buffer).
    let gated: [(slot: Int, rules: ContentlessRules)]

    init(databases: [PrefilterDatabase?], bufferSlots: [Int], ungated: ContentlessRules, gated: [(slot: Int, rules: ContentlessRules)]) {
        self.databases = databases
        self.bufferSlots = bufferSlots
        self.ungated = ungated
        self.gated = gated
    }

    /// Rules checked on every packet of the group.
    var always: [Int32] { ungated.always }
}

struct GroupBuilder {
    typealias Entries = (always: [Int32], ports: [(lo: UInt16, hi: UInt16, rule: Int32)],
                         source: [(set: AddressIntervals, rule: Int32)], destination: [(set: AddressIntervals, rule: Int32)])
    var literals = [[(bytes: [UInt8], nocase: Bool, id: UInt32)]](repeating: [], count: InspectionBuffer.allCases.count)
    /// Content-less rules, index 0 ungated, 1 + slot gated on a buffer.
    var contentless = [Entries](repeating: ([], [], [], []), count: InspectionBuffer.allCases.count + 1)
    var isEmpty = true

    mutating func add(_ rule: Rule, index: Int32) {
        isEmpty = false
        if let fp = rule.fastPattern {
            literals[fp.buffer.slot].append((fp.content.pattern, fp.content.nocase, UInt32(index)))
            return
        }
        let gate = rule.buffers.first.map { 1 + $0.buffer.slot } ?? 0
        if let ports = GroupBuilder.destinationPortsToIndex(rule) {
            contentless[gate].ports += ports.map { ($0.lo, $0.hi, index) }
        } else if case .set(let s) = rule.source {
            contentless[gate].source.append((s, index))
        } else if case .set(let s) = rule.destination {
            contentless[gate].destination.append((s, index))
        } else {
            contentless[gate].always.append(index)
        }
    }

    /// The destination ports a rule can be indexed by: a one-way rule of a protocol with
    /// ports (every packet it can match has them, and its destination port must be in the
    /// list) naming a short positive list of ports.
    static func destinationPortsToIndex(_ rule: Rule) -> [(lo: UInt16, hi: UInt16)]? {
        let withPorts: [UInt8] = [6, 17, 132]
        guard !rule.bidirectional, let p = rule.proto.ipProto, withPorts.contains(p),
              rule.proto.alternateIPProto.map(withPorts.contains) ?? true else { return nil }
        return rule.destinationPorts.finiteRanges
    }

    func build() throws(PrefilterDatabase.CompileError) -> RuleGroup {
        var databases: [PrefilterDatabase?] = []
        var slots: [Int] = []
        for (slot, lits) in literals.enumerated() {
            if lits.isEmpty { databases.append(nil); continue }
            databases.append(try PrefilterDatabase(literals: lits))
            slots.append(slot)
        }
        func rules(_ e: Entries) -> ContentlessRules {
            ContentlessRules(always: e.always, byDestinationPort: PortRuleIndex(intervals: e.ports),
                             bySource: AddressRuleIndex(entries: e.source), byDestination: AddressRuleIndex(entries: e.destination))
        }
        var gated: [(slot: Int, rules: ContentlessRules)] = []
        for (gate, entries) in contentless.enumerated().dropFirst() {
            let r = rules(entries)
            if !r.isEmpty { gated.append((gate - 1, r)) }
        }
        return RuleGroup(databases: databases, bufferSlots: slots, ungated: rules(contentless[0]), gated: gated)
    }
}

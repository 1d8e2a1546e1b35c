import Foundation
import HNAppLayer
import HNDecode
import HNAlert
import HNFlow

/// Counters of the behaviour detectors.
public struct AnomalyStats: Sendable {
    public var alerts: UInt64 = 0
    /// Keys not tracked because a detector's table was full.
    public var untracked: UInt64 = 0
    public var trackedKeys = 0
    public init() {}
}

/// Stateful behaviour detectors driven by packet time: scans and sweeps, brute force,
/// beaconing, DNS tunnelling, exfiltration, lateral movement, remote-maintenance sessions,
/// credentials in clear and weak TLS, floods. The output stage calls the hooks; each hands
/// what it found to the `emit` closure it is given before it returns, as detection hands on
/// its matches. State is bounded per detector.
public final class AnomalyEngine {
    public let settings: AnomalySettings
    let homeNet: [CIDR]
    let segmentNames: [String]
    /// classtype -> (description, priority) for `alert.category` and the default severity.
    let classify: @Sendable (String) -> (String, Int)?
    /// Alerts raised during the hook being run, handed to its `emit` before it returns.
    var found: [SecurityAlert] = []
    public private(set) var stats = AnomalyStats()

    var portScans: BoundedTable<PairKey, DistinctWindow<UInt16>>
    var sweeps: BoundedTable<PortKey, DistinctWindow<IPAddress>>
    var bruteForce: BoundedTable<ServiceKey, EventWindow>
    var beacons: BoundedTable<ServiceKey, BeaconState>
    var dnsNames: BoundedTable<DomainKey, DistinctWindow<Int>>
    var dnsVolume: BoundedTable<IPAddress, BucketWindow>
    var outbound: BoundedTable<IPAddress, BucketWindow>
    var lateral: BoundedTable<IPAddress, DistinctWindow<IPAddress>>
    var floods: BoundedTable<FloodKey, BucketWindow>
    /// External destinations seen from internal hosts (for "never seen before").
    var seenDestinations: Set<IPAddress> = []
    /// Flows to a destination first seen when they started.
    var newDestinationFlows: Set<UInt64> = []
    /// Flows with a failed login already counted, or already reported for credentials / TLS.
    var countedFailures: Set<UInt64> = []
    /// Per open flow: what was already reported on it ("credentials", "tls0" …).
    var reported: [UInt64: Set<String>] = [:]
    /// Per open flow: what its protocol showed of a login (see `Login`).
    var logins: [UInt64: Login] = [:]

    /// What a flow's protocol showed of a login: a clear-text attempt (AUTH, PASS, LOGIN),
    /// the server's acceptance, or an encrypted session reaching its authentication phase.
    /// A short session counts as a guess only when it shows one of these (and no success).
    struct Login {
        var attempt = false
        var success = false
        var encryptedPhase = false
        var showsGuess: Bool { encryptedPhase || (attempt && !success) }
    }

    struct PairKey: Hashable { var source: IPAddress; var destination: IPAddress }
    struct PortKey: Hashable { var source: IPAddress; var port: UInt16; var proto: UInt8 }
    struct ServiceKey: Hashable { var source: IPAddress; var destination: IPAddress; var port: UInt16 }
    struct DomainKey: Hashable { var source: IPAddress; var domain: String }
    struct FloodKey: Hashable { var target: IPAddress; var kind: UInt8 }
    struct QuietKey: Hashable { var source: IPAddress; var what: String }
    /// Findings reported once per source and subject within a window.
    var quiet: BoundedTable<QuietKey, Int64>

    struct BeaconState {
        var starts: [Int64] = []
        var quietUntil: Int64 = .min
    }

    public init(settings: AnomalySettings, homeNet: [CIDR], segmentNames: [String] = [],
                classify: @escaping @Sendable (String) -> (String, Int)? = { _ in nil }) {
        self.settings = settings
        self.homeNet = homeNet
        self.segmentNames = segmentNames
        self.classify = classify
        let cap = settings.maxTrackedKeys
        portScans = BoundedTable(cap: cap)
        sweeps = BoundedTable(cap: cap)
        bruteForce = BoundedTable(cap: cap)
        beacons = BoundedTable(cap: cap)
        dnsNames = BoundedTable(cap: cap)
        dnsVolume = BoundedTable(cap: cap)
        outbound = BoundedTable(cap: cap)
        lateral = BoundedTable(cap: cap)
        floods = BoundedTable(cap: cap)
        quiet = BoundedTable(cap: cap)
    }

    /// True (and starts a quiet period) when `key` was not reported within `window`.
    func quietFor(_ key: QuietKey, now: Int64, window: Int64) -> Bool {
        quiet.update(key, now: now, idle: window, make: { Int64.min }) { until -> Bool in
            guard now >= until else { return false }
            until = now &+ window
            return true
        } ?? false
    }

    func isInternal(_ a: IPAddress) -> Bool { homeNet.contains { $0.contains(a) } }

    func segmentName(_ s: UInt16) -> String? { Int(s) < segmentNames.count ? segmentNames[Int(s)] : nil }

    // MARK: Alerts

    func raise(_ name: String, _ scope: DetectorScope, sidOffset: UInt32 = 0, message: String, time: Int64, source: IPAddress,
               destination: IPAddress, sourcePort: UInt16 = 0, destinationPort: UInt16 = 0, proto: UInt8 = 0, flow: Flow? = nil,
               segment: UInt16 = 0, metadata: [(String, [String])] = []) {
        let classification = classify(scope.classtype)
        var alert = SecurityAlert(timestamp: time, packetNumber: nil, flowID: flow?.id, segment: flow?.segment ?? segment,
                                  source: source, destination: destination, sourcePort: sourcePort, destinationPort: destinationPort,
                                  ipProto: proto, appProto: flow.flatMap { AppProtocol.name($0.appProto) }, toServer: nil,
                                  sid: scope.sid + sidOffset, signature: "HNSENSOR ANOMALY " + message, classtype: scope.classtype,
                                  category: classification?.0 ?? scope.classtype, severity: scope.severity)
        alert.origin = .detector(name: name)
        alert.metadata = [("detector", [name])] + metadata
        found.append(alert)
        stats.alerts &+= 1
    }

    /// Hands the alerts raised by a hook to its caller.
    @inline(__always)
    func hand(_ emit: (SecurityAlert) -> Void) {
        guard !found.isEmpty else { return }
        for alert in found { emit(alert) }
        found.removeAll(keepingCapacity: true)
    }

    static func seconds(_ ns: Int64) -> String {
        let s = ns / 1_000_000_000
        return s % 3600 == 0 && s > 0 ? "\(s / 3600) h" : (s % 60 == 0 && s > 0 ? "\(s / 60) min" : "\(s) s")
    }

    // MARK: Hooks

    /// Whether `packet` matters to a per-packet detector: SYNs, UDP and ICMP echo requests
    /// for floods, client data to Telnet, POP3 and IMAP for clear-text logins. Everything else
    /// (most of the traffic) costs this test only.
    @inline(__always)
    public func wantsPacket(_ p: Packet) -> Bool { AnomalyEngine.wants(p, settings) }

    /// `wantsPacket` for a worker thread that holds only a copy of the settings.
    @inline(__always)
    public static func wants(_ p: Packet, _ settings: AnomalySettings) -> Bool {
        switch p.ipProto {
        case 6:
            if p.tcpFlags & (TCPFlags.syn | TCPFlags.ack) == TCPFlags.syn { return settings.flood.scope.enabled }
            guard p.payload.count > 0 else { return false }
            let port = p.destinationPort
            return (port == 23 || port == 110 || port == 143) && settings.cleartextCredentials.scope.enabled
        case IPProto.udp: return settings.flood.scope.enabled
        case IPProto.icmp: return p.icmpType == 8 && settings.flood.scope.enabled
        case IPProto.icmpv6: return p.icmpType == 128 && settings.flood.scope.enabled
        default: return false
        }
    }

    /// A packet that may feed a flood counter or carry a clear-text login (called by the
    /// pipeline only for SYNs, UDP, ICMP echo requests, and client data to Telnet, POP3 and
    /// IMAP ports).
    public func packet(_ p: Packet, flow: Flow?, toServer: Bool, emit: (SecurityAlert) -> Void) {
        defer { hand(emit) }
        let f = settings.flood
        let time = p.timestamp
        if f.scope.enabled {
            var kind: UInt8 = 0
            var threshold = 0
            if p.ipProto == IPProto.tcp, p.tcpFlags & (TCPFlags.syn | TCPFlags.ack) == TCPFlags.syn {
                kind = 1; threshold = f.synThreshold
            } else if p.ipProto == IPProto.udp {
                kind = 2; threshold = f.udpThreshold
            } else if (p.ipProto == IPProto.icmp && p.icmpType == 8) || (p.ipProto == IPProto.icmpv6 && p.icmpType == 128) {
                kind = 3; threshold = f.icmpThreshold
            }
            if kind != 0, f.scope.applies(source: p.source, destination: p.destination, segment: segmentName(p.segment)) {
                let hit = floods.update(FloodKey(target: p.destination, kind: kind), now: time, idle: f.window, make: { BucketWindow() }) {
                    $0.add(1, now: time, window: f.window, threshold: UInt64(threshold))
                } ?? nil
                if let count = hit {
                    let what = ["", "SYN", "UDP", "ICMP echo"][Int(kind)]
                    raise("flood", f.scope, sidOffset: UInt32(kind) - 1, message: "\(what) flood: \(count) packets to \(p.destination) in \(AnomalyEngine.seconds(f.window))",
                          time: time, source: p.source, destination: p.destination, destinationPort: p.destinationPort, proto: p.ipProto,
                          segment: p.segment, metadata: [("packets", [String(count)])])
                }
            }
        }
        if p.ipProto == IPProto.tcp, toServer, p.payload.count > 0, let flow {
            clearTextLogin(p, flow: flow)
        }
    }

    func clearTextLogin(_ p: Packet, flow: Flow) {
        let scope = settings.cleartextCredentials.scope
        guard scope.applies(source: flow.client, destination: flow.server, segment: segmentName(flow.segment)) else { return }
        let port = flow.serverPort
        var mechanism: String? = nil
        let head = p.payload.rawBuffer.prefix(64).map { $0 >= 0x61 && $0 <= 0x7A ? $0 - 0x20 : $0 }
        func starts(_ s: String) -> Bool { head.starts(with: Array(s.utf8)) }
        func contains(_ s: String) -> Bool {
            let needle = Array(s.utf8)
            guard head.count >= needle.count else { return false }
            return (0...(head.count - needle.count)).contains { head[$0..<($0 + needle.count)].elementsEqual(needle) }
        }
        switch port {
        case 23: mechanism = "Telnet session"
        case 110: if starts("PASS ") || starts("AUTH PLAIN") || starts("APOP ") { mechanism = "POP3 PASS" }
        case 143: if contains(" LOGIN ") || contains(" AUTHENTICATE PLAIN") { mechanism = "IMAP LOGIN" }
        default: return
        }
        if let mechanism { credentials(mechanism, flow: flow, time: p.timestamp) }
    }

    func credentials(_ mechanism: String, flow: Flow, time: Int64) {
        let scope = settings.cleartextCredentials.scope
        guard scope.applies(source: flow.client, destination: flow.server, segment: segmentName(flow.segment)),
              reported[flow.id, default: []].insert("credentials").inserted else { return }
        raise("cleartext-credentials", scope, message: "credentials sent in clear (\(mechanism)) to \(flow.server) port \(flow.serverPort)",
              time: time, source: flow.client, destination: flow.server, sourcePort: flow.clientPort, destinationPort: flow.serverPort,
              proto: flow.proto, flow: flow, metadata: [("mechanism", [mechanism])])
    }

    /// A new flow: scans, sweeps, lateral movement, beaconing, first contact.
    public func flowStarted(_ flow: Flow, emit: (SecurityAlert) -> Void) {
        defer { hand(emit) }
        let time = flow.start
        let src = flow.client, dst = flow.server
        let segment = segmentName(flow.segment)
        let ported = flow.proto == IPProto.tcp || flow.proto == IPProto.udp
        let ps = settings.portScan
        if ported, ps.scope.applies(source: src, destination: dst, segment: segment) {
            let port = flow.serverPort
            if let count = portScans.update(PairKey(source: src, destination: dst), now: time, idle: ps.window, make: { DistinctWindow() }, {
                $0.add(port, now: time, window: ps.window, threshold: ps.threshold)
            }) ?? nil {
                raise("port-scan", ps.scope, message: "port scan: \(src) probed \(count) ports on \(dst) in \(AnomalyEngine.seconds(ps.window))",
                      time: time, source: src, destination: dst, proto: flow.proto, segment: flow.segment,
                      metadata: [("ports", [String(count)])])
            }
        }
        let hs = settings.hostSweep
        let echo = (flow.proto == IPProto.icmp && flow.icmpType == 8) || (flow.proto == IPProto.icmpv6 && flow.icmpType == 128)
        if ported || echo, hs.scope.applies(source: src, destination: dst, segment: segment) {
            let port = ported ? flow.serverPort : 0
            if let count = sweeps.update(PortKey(source: src, port: port, proto: flow.proto), now: time, idle: hs.window, make: { DistinctWindow() }, {
                $0.add(dst, now: time, window: hs.window, threshold: hs.threshold)
            }) ?? nil {
                let what = ported ? "\(IPProto.name(flow.proto)) port \(port)" : "ICMP echo"
                raise("host-sweep", hs.scope, message: "host sweep: \(src) probed \(what) on \(count) hosts in \(AnomalyEngine.seconds(hs.window))",
                      time: time, source: src, destination: dst, destinationPort: port, proto: flow.proto, segment: flow.segment,
                      metadata: [("hosts", [String(count)])])
            }
        }
        let internalSource = isInternal(src), internalDestination = isInternal(dst)
        let lm = settings.lateralMovement
        if flow.proto == IPProto.tcp, internalSource, internalDestination, lm.ports.contains(flow.serverPort),
           lm.scope.applies(source: src, destination: dst, segment: segment) {
            if let count = lateral.update(src, now: time, idle: lm.window, make: { DistinctWindow() }, {
                $0.add(dst, now: time, window: lm.window, threshold: lm.threshold)
            }) ?? nil {
                raise("lateral-movement", lm.scope, message: "lateral movement: \(src) opened admin services on \(count) internal hosts in \(AnomalyEngine.seconds(lm.window))",
                      time: time, source: src, destination: dst, destinationPort: flow.serverPort, proto: flow.proto, segment: flow.segment,
                      metadata: [("hosts", [String(count)])])
            }
        }
        if internalSource, !internalDestination, ported {
            let ex = settings.exfiltration
            if ex.scope.enabled, seenDestinations.count < settings.maxTrackedKeys * 4 {
                if seenDestinations.insert(dst).inserted, newDestinationFlows.count < settings.maxTrackedKeys { newDestinationFlows.insert(flow.id) }
            }
            beacon(flow)
        }
    }

    func beacon(_ flow: Flow) {
        let b = settings.beaconing
        guard !b.ignorePorts.contains(flow.serverPort), b.scope.applies(source: flow.client, destination: flow.server, segment: segmentName(flow.segment)) else { return }
        let time = flow.start
        let key = ServiceKey(source: flow.client, destination: flow.server, port: flow.serverPort)
        let verdict: (Int64, Double)? = beacons.update(key, now: time, idle: b.maxInterval * 2, make: { BeaconState() }) { state -> (Int64, Double)? in
            guard time >= state.quietUntil else { return nil }
            state.starts.append(time)
            if state.starts.count > b.minConnections { state.starts.removeFirst(state.starts.count - b.minConnections) }
            guard state.starts.count >= b.minConnections else { return nil }
            var intervals: [Double] = []
            for i in 1..<state.starts.count { intervals.append(Double(state.starts[i] - state.starts[i - 1])) }
            let mean = intervals.reduce(0, +) / Double(intervals.count)
            guard mean >= Double(b.minInterval), mean <= Double(b.maxInterval) else { return nil }
            let variance = intervals.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(intervals.count)
            let jitter = variance.squareRoot() / mean
            guard jitter <= b.maxJitter else { return nil }
            state.quietUntil = time + Int64(mean) * Int64(b.minConnections)
            state.starts = []
            return (Int64(mean), jitter)
        } ?? nil
        if let (mean, jitter) = verdict {
            let percent = Int((jitter * 100).rounded())
            raise("beaconing", b.scope, message: "beaconing: \(flow.client) connects to \(flow.server) port \(flow.serverPort) every \(AnomalyEngine.seconds(mean)) (jitter \(percent)%)",
                  time: time, source: flow.client, destination: flow.server, destinationPort: flow.serverPort, proto: flow.proto, flow: flow,
                  metadata: [("interval_seconds", [String(mean / 1_000_000_000)]), ("connections", [String(b.minConnections)])])
        }
    }

    /// A flow that ended: brute force, exfiltration, remote maintenance.
    public func flowEnded(_ flow: Flow, emit: (SecurityAlert) -> Void) {
        defer {
            hand(emit)
            newDestinationFlows.remove(flow.id)
            countedFailures.remove(flow.id)
            if !reported.isEmpty { reported.removeValue(forKey: flow.id) }
            if !logins.isEmpty { logins.removeValue(forKey: flow.id) }
        }
        let segment = segmentName(flow.segment)
        let time = flow.last
        // Brute force: a short session to an authentication service whose protocol showed a
        // login (and no success) counts as one attempt, unless its failures were already
        // counted one by one. A session that shows no authentication exchange (a mail relay,
        // a monitoring probe, a banner grab) is not a login.
        let bf = settings.bruteForce
        if flow.proto == IPProto.tcp, !countedFailures.contains(flow.id), logins[flow.id]?.showsGuess == true,
           let service = service(flow), service != "http-login", flow.tcpFlagsToClient & (TCPFlags.syn | TCPFlags.ack) == TCPFlags.syn | TCPFlags.ack, flow.packetsToServer >= 3,
           flow.last - flow.start < bf.shortSession, flow.bytesToClient < bf.maxBytes,
           bf.scope.applies(source: flow.client, destination: flow.server, segment: segment) {
            attempt(flow, service: service, time: time)
        }
        // Exfiltration.
        let ex = settings.exfiltration
        if isInternal(flow.client), !isInternal(flow.server), ex.scope.applies(source: flow.client, destination: flow.server, segment: segment) {
            let sent = flow.bytesToServer
            if newDestinationFlows.contains(flow.id), sent >= ex.newDestinationBytes {
                raise("exfiltration", ex.scope, sidOffset: 1, message: "exfiltration: \(flow.client) sent \(sent >> 20) MiB to \(flow.server), never seen before",
                      time: time, source: flow.client, destination: flow.server, sourcePort: flow.clientPort, destinationPort: flow.serverPort,
                      proto: flow.proto, flow: flow, metadata: [("bytes", [String(sent)])])
            }
            if let total = outbound.update(flow.client, now: time, idle: ex.window, make: { BucketWindow() }, {
                $0.add(sent, now: time, window: ex.window, threshold: ex.outboundBytes)
            }) ?? nil {
                raise("exfiltration", ex.scope, message: "exfiltration: \(flow.client) sent \(total >> 20) MiB outside HealthNet in \(AnomalyEngine.seconds(ex.window))",
                      time: time, source: flow.client, destination: flow.server, destinationPort: flow.serverPort, proto: flow.proto, flow: flow,
                      metadata: [("bytes", [String(total)])])
            }
        }
        // Remote maintenance: too long, or outside the allowed hours.
        let rm = settings.remoteMaintenance
        if flow.proto == IPProto.tcp, rm.ports.contains(flow.serverPort), flow.tcpFlagsToClient & TCPFlags.syn != 0,
           rm.scope.applies(source: flow.client, destination: flow.server, segment: segment) {
            let duration = flow.last - flow.start
            if duration > rm.maxDuration {
                raise("remote-maintenance", rm.scope, message: "remote session from \(flow.client) to \(flow.server) port \(flow.serverPort) stayed open \(duration / 60_000_000_000) min (limit \(AnomalyEngine.seconds(rm.maxDuration)))",
                      time: time, source: flow.client, destination: flow.server, sourcePort: flow.clientPort, destinationPort: flow.serverPort,
                      proto: flow.proto, flow: flow, metadata: [("duration_seconds", [String(duration / 1_000_000_000)])])
            }
            if let (from, to) = rm.allowedHours {
                let minutes = Int(((flow.start / 60_000_000_000) + Int64(rm.utcOffsetMinutes)) % 1440 + 1440) % 1440
                let inside = from <= to ? (minutes >= from && minutes < to) : (minutes >= from || minutes < to)
                if !inside {
                    let hh = minutes / 60, mm = minutes % 60
                    raise("remote-maintenance", rm.scope, sidOffset: 1,
                          message: "remote session from \(flow.client) to \(flow.server) port \(flow.serverPort) opened outside allowed hours (\(hh < 10 ? "0" : "")\(hh):\(mm < 10 ? "0" : "")\(mm) local)",
                          time: flow.start, source: flow.client, destination: flow.server, sourcePort: flow.clientPort,
                          destinationPort: flow.serverPort, proto: flow.proto, flow: flow)
                }
            }
        }
    }

    /// The authentication service a flow reaches, if any.
    func service(_ flow: Flow) -> String? {
        for (name, ports) in settings.bruteForce.services where ports.contains(flow.serverPort) {
            if name == "vpn-portal" {
                if settings.bruteForce.vpnPortals.contains(where: { $0.contains(flow.server) }) { return name }
                continue
            }
            return name
        }
        return nil
    }

    func attempt(_ flow: Flow, service: String, time: Int64) {
        let bf = settings.bruteForce
        let key = ServiceKey(source: flow.client, destination: flow.server, port: flow.serverPort)
        if let count = bruteForce.update(key, now: time, idle: bf.window, make: { EventWindow() }, {
            $0.add(time, window: bf.window, threshold: bf.threshold)
        }) ?? nil {
            raise("brute-force", bf.scope, message: "brute force on \(service): \(count) failed or short logins from \(flow.client) to \(flow.server) in \(AnomalyEngine.seconds(bf.window))",
                  time: time, source: flow.client, destination: flow.server, destinationPort: flow.serverPort, proto: flow.proto, flow: flow,
                  metadata: [("service", [service]), ("attempts", [String(count)])])
        }
    }

    /// An application-layer event: DNS names, credentials in clear, failed logins, weak TLS.
    public func appEvent(_ event: AppEvent, flow: Flow, time: Int64, emit: (SecurityAlert) -> Void) {
        defer { hand(emit) }
        let segment = segmentName(flow.segment)
        for note in event.notes {
            switch note {
            case .credentialsInClear(let mechanism):
                credentials(mechanism, flow: flow, time: time)
            case .authAttempt where service(flow) != nil:
                logins[flow.id, default: Login()].attempt = true
            case .authSuccess where service(flow) != nil:
                logins[flow.id, default: Login()].success = true
            case .encryptedAuthPhase where service(flow) != nil:
                logins[flow.id, default: Login()].encryptedPhase = true
            case .authAttempt, .authSuccess, .encryptedAuthPhase:
                break
            case .authFailure:
                let bf = settings.bruteForce
                if let service = service(flow) ?? (AppProtocol.name(flow.appProto) == "http" ? "http-login" : nil),
                   bf.scope.applies(source: flow.client, destination: flow.server, segment: segment) {
                    countedFailures.insert(flow.id)
                    attempt(flow, service: service, time: time)
                }
            case .tlsCipher(let cipher):
                if settings.weakTLS.weakCiphers, let name = WeakTLSCheck.weakCipher(cipher) {
                    weakTLS(flow, "weak cipher \(name)", sidOffset: 1, time: time)
                }
            }
        }
        guard let record = event.record else { return }
        switch event.eventType {
        case "dns": dns(record, flow: flow, time: time, segment: segment)
        case "tls":
            let w = settings.weakTLS
            if case .string(let version)? = record["version"], let rank = WeakTLSCheck.rank(version),
               let minimum = WeakTLSCheck.rank(w.minVersion), rank < minimum {
                weakTLS(flow, "obsolete \(version)", sidOffset: 0, time: time)
            }
            if w.expiredCertificates, case .string(let notAfter)? = record["notafter"], let expiry = WeakTLSCheck.parseTime(notAfter), expiry < time {
                weakTLS(flow, "expired certificate (not after \(notAfter))", sidOffset: 2, time: time)
            }
        default: break
        }
    }

    func weakTLS(_ flow: Flow, _ what: String, sidOffset: UInt32, time: Int64) {
        let scope = settings.weakTLS.scope
        guard scope.applies(source: flow.client, destination: flow.server, segment: segmentName(flow.segment)),
              reported[flow.id, default: []].insert("tls\(sidOffset)").inserted else { return }
        raise("weak-tls", scope, sidOffset: sidOffset, message: "weak TLS: \(what) between \(flow.client) and \(flow.server) port \(flow.serverPort)",
              time: time, source: flow.client, destination: flow.server, sourcePort: flow.clientPort, destinationPort: flow.serverPort,
              proto: flow.proto, flow: flow)
    }

    func dns(_ record: JSONValue, flow: Flow, time: Int64, segment: String?) {
        let d = settings.dnsTunnel
        guard case .string("request")? = record["type"], case .array(let queries)? = record["queries"],
              d.scope.applies(source: flow.client, destination: flow.server, segment: segment) else { return }
        let src = flow.client
        if let volume = dnsVolume.update(src, now: time, idle: d.window, make: { BucketWindow() }, {
            $0.add(1, now: time, window: d.window, threshold: UInt64(d.queryVolume))
        }) ?? nil {
            raise("dns-tunnel", d.scope, sidOffset: 3, message: "DNS query volume: \(volume) queries from \(src) in \(AnomalyEngine.seconds(d.window))",
                  time: time, source: src, destination: flow.server, destinationPort: flow.serverPort, proto: flow.proto, flow: flow)
        }
        for query in queries {
            guard case .string(let name)? = query["rrname"] else { continue }
            let domain = DNSNames.registeredDomain(name)
            if case .string(let type)? = query["rrtype"], d.unusualTypes.contains(type),
               quietFor(QuietKey(source: src, what: "dnstype:" + domain), now: time, window: d.window) {
                raise("dns-tunnel", d.scope, sidOffset: 2, message: "DNS query of unusual type \(type) for \(name) from \(src)",
                      time: time, source: src, destination: flow.server, destinationPort: flow.serverPort, proto: flow.proto, flow: flow,
                      metadata: [("domain", [domain])])
            }
            if let label = DNSNames.suspiciousLabel(name, maxLength: d.maxLabelLength, minEntropy: d.minEntropy),
               quietFor(QuietKey(source: src, what: "dnslabel:" + domain), now: time, window: d.window) {
                raise("dns-tunnel", d.scope, message: "DNS tunnelling: encoded-looking label of \(label.count) characters under \(domain) from \(src)",
                      time: time, source: src, destination: flow.server, destinationPort: flow.serverPort, proto: flow.proto, flow: flow,
                      metadata: [("domain", [domain])])
            }
            if let count = dnsNames.update(DomainKey(source: src, domain: domain), now: time, idle: d.window, make: { DistinctWindow() }, {
                $0.add(name.hashValue, now: time, window: d.window, threshold: d.distinctNames)
            }) ?? nil {
                raise("dns-tunnel", d.scope, sidOffset: 1, message: "DNS tunnelling: \(count) distinct names under \(domain) from \(src) in \(AnomalyEngine.seconds(d.window))",
                      time: time, source: src, destination: flow.server, destinationPort: flow.serverPort, proto: flow.proto, flow: flow,
                      metadata: [("domain", [domain]), ("names", [String(count)])])
            }
        }
    }

    /// Updates the counters of tracked keys and evictions.
    public func refreshStats() {
        stats.untracked = portScans.untracked + sweeps.untracked + bruteForce.untracked + beacons.untracked + dnsNames.untracked
            + dnsVolume.untracked + outbound.untracked + lateral.untracked + floods.untracked + quiet.untracked
        stats.trackedKeys = portScans.count + sweeps.count + bruteForce.count + beacons.count + dnsNames.count + dnsVolume.count
            + outbound.count + lateral.count + floods.count
    }
}

/// DNS name helpers for the tunnelling detector.
public enum DNSNames {
    /// The registered domain, approximated as the last two labels, or three when the second
    /// to last is a short public suffix label (`example.co.uk`, `sante.public.lu` stays
    /// `public.lu`).
    public static func registeredDomain(_ name: String) -> String {
        var bytes = name
        if let domain = bytes.withUTF8(registeredDomain(printableASCII:)) { return domain }
        return registeredDomain(unicode: name)
    }

    static func registeredDomain(unicode name: String) -> String {
        let labels = name.lowercased().split(separator: ".")
        guard labels.count > 2 else { return labels.joined(separator: ".") }
        let last = labels[labels.count - 1], second = labels[labels.count - 2]
        let count = (last.count == 2 && publicSuffixLabels.contains { $0 == second }) ? 3 : 2
        return labels.suffix(count).joined(separator: ".")
    }

    /// `registeredDomain` on the bytes of a printable ASCII name (what DNS carries): the last
    /// two or three non-empty labels, lower-cased, without splitting the whole name. Nil for
    /// any other name.
    static func registeredDomain(printableASCII name: UnsafeBufferPointer<UInt8>) -> String? {
        for b in name where b < 0x20 || b > 0x7E { return nil }
        // The last three non-empty labels, last first, as start..<end (no array: one call per
        // DNS query).
        var labels = (0..<0, 0..<0, 0..<0)
        var found = 0
        var end = name.count
        while found < 3 && end > 0 {
            var start = end
            while start > 0 && name[start - 1] != UInt8(ascii: ".") { start -= 1 }
            if start < end {
                switch found {
                case 0: labels.0 = start..<end
                case 1: labels.1 = start..<end
                default: labels.2 = start..<end
                }
                found += 1
            }
            end = start - 1
        }
        var count = min(found, 2)
        if found == 3 && labels.0.count == 2
            && publicSuffixLabels.contains(where: { equalsLowercased(UnsafeBufferPointer(rebasing: name[labels.1]), $0) }) {
            count = 3
        }
        // Written first label first: labels.(count - 1) … labels.0.
        func label(_ n: Int) -> Range<Int> { n == 0 ? labels.0 : n == 1 ? labels.1 : labels.2 }
        let length = (0..<count).reduce(max(0, count - 1)) { $0 + label($1).count }
        return String(unsafeUninitializedCapacity: length) { out in
            var i = 0
            for n in (0..<count).reversed() {
                if i > 0 { out[i] = UInt8(ascii: "."); i += 1 }
                for k in label(n) {
                    out[i] = name[k].asciiLowercased
                    i += 1
                }
            }
            return i
        }
    }

    /// Second-level labels under which a two-letter country code keeps three labels.
    static let publicSuffixLabels = ["co", "com", "net", "org", "gov", "ac", "edu"]

    static func equalsLowercased(_ bytes: UnsafeBufferPointer<UInt8>, _ lower: String) -> Bool {
        bytes.count == lower.utf8.count && zip(bytes, lower.utf8).allSatisfy { $0.asciiLowercased == $1 }
    }

    /// The first label at least `maxLength` long whose entropy reaches `minEntropy`.
    public static func suspiciousLabel(_ name: String, maxLength: Int, minEntropy: Double) -> Substring? {
        for label in name.split(separator: ".") where label.utf8.count >= maxLength {
            if entropy(label) >= minEntropy { return label }
        }
        return nil
    }

    /// Shannon entropy in bits per character.
    public static func entropy(_ s: Substring) -> Double {
        var counts = [Int](repeating: 0, count: 256)
        for b in s.utf8 { counts[Int(b)] += 1 }
        let n = Double(s.utf8.count)
        guard n > 0 else { return 0 }
        var h = 0.0
        for c in counts where c > 0 {
            let p = Double(c) / n
            h -= p * log2(p)
        }
        return h
    }
}

/// TLS versions and ciphers judged weak.
public enum WeakTLSCheck {
    /// Orders the version names the TLS parser writes.
    public static func rank(_ version: String) -> Int? {
        switch version {
        case "SSLv2": return 0
        case "SSLv3": return 1
        case "TLSv1", "TLS 1.0": return 2
        case "TLS 1.1": return 3
        case "TLS 1.2": return 4
        case "TLS 1.3": return 5
        default: return nil
        }
    }

    /// NULL, EXPORT, anonymous, RC4 and DES suites, by IANA number ranges and names.
    public static func weakCipher(_ c: UInt16) -> String? {
        switch c {
        case 0x0000: return "TLS_NULL_WITH_NULL_NULL"
        case 0x0001, 0x0002, 0x003B: return "NULL (no encryption)"
        case 0x0003, 0x0006, 0x0008, 0x000B, 0x000E, 0x0011, 0x0014, 0x0017, 0x0019: return "EXPORT"
        case 0x0004, 0x0005, 0x0018, 0xC007, 0xC011: return "RC4"
        case 0x0009, 0x000C, 0x000F, 0x0012, 0x0015, 0x001A: return "DES"
        case 0x001B, 0x0034, 0x003A, 0x006C, 0x006D: return "anonymous DH"
        case 0xC001, 0xC006, 0xC00B, 0xC010, 0xC015: return "NULL (no encryption)"
        default: return nil
        }
    }

    /// "2024-01-31T12:00:00" (the TLS record's notafter) in nanoseconds since the epoch.
    public static func parseTime(_ text: String) -> Int64? {
        let parts = text.split(whereSeparator: { $0 == "-" || $0 == "T" || $0 == ":" }).compactMap { Int64($0) }
        guard parts.count >= 6 else { return nil }
        let (y, m, d) = (parts[0], parts[1], parts[2])
        guard (1...12).contains(m), (1...31).contains(d) else { return nil }
        // Days from civil (Howard Hinnant's algorithm).
        let yy = m <= 2 ? y - 1 : y
        let era = (yy >= 0 ? yy : yy - 399) / 400
        let yoe = yy - era * 400
        let mp = (m + 9) % 12
        let doy = (153 * mp + 2) / 5 + d - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        let days = era * 146_097 + doe - 719_468
        return ((days * 86_400) + parts[3] * 3600 + parts[4] * 60 + parts[5]) * 1_000_000_000
    }
}

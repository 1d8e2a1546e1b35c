import HNDecode
import HNFlow
import HNConfig
import HNCorrelate
import HNDetect
import HNOutput
import Yams

/// The sensor configuration (YAML). Every key has a built-in default, so replay runs without
/// a file; unknown keys are errors, so a typo never silently falls back to a default.
public struct SensorConfig: Sendable {
    public enum SegmentKind: String, Sendable, CaseIterable {
        case vpn, dmz, reverseProxy = "reverse-proxy", `internal`
    }

    public struct Segment: Sendable {
        public var name: String
        public var kind: SegmentKind
        public var interface: String?
        public var bpf: String?
        public var networks: [CIDR]

        public init(name: String, kind: SegmentKind, interface: String?, bpf: String?, networks: [CIDR]) {
            self.name = name
            self.kind = kind
            self.interface = interface
            self.bpf = bpf
            self.networks = networks
        }
    }

    public enum ConstituentType: String, Sendable, CaseIterable {
        case hospital, laboratory, doctor, pharmacy, careHome = "care-home", itProvider = "it-provider"
        case publicInstitution = "public-institution", other
    }

    public struct Constituent: Sendable {
        public var name: String
        public var type: ConstituentType
        public var networks: [CIDR]
        public var patientCare: Bool
    }

    public var sensorName = "hnsensor"
    /// RFC 1918 space by default, as Suricata's default HOME_NET.
    public var homeNet: [CIDR] = ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"].compactMap { CIDR($0) }
    public var addressGroups: [String: String] = [:]
    public var portGroups: [String: String] = [:]
    public var segments: [Segment] = []
    public var constituents: [Constituent] = []
    public var flowTimeouts = FlowTimeouts()
    public var flowMemcap = 128 << 20
    /// Pick up TCP connections already open when capture started (Suricata's
    /// `stream.midstream`; off by default as there).
    public var streamMidstream = false
    /// Hand stream data to the parsers as it arrives (inline IPS) instead of when the
    /// receiver acknowledges it (Suricata's `stream.inline`, off by default).
    public var streamInline = false
    /// Bytes reassembled per direction (Suricata's `stream.reassembly.depth`, 1 MiB).
    public var streamDepth = 1 << 20
    public var defrag = Defragmenter.Limits()
    public var storePath: String? = nil
    /// The central store (`store.url`: postgresql://USER@HOST[:PORT]/DB), which wins over
    /// `store.path`; its password from `store.password_file` or PGPASSWORD, never the config.
    public var storeURL: String? = nil
    public var storePasswordFile: String? = nil
    /// Central mode: the local journal of alerts not yet in the central store, and its bound
    /// (the oldest alerts are dropped past it, and counted).
    public var spoolPath = "/var/lib/hnsensor/spool.db"
    public var spoolMax: Int64 = 1 << 30
    /// Central correlator: how long (alert time) an alert waits for the other sensors' alerts
    /// before it is correlated (`correlation.max_lateness`, 60 s).
    public var maxLateness: Int64 = 60_000_000_000
    /// The store a command uses by default: the URL when set, else the path.
    public var store: String? { storeURL ?? storePath }
    /// `console:`: where `hnsensor serve` listens and how long its sessions last.
    public struct Console: Sendable {
        public var listen = "127.0.0.1:9443"
        public var tlsCert: String? = nil
        public var tlsKey: String? = nil
        /// Nanoseconds: a session ends this long after login (8 h) or after this long idle (30 min).
        public var sessionLifetime: Int64 = 8 * 3_600_000_000_000
        public var idleTimeout: Int64 = 30 * 60_000_000_000
    }
    public var console = Console()
    /// Keep the first bytes of each alert's payload as evidence, encrypted (off by default:
    /// payloads may carry health data).
    public var storeEvidencePayload = false
    /// The AES-256 key for evidence excerpts (default: the store's path + ".key"), never in the
    /// store itself; created with mode 0600 when missing.
    public var evidenceKeyFile: String? = nil
    public func evidenceKeyPath(store: String) -> String { evidenceKeyFile ?? store + ".key" }
    /// How incidents are prioritised (`priority:`).
    public var priority = PriorityPolicy()
    /// How long alerts and closed incidents are kept (`retention.period`, 180 days).
    public var retention: Int64 = 180 * 86_400_000_000_000
    /// Alerts with the same source, destination and signature form one security event while
    /// they come within this time of each other (`correlation.event_window`).
    public var eventWindow: Int64 = 300_000_000_000
    /// The daemon drops to this user and group after opening its capture handles (when
    /// started as root); empty keeps the identity it was started with.
    public var daemonUser = "hnsensor"
    public var daemonGroup = "hnsensor"
    /// Interval of the daemon's EVE `stats` records.
    public var statsInterval: Int64 = 60_000_000_000
    /// The Prometheus text endpoint (loopback only); nil when off.
    public var metricsListen: MetricsEndpoint? = MetricsEndpoint("127.0.0.1:9480")
    public var captureSnaplen: Int32 = 65_535
    public var captureBuffer = 32 << 20
    public var capturePromiscuous = true
    public var evePath: String? = nil
    /// What EVE holds: event types and their options under Suricata's eve-log names
    /// (payloads off: they may carry health data).
    public var eve = EVESettings()
    public var rulesPath: String? = nil
    /// The file the configuration came from ("built-in defaults" when none).
    public var source = "built-in defaults"

    public init() {}

    // MARK: Loading

    public static func load(path: String) throws(ConfigError) -> SensorConfig {
        let text: String
        do {
            text = try readTextFile(path)
        } catch {
            throw ConfigError(description: "\(path): \(error.description)")
        }
        return try parse(text, file: path)
    }

    public static func parse(_ text: String, file: String) throws(ConfigError) -> SensorConfig {
        var config = SensorConfig()
        config.source = file
        let root: Node?
        do {
            root = try Yams.compose(yaml: text)
        } catch let error as YamlError {
            throw ConfigError(description: YAMLReader.describe(error, file: file))
        } catch {
            throw ConfigError(description: "\(file): \(error)")
        }
        guard let root else { return config }  // an empty file keeps every default
        let reader = YAMLReader(file: file)
        try reader.apply(root, to: &config)
        return config
    }
}

/// Applies the configuration schema to a YAML tree.
extension YAMLReader {
    func apply(_ root: Node, to config: inout SensorConfig) throws(ConfigError) {
        let top = ["sensor", "home_net", "vars", "segments", "constituents", "flow", "stream", "defrag", "store", "eve", "rules",
                   "priority", "retention", "correlation", "daemon", "metrics", "capture", "console"]
        for (key, _, value) in try mapping(root, "", allowed: top) {
            switch key {
            case "sensor":
                for (k, _, v) in try mapping(value, "sensor", allowed: ["name"]) where k == "name" {
                    config.sensorName = try string(v, "sensor.name")
                }
            case "home_net":
                config.homeNet = try cidrs(value, "home_net")
            case "vars":
                for (k, _, v) in try mapping(value, "vars", allowed: ["address-groups", "port-groups"]) {
                    var groups: [String: String] = [:]
                    for (name, _, g) in try mapping(v, "vars.\(k)", allowed: try keys(v, "vars.\(k)")) {
                        groups[name] = try string(g, "vars.\(k).\(name)")
                    }
                    if k == "address-groups" { config.addressGroups = groups } else { config.portGroups = groups }
                }
            case "segments":
                config.segments = try segments(value)
            case "constituents":
                config.constituents = try constituents(value)
            case "flow":
                try flow(value, &config)
            case "stream":
                for (k, _, v) in try mapping(value, "stream", allowed: ["midstream", "inline", "depth"]) {
                    switch k {
                    case "midstream": config.streamMidstream = try bool(v, "stream.midstream")
                    case "inline": config.streamInline = try bool(v, "stream.inline")
                    default: config.streamDepth = try size(v, "stream.depth")
                    }
                }
            case "defrag":
                for (k, _, v) in try mapping(value, "defrag", allowed: ["memcap", "timeout", "max_fragments"]) {
                    switch k {
                    case "memcap": config.defrag.memcap = try size(v, "defrag.memcap")
                    case "timeout": config.defrag.timeoutNanos = try seconds(v, "defrag.timeout") * 1_000_000_000
                    default:
                        guard let n = Int(try string(v, "defrag.max_fragments")), n > 0, n <= 65535 else {
                            throw fail(v, "defrag.max_fragments", "expected a number from 1 to 65535")
                        }
                        config.defrag.maxFragments = n
                    }
                }
            case "store":
                for (k, _, v) in try mapping(value, "store", allowed: ["path", "url", "password_file", "spool", "spool_max", "evidence_payload", "key_file"]) {
                    switch k {
                    case "path": config.storePath = try string(v, "store.path")
                    case "url":
                        let url = try string(v, "store.url")
                        guard url.hasPrefix("postgresql://") || url.hasPrefix("postgres://") else {
                            throw fail(v, "store.url", "expected postgresql://USER@HOST[:PORT]/DB (a SQLite file goes in store.path)")
                        }
                        config.storeURL = url
                    case "password_file": config.storePasswordFile = try string(v, "store.password_file")
                    case "spool": config.spoolPath = try string(v, "store.spool")
                    case "spool_max": config.spoolMax = Int64(try size(v, "store.spool_max"))
                    case "evidence_payload": config.storeEvidencePayload = try bool(v, "store.evidence_payload")
                    default: config.evidenceKeyFile = try string(v, "store.key_file")
                    }
                }
            case "console":
                for (k, _, v) in try mapping(value, "console", allowed: ["listen", "tls_cert", "tls_key", "session_lifetime", "idle_timeout"]) {
                    switch k {
                    case "listen": config.console.listen = try string(v, "console.listen")
                    case "tls_cert": config.console.tlsCert = try string(v, "console.tls_cert")
                    case "tls_key": config.console.tlsKey = try string(v, "console.tls_key")
                    case "session_lifetime": config.console.sessionLifetime = try duration(v, "console.session_lifetime")
                    default: config.console.idleTimeout = try duration(v, "console.idle_timeout")
                    }
                }
            case "priority":
                try config.priority.apply(value, self)
            case "daemon":
                for (k, _, v) in try mapping(value, "daemon", allowed: ["user", "group", "stats_interval"]) {
                    switch k {
                    case "user": config.daemonUser = try string(v, "daemon.user")
                    case "group": config.daemonGroup = try string(v, "daemon.group")
                    default: config.statsInterval = try duration(v, "daemon.stats_interval")
                    }
                }
            case "metrics":
                for (_, _, v) in try mapping(value, "metrics", allowed: ["listen"]) {
                    let text = try string(v, "metrics.listen")
                    if text == "off" { config.metricsListen = nil; continue }
                    guard let endpoint = MetricsEndpoint(text) else {
                        throw fail(v, "metrics.listen", "expected a loopback address and port such as 127.0.0.1:9480 or [::1]:9480, or off")
                    }
                    config.metricsListen = endpoint
                }
            case "capture":
                for (k, _, v) in try mapping(value, "capture", allowed: ["snaplen", "buffer_size", "promiscuous"]) {
                    switch k {
                    case "snaplen":
                        guard let n = Int32(try string(v, "capture.snaplen")), n >= 64, n <= 262_144 else {
                            throw fail(v, "capture.snaplen", "expected a number from 64 to 262144")
                        }
                        config.captureSnaplen = n
                    case "buffer_size": config.captureBuffer = try size(v, "capture.buffer_size")
                    default: config.capturePromiscuous = try bool(v, "capture.promiscuous")
                    }
                }
            case "retention":
                for (_, _, v) in try mapping(value, "retention", allowed: ["period"]) {
                    config.retention = try duration(v, "retention.period")
                }
            case "correlation":
                for (k, _, v) in try mapping(value, "correlation", allowed: ["event_window", "max_lateness"]) {
                    if k == "max_lateness" {
                        config.maxLateness = try duration(v, "correlation.max_lateness")
                    } else {
                        config.eventWindow = try duration(v, "correlation.event_window")
                    }
                }
            case "eve":
                // Suricata's eve-log names for the settings hnsensor has.
                var communityID = false, seed: UInt16 = 0
                for (k, _, v) in try mapping(value, "eve", allowed: ["path", "payload", "community-id", "community-id-seed", "ipv6-compress", "ethernet", "types"]) {
                    switch k {
                    case "path": config.evePath = try string(v, "eve.path")
                    case "payload":
                        let on = try bool(v, "eve.payload")
                        config.eve.alertPayload = on
                        config.eve.alertPayloadPrintable = on
                    case "community-id": communityID = try bool(v, "eve.community-id")
                    case "community-id-seed": seed = UInt16(try int(v, "eve.community-id-seed", 0...65535))
                    case "ipv6-compress": config.eve.ipv6Compress = try bool(v, "eve.ipv6-compress")
                    case "ethernet": config.eve.ethernet = try bool(v, "eve.ethernet")
                    default: try eveTypes(v, into: &config.eve)
                    }
                }
                config.eve.communityIDSeed = communityID ? seed : nil
            default:
                for (_, _, v) in try mapping(value, "rules", allowed: ["path"]) { config.rulesPath = try string(v, "rules.path") }
            }
        }
    }

    /// `eve.types`: Suricata's list, each item a type's name or a mapping from the name to
    /// its options (or null). Types hnsensor does not write are accepted and write nothing.
    func eveTypes(_ node: Node, into eve: inout EVESettings) throws(ConfigError) {
        var types: Set<String> = []
        for (i, item) in try sequence(node, "eve.types").enumerated() {
            let path = "eve.types[\(i)]"
            let name: String, options: Node?
            if case .scalar = item {
                name = try string(item, path)
                options = nil
            } else {
                let keys = try self.keys(item, path)
                guard keys.count == 1, case .mapping(let m) = item, let v = m.first?.value else {
                    throw fail(item, path, "expected a type's name, or one name with its options")
                }
                name = keys[0]
                if case .scalar(let s) = v, s.string.isEmpty || s.string == "null" || s.string == "~" { options = nil } else { options = v }
            }
            guard EVESettings.writtenTypes.contains(name) || EVESettings.otherSuricataTypes.contains(name) else {
                throw fail(item, path, "unknown event type '\(name)' (hnsensor writes: \(EVESettings.writtenTypes.joined(separator: ", ")))")
            }
            var enabled = true
            if name == "http" { eve.httpExtended = false }  // Suricata: extended only when asked for
            if let options {
                let at = "\(path).\(name)"
                switch name {
                case "alert":
                    for (k, _, v) in try mapping(options, at, allowed: EVESettings.options(of: name)) {
                        let on = try bool(v, "\(at).\(k)")
                        switch k {
                        case "enabled": enabled = on
                        case "payload": eve.alertPayload = on
                        case "payload-printable": eve.alertPayloadPrintable = on
                        case "packet": eve.alertPacket = on
                        default: eve.alertMetadata = on
                        }
                    }
                case "http":
                    for (k, _, v) in try mapping(options, at, allowed: EVESettings.options(of: name)) {
                        switch k {
                        case "enabled": enabled = try bool(v, "\(at).enabled")
                        case "extended": eve.httpExtended = try bool(v, "\(at).extended")
                        default:
                            let which = try string(v, "\(at).dump-all-headers")
                            guard ["both", "request", "response", "none"].contains(which) else {
                                throw fail(v, "\(at).dump-all-headers", "expected both, request, response or none")
                            }
                            eve.httpRequestHeaders = which == "both" || which == "request"
                            eve.httpResponseHeaders = which == "both" || which == "response"
                        }
                    }
                case "dns":
                    for (k, _, v) in try mapping(options, at, allowed: EVESettings.options(of: name)) {
                        switch k {
                        case "enabled": enabled = try bool(v, "\(at).enabled")
                        case "version": eve.dnsVersion = try int(v, "\(at).version", 2...3)
                        case "requests": eve.dnsRequests = try bool(v, "\(at).requests")
                        case "responses": eve.dnsResponses = try bool(v, "\(at).responses")
                        case "types": eve.dnsTypes = Set(try strings(v, "\(at).types").map { $0.lowercased() })
                        default:
                            // `formats:` with no list keeps Suricata's default, both formats.
                            if case .scalar(let s) = v, s.string.isEmpty || s.string == "null" || s.string == "~" { continue }
                            let formats = try strings(v, "\(at).formats")
                            for f in formats where f != "detailed" && f != "grouped" {
                                throw fail(v, "\(at).formats", "unknown format '\(f)' (expected detailed or grouped)")
                            }
                            eve.dnsFormats = Set(formats)
                        }
                    }
                case "tls":
                    for (k, _, v) in try mapping(options, at, allowed: EVESettings.options(of: name)) {
                        switch k {
                        case "enabled": enabled = try bool(v, "\(at).enabled")
                        case "custom":
                            let fields = try strings(v, "\(at).custom")
                            for f in fields where !EVESettings.tlsCustomFields.contains(f) {
                                throw fail(v, "\(at).custom", "unknown TLS field '\(f)' (expected one of \(EVESettings.tlsCustomFields.joined(separator: ", ")))")
                            }
                            eve.tlsCustom = fields
                        default:
                            // extended, ja4, session-resumption: hnsensor's default record has
                            // these already (a yes/no/on/off is checked, nothing else).
                            _ = try string(v, "\(at).\(k)")
                        }
                    }
                case "smb":
                    for (k, _, v) in try mapping(options, at, allowed: EVESettings.options(of: name)) {
                        if k == "enabled" { enabled = try bool(v, "\(at).enabled"); continue }
                        let kinds = try strings(v, "\(at).types")
                        for kind in kinds where !EVESettings.smbKinds.contains(kind) {
                            throw fail(v, "\(at).types", "unknown SMB transaction type '\(kind)' (expected one of \(EVESettings.smbKinds.joined(separator: ", ")))")
                        }
                        eve.smbTypes = Set(kinds)
                    }
                default:
                    for (_, _, v) in try mapping(options, at, allowed: EVESettings.options(of: name)) { enabled = try bool(v, "\(at).enabled") }
                }
            }
            if enabled { types.insert(name) }
        }
        eve.types = types
    }

    func segments(_ node: Node) throws(ConfigError) -> [SensorConfig.Segment] {
        var result: [SensorConfig.Segment] = []
        for (i, item) in try sequence(node, "segments").enumerated() {
            let path = "segments[\(i)]"
            var name: String?, kind: SensorConfig.SegmentKind?, interface: String?, bpf: String?, networks: [CIDR] = []
            for (k, _, v) in try mapping(item, path, allowed: ["name", "kind", "interface", "bpf", "networks"]) {
                switch k {
                case "name": name = try string(v, "\(path).name")
                case "kind":
                    let text = try string(v, "\(path).kind")
                    guard let kk = SensorConfig.SegmentKind(rawValue: text) else {
                        throw fail(v, "\(path).kind", "unknown kind '\(text)' (expected one of: \(SensorConfig.SegmentKind.allCases.map(\.rawValue).joined(separator: ", ")))")
                    }
                    kind = kk
                case "interface": interface = try string(v, "\(path).interface")
                case "bpf": bpf = try string(v, "\(path).bpf")
                default: networks = try cidrs(v, "\(path).networks")
                }
            }
            guard let name else { throw fail(item, path, "missing key 'name'") }
            guard !result.contains(where: { $0.name == name }) else { throw fail(item, "\(path).name", "duplicate segment '\(name)'") }
            result.append(.init(name: name, kind: kind ?? .internal, interface: interface, bpf: bpf, networks: networks))
        }
        return result
    }

    func constituents(_ node: Node) throws(ConfigError) -> [SensorConfig.Constituent] {
        var result: [SensorConfig.Constituent] = []
        for (i, item) in try sequence(node, "constituents").enumerated() {
            let path = "constituents[\(i)]"
            var name: String?, type = SensorConfig.ConstituentType.other, networks: [CIDR] = [], care = false
            for (k, _, v) in try mapping(item, path, allowed: ["name", "type", "networks", "patient_care"]) {
                switch k {
                case "name": name = try string(v, "\(path).name")
                case "type":
                    let text = try string(v, "\(path).type")
                    guard let t = SensorConfig.ConstituentType(rawValue: text) else {
                        throw fail(v, "\(path).type", "unknown type '\(text)' (expected one of: \(SensorConfig.ConstituentType.allCases.map(\.rawValue).joined(separator: ", ")))")
                    }
                    type = t
                case "networks": networks = try cidrs(v, "\(path).networks")
                default: care = try bool(v, "\(path).patient_care")
                }
            }
            guard let name else { throw fail(item, path, "missing key 'name'") }
            result.append(.init(name: name, type: type, networks: networks, patientCare: care))
        }
        return result
    }

    func flow(_ node: Node, _ config: inout SensorConfig) throws(ConfigError) {
        for (k, _, v) in try mapping(node, "flow", allowed: ["memcap", "timeouts"]) {
            if k == "memcap" {
                config.flowMemcap = try size(v, "flow.memcap")
                continue
            }
            for (proto, _, states) in try mapping(v, "flow.timeouts", allowed: ["tcp", "udp", "icmp", "default"]) {
                let path = "flow.timeouts.\(proto)"
                var table: FlowTimeouts.PerState
                switch proto {
                case "tcp": table = config.flowTimeouts.tcp
                case "udp": table = config.flowTimeouts.udp
                case "icmp": table = config.flowTimeouts.icmp
                default: table = config.flowTimeouts.other
                }
                for (state, _, value) in try mapping(states, path, allowed: ["new", "established", "closed"]) {
                    let s = try seconds(value, "\(path).\(state)")
                    switch state {
                    case "new": table.new = s
                    case "established": table.established = s
                    default: table.closed = s
                    }
                }
                switch proto {
                case "tcp": config.flowTimeouts.tcp = table
                case "udp": config.flowTimeouts.udp = table
                case "icmp": config.flowTimeouts.icmp = table
                default: config.flowTimeouts.other = table
                }
            }
        }
    }
}

extension SensorConfig {
    /// The constituents as the correlator sees them.
    public var constituentInfos: [ConstituentInfo] {
        constituents.map { ConstituentInfo(name: $0.name, type: $0.type.rawValue, networks: $0.networks, patientCare: $0.patientCare) }
    }
}

/// A loopback address and TCP port for the metrics endpoint.
public struct MetricsEndpoint: Sendable, Equatable, CustomStringConvertible {
    public var address: IPAddress
    public var port: UInt16

    public init?(_ text: String) {
        let host: Substring, portText: Substring
        if text.hasPrefix("["), let close = text.firstIndex(of: "]") {
            host = text[text.index(after: text.startIndex)..<close]
            let rest = text[text.index(after: close)...]
            guard rest.hasPrefix(":") else { return nil }
            portText = rest.dropFirst()
        } else {
            guard let colon = text.lastIndex(of: ":") else { return nil }
            host = text[..<colon]
            portText = text[text.index(after: colon)...]
        }
        guard let a = IPAddress(host), let p = UInt16(portText), p > 0 else { return nil }
        let loopback = a.isIPv4 ? (a.ipv4Value >> 24) == 127 : (a.high == 0 && a.low == 1)
        guard loopback else { return nil }
        address = a
        port = p
    }

    public var description: String { address.isIPv4 ? "\(address):\(port)" : "[\(address)]:\(port)" }
}

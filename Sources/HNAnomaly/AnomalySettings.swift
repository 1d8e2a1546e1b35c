import Foundation
import HNConfig
import HNDecode
import Yams

/// Settings every detector shares.
public struct DetectorScope: Sendable {
    public var enabled = true
    public var sid: UInt32
    public var classtype: String
    /// 1 (highest) to 4.
    public var severity: Int
    /// Segment names it applies to; empty: every segment.
    public var segments: [String] = []
    /// Networks it watches (either endpoint inside); empty: everything.
    public var networks: [CIDR] = []
    /// Sources never reported (known scanners, backup hosts, monitoring).
    public var exceptSources: [CIDR] = []
    /// Destinations never reported.
    public var exceptDestinations: [CIDR] = []

    public init(sid: UInt32, classtype: String, severity: Int) {
        self.sid = sid
        self.classtype = classtype
        self.severity = severity
    }

    func applies(source: IPAddress, destination: IPAddress, segment: String?) -> Bool {
        guard enabled else { return false }
        if !segments.isEmpty, let segment, !segments.contains(segment) { return false }
        if !networks.isEmpty, !networks.contains(where: { $0.contains(source) || $0.contains(destination) }) { return false }
        if exceptSources.contains(where: { $0.contains(source) }) { return false }
        if exceptDestinations.contains(where: { $0.contains(destination) }) { return false }
        return true
    }
}

/// Every detector's settings, with the defaults used when `Rules/anomalies/` does not set
/// them. Windows are nanoseconds of packet time.
public struct AnomalySettings: Sendable {
    public struct PortScan: Sendable {
        public var scope = DetectorScope(sid: 9_200_010, classtype: "attempted-recon", severity: 2)
        /// Distinct destination ports on one host from one source.
        public var threshold = 25
        public var window: Int64 = 60_000_000_000
    }
    public struct HostSweep: Sendable {
        public var scope = DetectorScope(sid: 9_200_020, classtype: "attempted-recon", severity: 2)
        /// Distinct hosts on one destination port from one source.
        public var threshold = 20
        public var window: Int64 = 60_000_000_000
    }
    public struct BruteForce: Sendable {
        public var scope = DetectorScope(sid: 9_200_030, classtype: "attempted-user", severity: 1)
        /// Failed logins, and short sessions that showed a login, from one source to one
        /// service of one host.
        public var threshold = 10
        public var window: Int64 = 300_000_000_000
        /// A session that showed a login (and no success) and ended before this counts.
        public var shortSession: Int64 = 10_000_000_000
        /// Sessions with more bytes than this to the client are not "short".
        public var maxBytes: UInt64 = 20_000
        /// Service name -> ports. The mail ports with implicit TLS (465, 993, 995) are not
        /// listed: their logins are inside TLS and invisible, and clients polling a mailbox
        /// open short sessions all day.
        public var services: [(String, [UInt16])] = [
            ("ssh", [22]), ("rdp", [3389]), ("ftp", [21]), ("smtp-auth", [25, 587]), ("imap", [143]),
            ("pop3", [110]), ("http-login", [80, 8080]), ("vpn-portal", [443, 10443]),
        ]
        /// Hosts of the SSL-VPN portal: HTTPS sessions to them count as logins. Empty: HTTPS
        /// ports count only for hosts listed here, so 443 is ignored.
        public var vpnPortals: [CIDR] = []
    }
    public struct Beaconing: Sendable {
        public var scope = DetectorScope(sid: 9_200_040, classtype: "command-and-control", severity: 1)
        /// Connections needed before judging regularity.
        public var minConnections = 8
        /// Largest allowed standard deviation of the intervals, as a fraction of their mean.
        public var maxJitter = 0.15
        public var minInterval: Int64 = 10_000_000_000
        public var maxInterval: Int64 = 3_600_000_000_000
        /// Destination ports never judged (DNS, NTP).
        public var ignorePorts: [UInt16] = [53, 123, 5353]
    }
    public struct DNSTunnel: Sendable {
        public var scope = DetectorScope(sid: 9_200_050, classtype: "policy-violation", severity: 2)
        /// A label this long or longer, with high entropy, is suspicious.
        public var maxLabelLength = 40
        /// Shannon entropy, bits per character, above which a long label looks encoded.
        public var minEntropy = 3.5
        /// Distinct names under one domain from one source within the window.
        public var distinctNames = 100
        /// Queries from one source within the window.
        public var queryVolume = 1000
        public var window: Int64 = 300_000_000_000
        /// Record types rarely used by clients.
        public var unusualTypes: [String] = ["NULL", "ANY", "AXFR", "IXFR"]
    }
    public struct Exfiltration: Sendable {
        public var scope = DetectorScope(sid: 9_200_060, classtype: "policy-violation", severity: 1)
        /// Bytes sent by one internal host to external destinations within the window.
        public var outboundBytes: UInt64 = 500 << 20
        public var window: Int64 = 3_600_000_000_000
        /// Bytes in one flow to a destination never seen before from the sensor.
        public var newDestinationBytes: UInt64 = 50 << 20
    }
    public struct LateralMovement: Sendable {
        public var scope = DetectorScope(sid: 9_200_070, classtype: "attempted-admin", severity: 1)
        public var ports: [UInt16] = [22, 135, 445, 3389, 5985, 5986]
        /// Distinct internal hosts one internal host opens these services on.
        public var threshold = 10
        public var window: Int64 = 600_000_000_000
    }
    public struct RemoteMaintenance: Sendable {
        public var scope = DetectorScope(sid: 9_200_080, classtype: "policy-violation", severity: 2)
        /// RDP, VNC, TeamViewer, AnyDesk, SSH.
        public var ports: [UInt16] = [22, 3389, 5900, 5938, 7070]
        public var maxDuration: Int64 = 7_200_000_000_000
        /// Allowed hours, local time: minutes from midnight (start, end).
        public var allowedHours: (Int, Int)? = (7 * 60, 19 * 60)
        /// Offset of local time from UTC in minutes (Luxembourg: +60, +120 in summer).
        public var utcOffsetMinutes = 60
    }
    public struct CleartextCredentials: Sendable {
        public var scope = DetectorScope(sid: 9_200_090, classtype: "cleartext-credentials", severity: 1)
    }
    public struct WeakTLS: Sendable {
        public var scope = DetectorScope(sid: 9_200_100, classtype: "weak-crypto", severity: 2)
        /// Lowest acceptable version: "TLS 1.2".
        public var minVersion = "TLS 1.2"
        public var expiredCertificates = true
        public var weakCiphers = true
    }
    public struct Flood: Sendable {
        public var scope = DetectorScope(sid: 9_200_110, classtype: "attempted-dos", severity: 1)
        /// Packets to one host within the window (counted per whole second).
        public var synThreshold = 5000
        public var udpThreshold = 20000
        public var icmpThreshold = 2000
        public var window: Int64 = 10_000_000_000
    }

    public var portScan = PortScan()
    public var hostSweep = HostSweep()
    public var bruteForce = BruteForce()
    public var beaconing = Beaconing()
    public var dnsTunnel = DNSTunnel()
    public var exfiltration = Exfiltration()
    public var lateralMovement = LateralMovement()
    public var remoteMaintenance = RemoteMaintenance()
    public var cleartextCredentials = CleartextCredentials()
    public var weakTLS = WeakTLS()
    public var flood = Flood()
    /// Keys tracked per detector before old ones are evicted (counted).
    public var maxTrackedKeys = 100_000
    public var files: [String] = []

    public init() {}

    public static let detectorNames = [
        "port-scan", "host-sweep", "brute-force", "beaconing", "dns-tunnel", "exfiltration", "lateral-movement",
        "remote-maintenance", "cleartext-credentials", "weak-tls", "flood",
    ]

    /// Every detector's scope, by name.
    public var scopes: [(String, DetectorScope)] {
        [("port-scan", portScan.scope), ("host-sweep", hostSweep.scope), ("brute-force", bruteForce.scope),
         ("beaconing", beaconing.scope), ("dns-tunnel", dnsTunnel.scope), ("exfiltration", exfiltration.scope),
         ("lateral-movement", lateralMovement.scope), ("remote-maintenance", remoteMaintenance.scope),
         ("cleartext-credentials", cleartextCredentials.scope), ("weak-tls", weakTLS.scope), ("flood", flood.scope)]
    }

    // MARK: Loading

    /// Reads every `*.yaml` / `*.yml` file of a folder in name order; later files override
    /// earlier ones key by key.
    public static func load(folder: String) throws(ConfigError) -> AnomalySettings {
        var settings = AnomalySettings()
        for (file, text) in try YAMLReader.folder(folder) { try settings.apply(text, file: file) }
        return settings
    }

    public mutating func apply(_ text: String, file: String) throws(ConfigError) {
        files.append(file)
        guard let root = try YAMLReader.compose(text, file: file) else { return }
        let r = YAMLReader(file: file)
        for (name, _, node) in try r.mapping(root, "", allowed: AnomalySettings.detectorNames + ["limits"]) {
            switch name {
            case "limits":
                for (_, _, v) in try r.mapping(node, "limits", allowed: ["max_tracked_keys"]) {
                    maxTrackedKeys = try r.int(v, "limits.max_tracked_keys", 1...10_000_000)
                }
            case "port-scan":
                try section(r, node, name, &portScan.scope, ["threshold", "window"]) { (k: String, v: Node) throws(ConfigError) in
                    if k == "threshold" { portScan.threshold = try r.int(v, "\(name).\(k)", 2...65535) } else { portScan.window = try r.duration(v, "\(name).\(k)") }
                }
            case "host-sweep":
                try section(r, node, name, &hostSweep.scope, ["threshold", "window"]) { (k: String, v: Node) throws(ConfigError) in
                    if k == "threshold" { hostSweep.threshold = try r.int(v, "\(name).\(k)", 2...1_000_000) } else { hostSweep.window = try r.duration(v, "\(name).\(k)") }
                }
            case "brute-force":
                try section(r, node, name, &bruteForce.scope, ["threshold", "window", "short_session", "max_bytes", "services", "vpn_portals"]) { (k: String, v: Node) throws(ConfigError) in
                    let path = "\(name).\(k)"
                    switch k {
                    case "threshold": bruteForce.threshold = try r.int(v, path, 2...1_000_000)
                    case "window": bruteForce.window = try r.duration(v, path)
                    case "short_session": bruteForce.shortSession = try r.duration(v, path)
                    case "max_bytes": bruteForce.maxBytes = UInt64(try r.size(v, path))
                    case "vpn_portals": bruteForce.vpnPortals = try r.cidrs(v, path)
                    default:
                        var services: [(String, [UInt16])] = []
                        for (service, _, ports) in try r.mapping(v, path, allowed: try r.keys(v, path)) {
                            services.append((service, try r.ports(ports, "\(path).\(service)")))
                        }
                        bruteForce.services = services
                    }
                }
            case "beaconing":
                try section(r, node, name, &beaconing.scope, ["min_connections", "max_jitter", "min_interval", "max_interval", "ignore_ports"]) { (k: String, v: Node) throws(ConfigError) in
                    let path = "\(name).\(k)"
                    switch k {
                    case "min_connections": beaconing.minConnections = try r.int(v, path, 3...1000)
                    case "max_jitter": beaconing.maxJitter = try r.double(v, path, 0...1)
                    case "min_interval": beaconing.minInterval = try r.duration(v, path)
                    case "max_interval": beaconing.maxInterval = try r.duration(v, path)
                    default: beaconing.ignorePorts = try r.ports(v, path)
                    }
                }
            case "dns-tunnel":
                try section(r, node, name, &dnsTunnel.scope, ["max_label_length", "min_entropy", "distinct_names", "query_volume", "window", "unusual_types"]) { (k: String, v: Node) throws(ConfigError) in
                    let path = "\(name).\(k)"
                    switch k {
                    case "max_label_length": dnsTunnel.maxLabelLength = try r.int(v, path, 8...63)
                    case "min_entropy": dnsTunnel.minEntropy = try r.double(v, path, 0...8)
                    case "distinct_names": dnsTunnel.distinctNames = try r.int(v, path, 2...1_000_000)
                    case "query_volume": dnsTunnel.queryVolume = try r.int(v, path, 2...10_000_000)
                    case "window": dnsTunnel.window = try r.duration(v, path)
                    default: dnsTunnel.unusualTypes = try r.strings(v, path).map { $0.uppercased() }
                    }
                }
            case "exfiltration":
                try section(r, node, name, &exfiltration.scope, ["outbound_bytes", "window", "new_destination_bytes"]) { (k: String, v: Node) throws(ConfigError) in
                    let path = "\(name).\(k)"
                    switch k {
                    case "outbound_bytes": exfiltration.outboundBytes = UInt64(try r.size(v, path))
                    case "window": exfiltration.window = try r.duration(v, path)
                    default: exfiltration.newDestinationBytes = UInt64(try r.size(v, path))
                    }
                }
            case "lateral-movement":
                try section(r, node, name, &lateralMovement.scope, ["ports", "threshold", "window"]) { (k: String, v: Node) throws(ConfigError) in
                    let path = "\(name).\(k)"
                    switch k {
                    case "ports": lateralMovement.ports = try r.ports(v, path)
                    case "threshold": lateralMovement.threshold = try r.int(v, path, 2...1_000_000)
                    default: lateralMovement.window = try r.duration(v, path)
                    }
                }
            case "remote-maintenance":
                try section(r, node, name, &remoteMaintenance.scope, ["ports", "max_duration", "allowed_hours", "utc_offset"]) { (k: String, v: Node) throws(ConfigError) in
                    let path = "\(name).\(k)"
                    switch k {
                    case "ports": remoteMaintenance.ports = try r.ports(v, path)
                    case "max_duration": remoteMaintenance.maxDuration = try r.duration(v, path)
                    case "allowed_hours":
                        let text = try r.string(v, path)
                        if text == "any" { remoteMaintenance.allowedHours = nil; break }
                        guard let range = AnomalySettings.hours(text) else { throw r.fail(v, path, "expected HH:MM-HH:MM or any") }
                        remoteMaintenance.allowedHours = range
                    default:
                        let text = try r.string(v, path)
                        guard let m = AnomalySettings.offset(text) else { throw r.fail(v, path, "expected an offset such as +01:00") }
                        remoteMaintenance.utcOffsetMinutes = m
                    }
                }
            case "cleartext-credentials":
                try section(r, node, name, &cleartextCredentials.scope, []) { (_: String, _: Node) throws(ConfigError) in }
            case "weak-tls":
                try section(r, node, name, &weakTLS.scope, ["min_version", "expired_certificates", "weak_ciphers"]) { (k: String, v: Node) throws(ConfigError) in
                    let path = "\(name).\(k)"
                    switch k {
                    case "min_version":
                        let text = try r.string(v, path)
                        guard WeakTLSCheck.rank(text) != nil else { throw r.fail(v, path, "expected one of: SSLv3, TLS 1.0, TLS 1.1, TLS 1.2, TLS 1.3") }
                        weakTLS.minVersion = text
                    case "expired_certificates": weakTLS.expiredCertificates = try r.bool(v, path)
                    default: weakTLS.weakCiphers = try r.bool(v, path)
                    }
                }
            default:
                try section(r, node, name, &flood.scope, ["syn_threshold", "udp_threshold", "icmp_threshold", "window"]) { (k: String, v: Node) throws(ConfigError) in
                    let path = "\(name).\(k)"
                    switch k {
                    case "syn_threshold": flood.synThreshold = try r.int(v, path, 2...100_000_000)
                    case "udp_threshold": flood.udpThreshold = try r.int(v, path, 2...100_000_000)
                    case "icmp_threshold": flood.icmpThreshold = try r.int(v, path, 2...100_000_000)
                    default: flood.window = try r.duration(v, path)
                    }
                }
            }
        }
    }

    static let commonKeys = ["enabled", "sid", "classtype", "severity", "segments", "networks", "except_sources", "except_destinations"]

    func section(_ r: YAMLReader, _ node: Node, _ name: String, _ scope: inout DetectorScope, _ keys: [String],
                 _ specific: (String, Node) throws(ConfigError) -> Void) throws(ConfigError) {
        for (k, _, v) in try r.mapping(node, name, allowed: AnomalySettings.commonKeys + keys) {
            let path = "\(name).\(k)"
            switch k {
            case "enabled": scope.enabled = try r.bool(v, path)
            case "sid": scope.sid = UInt32(try r.int(v, path, 1...Int(UInt32.max)))
            case "classtype": scope.classtype = try r.string(v, path)
            case "severity": scope.severity = try r.int(v, path, 1...4)
            case "segments": scope.segments = try r.strings(v, path)
            case "networks": scope.networks = try r.cidrs(v, path)
            case "except_sources": scope.exceptSources = try r.cidrs(v, path)
            case "except_destinations": scope.exceptDestinations = try r.cidrs(v, path)
            default: try specific(k, v)
            }
        }
    }

    /// "07:00-19:00" into minutes from midnight.
    static func hours(_ text: String) -> (Int, Int)? {
        let parts = text.split(separator: "-")
        guard parts.count == 2, let a = minutes(parts[0]), let b = minutes(parts[1]) else { return nil }
        return (a, b)
    }

    static func minutes(_ text: Substring) -> Int? {
        let hm = text.trimmingCharacters(in: .whitespaces).split(separator: ":")
        guard hm.count == 2, let h = Int(hm[0]), let m = Int(hm[1]), (0...24).contains(h), (0..<60).contains(m), h * 60 + m <= 1440 else { return nil }
        return h * 60 + m
    }

    /// "+01:00" / "-05:30" into minutes.
    static func offset(_ text: String) -> Int? {
        guard let sign = text.first, sign == "+" || sign == "-", let m = minutes(text.dropFirst()) else { return nil }
        return sign == "-" ? -m : m
    }
}

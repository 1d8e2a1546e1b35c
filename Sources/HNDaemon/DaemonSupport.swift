import CLinux
import Foundation
import HNOutput
import HNSensor
import Logging
import Prometheus

#if canImport(Glibc)
import Glibc
#endif

/// systemd's notification protocol (sd_notify): datagrams to `$NOTIFY_SOCKET`.
struct SystemdNotifier {
    let socketPath: String?
    /// Half the watchdog interval systemd asks for, in nanoseconds; nil without a watchdog.
    let watchdogInterval: Int64?

    init(environment: [String: String] = ProcessInfo.processInfo.environment) {
        socketPath = environment["NOTIFY_SOCKET"].flatMap { $0.isEmpty ? nil : $0 }
        if let usec = environment["WATCHDOG_USEC"].flatMap(Int64.init), usec > 0 {
            watchdogInterval = usec * 1000 / 2
        } else {
            watchdogInterval = nil
        }
    }

    @discardableResult
    func notify(_ state: String) -> Bool {
        guard let socketPath else { return false }
        let fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        var path = Array(socketPath.utf8)
        if path.first == UInt8(ascii: "@") { path[0] = 0 }  // abstract namespace
        let capacity = MemoryLayout.size(ofValue: address.sun_path)
        guard path.count < capacity else { return false }
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            for (i, b) in path.enumerated() { raw[i] = b }
        }
        let length = socklen_t(MemoryLayout<sa_family_t>.size + path.count)
        let message = Array(state.utf8)
        let sent = withUnsafePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { sa in
                message.withUnsafeBytes { sendto(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL), sa, length) }
            }
        }
        return sent == message.count
    }
}

/// Log lines for journald: `<priority>message key=value …` on standard error (systemd reads the
/// `<N>` prefix as the syslog priority). No payload or secret is ever logged.
struct JournalLogHandler: LogHandler {
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .info
    let label: String

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        let priority: Int
        switch event.level {
        case .trace, .debug: priority = 7
        case .info: priority = 6
        case .notice: priority = 5
        case .warning: priority = 4
        case .error: priority = 3
        case .critical: priority = 2
        }
        var line = "<\(priority)>\(event.message)"
        let all = metadata.merging(event.metadata ?? [:]) { $1 }
        for key in all.keys.sorted() { line += " \(key)=\(all[key]!)" }
        line += "\n"
        let bytes = Array(line.utf8)
        _ = bytes.withUnsafeBytes { write(2, $0.baseAddress, $0.count) }
    }
}

/// Drops root for an unprivileged user and group after the capture handles are open.
enum Privileges {
    struct Failure: Error, CustomStringConvertible { let description: String }

    /// Does nothing when not root, or when `user` is empty.
    static func drop(user: String, group: String) throws(Failure) -> String? {
        guard getuid() == 0 || geteuid() == 0, !user.isEmpty else { return nil }
        guard let pw = getpwnam(user) else {
            throw Failure(description: "daemon.user: no user '\(user)' (create it with Systemd/hnsensor.sysusers, or set daemon.user)")
        }
        var gid = pw.pointee.pw_gid
        if !group.isEmpty {
            guard let gr = getgrnam(group) else { throw Failure(description: "daemon.group: no group '\(group)'") }
            gid = gr.pointee.gr_gid
        }
        let uid = pw.pointee.pw_uid
        var groups = [gid]
        guard setgroups(1, &groups) == 0, setgid(gid) == 0, setuid(uid) == 0 else {
            throw Failure(description: "cannot become \(user):\(group): \(String(cString: strerror(errno)))")
        }
        // Dropping must be final: getting root back has to fail.
        guard setuid(0) != 0 else { throw Failure(description: "privileges could be regained after dropping them") }
        return "\(user):\(group)"
    }
}

/// The Prometheus text endpoint: a non-blocking loopback listener served from the daemon's
/// poll loop (one short request per connection; `GET /metrics`).
final class MetricsServer {
    let endpoint: MetricsEndpoint
    let fd: Int32

    init(_ endpoint: MetricsEndpoint) throws(Privileges.Failure) {
        self.endpoint = endpoint
        let v4 = endpoint.address.isIPv4
        fd = socket(v4 ? AF_INET : AF_INET6, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw Privileges.Failure(description: "metrics.listen: cannot create a socket") }
        var one: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        let status = endpoint.withSocketAddress { bind(fd, $0, $1) }
        guard status == 0, listen(fd, 16) == 0 else {
            let reason = String(cString: strerror(errno))
            close(fd)
            throw Privileges.Failure(description: "metrics.listen: cannot listen on \(endpoint): \(reason)")
        }
    }

    deinit { close(fd) }

    /// Accepts waiting connections and answers each with `body()`.
    func serve(_ body: () -> [UInt8]) {
        while true {
            let client = accept(fd, nil, nil)
            guard client >= 0 else { return }
            var timeout = timeval(tv_sec: 0, tv_usec: 200_000)
            setsockopt(client, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
            setsockopt(client, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
            var request = [UInt8](repeating: 0, count: 4096)
            let n = request.withUnsafeMutableBytes { read(client, $0.baseAddress, $0.count) }
            let line = n > 0 ? String(decoding: request.prefix(n).prefix { $0 != 0x0D && $0 != 0x0A }, as: UTF8.self) : ""
            var response: [UInt8]
            if line.hasPrefix("GET /metrics") || line.hasPrefix("GET / ") {
                let content = body()
                response = Array("HTTP/1.1 200 OK\r\nContent-Type: text/plain; version=0.0.4\r\nContent-Length: \(content.count)\r\nConnection: close\r\n\r\n".utf8) + content
            } else {
                response = Array("HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".utf8)
            }
            var offset = 0
            while offset < response.count {
                let w = response.withUnsafeBytes { send(client, $0.baseAddress! + offset, $0.count - offset, Int32(MSG_NOSIGNAL)) }
                if w <= 0 { break }
                offset += w
            }
            close(client)
        }
    }
}

/// The daemon's counters as Prometheus metrics: every value of the EVE stats tree as a gauge
/// named by its path (`hnsensor_decoder_pkts`, `hnsensor_flow_active`, …), the kernel's capture
/// counters per interface, and the packet latency histogram.
final class SensorMetrics {
    let registry = PrometheusCollectorRegistry()
    var gauges: [String: Gauge] = [:]
    let latency: DurationHistogram

    init() {
        latency = registry.makeDurationHistogram(
            descriptor: MetricNameDescriptor(metricName: "hnsensor_packet_processing", unitName: "seconds",
                                             helpText: "Time to process one packet through the pipeline (per batch, divided by its packets)"),
            buckets: [.nanoseconds(500), .microseconds(1), .microseconds(2), .microseconds(5), .microseconds(10), .microseconds(50),
                      .microseconds(100), .milliseconds(1), .milliseconds(10)])
    }

    func set(_ name: String, _ value: Double, labels: [(String, String)] = []) {
        let key = name + labels.map { "\($0.0)=\($0.1)" }.joined(separator: ",")
        let gauge = gauges[key] ?? {
            let descriptor = MetricNameDescriptor(metricName: name, unitName: "", helpText: "")
            let g = labels.isEmpty ? registry.makeGauge(descriptor: descriptor) : registry.makeGauge(descriptor: descriptor, labels: labels)
            gauges[key] = g
            return g
        }()
        gauge.set(to: value)
    }

    func update(from tree: StatsTree, prefix: String = "hnsensor") {
        for (name, node) in tree.children {
            let full = prefix + "_" + name.map { $0.isLetter || $0.isNumber ? $0 : "_" }.map(String.init).joined()
            switch node {
            case .value(let v): set(full, Double(v))
            case .tree(let sub): update(from: sub, prefix: full)
            }
        }
    }

    func text() -> [UInt8] { registry.emitToBuffer() }
}

extension MetricsEndpoint {
    /// The endpoint as a socket address, for bind and connect.
    public func withSocketAddress<R>(_ body: (UnsafePointer<sockaddr>, socklen_t) -> R) -> R {
        if address.isIPv4 {
            var a = sockaddr_in()
            a.sin_family = sa_family_t(AF_INET)
            a.sin_port = port.bigEndian
            a.sin_addr.s_addr = address.ipv4Value.bigEndian
            return withUnsafePointer(to: &a) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { body($0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        }
        var a = sockaddr_in6()
        a.sin6_family = sa_family_t(AF_INET6)
        a.sin6_port = port.bigEndian
        a.sin6_addr = in6addr_loopback
        return withUnsafePointer(to: &a) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { body($0, socklen_t(MemoryLayout<sockaddr_in6>.size)) } }
    }
}

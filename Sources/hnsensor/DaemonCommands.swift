import ArgumentParser
import Foundation
import HNCentral
import HNDaemon
import HNSensor

#if canImport(Glibc)
import Glibc
#endif

struct Run: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Capture live on every configured segment (the daemon; systemd runs it). SIGHUP reloads rules, SIGTERM stops.")

    @Option(name: .long, help: "Configuration file (YAML). Default: /etc/hnsensor/hnsensor.yaml when present.")
    var config: String?

    @OptionGroup var inspection: InspectionOptions

    @Option(name: .long, help: "Capture on this interface instead of the configured segments (repeatable).")
    var interface: [String] = []

    func run() throws {
        let path = config ?? (FileManager.default.fileExists(atPath: "/etc/hnsensor/hnsensor.yaml") ? "/etc/hnsensor/hnsensor.yaml" : nil)
        let settings = try loadConfig(path)
        var options = Daemon.Options()
        options.configPath = path
        options.rulesPath = inspection.rules
        options.interfaces = interface
        options.evePath = inspection.eve
        options.workers = inspection.workers
        var forwarder: CentralForwarder? = nil
        switch try StoreSpec.resolve(inspection.store, settings) {
        case .file(let path)?: options.storePath = path
        case .central(let url)?: forwarder = try makeForwarder(url: url, settings: settings, spool: inspection.spool, liveSegments: true)
        case nil: break
        }
        let status = Daemon(config: settings, options: options, forwarder: forwarder).run()
        if let forwarder {
            // A few seconds for the spool to reach the store; the rest goes first next start.
            _ = forwarder.drain(timeout: 5)
            forwarder.stop()
        }
        if status != 0 { throw ExitCode(status) }
    }
}

struct Status: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Read the counters of a running daemon from its metrics endpoint.")

    @Option(name: .long, help: "Configuration file (YAML), for metrics.listen. Default: /etc/hnsensor/hnsensor.yaml when present.")
    var config: String?

    @Option(name: .long, help: "Metrics endpoint, such as 127.0.0.1:9480. Default: metrics.listen of the config.")
    var metrics: String?

    @Flag(name: .long, help: "Print every metric line as the endpoint serves it.")
    var raw = false

    func run() throws {
        let path = config ?? (FileManager.default.fileExists(atPath: "/etc/hnsensor/hnsensor.yaml") ? "/etc/hnsensor/hnsensor.yaml" : nil)
        let settings = try loadConfig(path)
        let text = metrics ?? settings.metricsListen?.description
        guard let text, let endpoint = MetricsEndpoint(text) else {
            throw RuntimeFailure(message: "no metrics endpoint: give --metrics 127.0.0.1:PORT or set metrics.listen")
        }
        let body = try fetch(endpoint)
        if raw {
            print(body, terminator: "")
            return
        }
        var values: [String: Double] = [:]
        var perInterface: [(String, String, Double)] = []
        for line in body.split(separator: "\n") where !line.hasPrefix("#") {
            let parts = line.split(separator: " ")
            guard parts.count == 2, let v = Double(parts[1]) else { continue }
            let name = String(parts[0])
            if let brace = name.firstIndex(of: "{") {
                let metric = String(name[..<brace])
                let label = name[brace...].split(separator: "\"").dropFirst().first.map(String.init) ?? ""
                perInterface.append((metric, label, v))
            } else {
                values[name] = v
            }
        }
        func row(_ label: String, _ key: String) {
            let v = values[key].map { String(Int64($0)) } ?? "-"
            print(label.padding(toLength: 22, withPad: " ", startingAt: 0) + v)
        }
        print("hnsensor at \(endpoint)")
        row("uptime (s)", "hnsensor_uptime")
        row("packets", "hnsensor_decoder_pkts")
        row("bytes", "hnsensor_decoder_bytes")
        row("decoder rejects", "hnsensor_decoder_invalid")
        row("flows active", "hnsensor_flow_active")
        row("flows evicted (cap)", "hnsensor_flow_evicted_memcap")
        row("stream memcap drops", "hnsensor_stream_memcap_drops")
        row("rules", "hnsensor_rules_loaded")
        row("alerts", "hnsensor_detect_alerts")
        row("incidents", "hnsensor_correlation_incidents")
        for (metric, interface, v) in perInterface where metric.hasPrefix("hnsensor_capture_") {
            print("\(metric.dropFirst("hnsensor_capture_".count)) on \(interface)".padding(toLength: 22, withPad: " ", startingAt: 0) + String(Int64(v)))
        }
    }

    func fetch(_ endpoint: MetricsEndpoint) throws -> String {
        let v4 = endpoint.address.isIPv4
        let fd = socket(v4 ? AF_INET : AF_INET6, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw RuntimeFailure(message: "cannot create a socket") }
        defer { close(fd) }
        let status = endpoint.withSocketAddress { connect(fd, $0, $1) }
        guard status == 0 else {
            throw RuntimeFailure(message: "\(endpoint): no daemon answers (\(String(cString: strerror(errno))))")
        }
        let request = Array("GET /metrics HTTP/1.1\r\nHost: \(endpoint)\r\nConnection: close\r\n\r\n".utf8)
        _ = request.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, 0) }
        var response: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n <= 0 { break }
            response += chunk.prefix(n)
        }
        let text = String(decoding: response, as: UTF8.self)
        guard let split = text.range(of: "\r\n\r\n") else { throw RuntimeFailure(message: "\(endpoint): not an HTTP answer") }
        return String(text[split.upperBound...])
    }
}

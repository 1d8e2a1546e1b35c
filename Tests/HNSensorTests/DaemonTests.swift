import Foundation
import Testing
@testable import HNSensor

#if canImport(Glibc)
import Glibc
#endif

/// Runs a command, returning its status (output discarded).
@discardableResult
func sh(_ command: String) -> Int32 {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: "/bin/sh")
    p.arguments = ["-c", command]
    p.standardOutput = FileHandle.nullDevice
    p.standardError = FileHandle.nullDevice
    do { try p.run() } catch { return -1 }
    p.waitUntilExit()
    return p.terminationStatus
}

/// Why the live tests cannot run here, or nil when they can.
func liveTestsUnavailable() -> String? {
    if geteuid() != 0 { return "not root (network namespaces and capture need root)" }
    if sh("command -v ip") != 0 { return "the ip command (iproute2) is missing" }
    if sh("command -v tcpreplay") != 0 { return "tcpreplay is missing (make deps installs it)" }
    if hnsensorBinary == nil { return "the hnsensor binary is not built" }
    return nil
}

/// A network namespace with a veth pair: the daemon captures on `outside`, traffic is sent
/// from `inside` within the namespace. Removed on deinit.
final class VethLab {
    let namespace: String, outside: String, inside: String
    init() throws {
        let tag = String(getpid() % 100_000)
        namespace = "hnt\(tag)"
        outside = "hna\(tag)"
        inside = "hnb\(tag)"
        sh("ip netns del \(namespace); ip link del \(outside)")
        guard sh("ip netns add \(namespace)") == 0,
              sh("ip link add \(outside) type veth peer name \(inside) netns \(namespace)") == 0,
              sh("ip link set \(outside) up && ip netns exec \(namespace) ip link set \(inside) up") == 0 else {
            throw CocoaError(.featureUnsupported)
        }
    }
    deinit { sh("ip link del \(outside); ip netns del \(namespace)") }

    /// Sends a capture's frames from inside the namespace, as fast as they go.
    func send(_ pcap: String) -> Int32 { sh("ip netns exec \(namespace) tcpreplay -q -i \(inside) --topspeed \(pcap)") }
}

/// Receives systemd notifications the way systemd does: a datagram socket at NOTIFY_SOCKET.
final class NotifyListener {
    let path: String
    let fd: Int32
    init(path: String) {
        self.path = path
        unlink(path)
        fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue), 0)
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        withUnsafeMutableBytes(of: &address.sun_path) { raw in for (i, b) in bytes.enumerated() { raw[i] = b } }
        _ = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) } }
        chmod(path, 0o777)
    }
    deinit { close(fd); unlink(path) }

    /// Messages received within `seconds`, until one contains `until`.
    func wait(for until: String, seconds: Double) -> [String] {
        var messages: [String] = []
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            guard poll(&p, 1, 100) > 0 else { continue }
            var buffer = [UInt8](repeating: 0, count: 4096)
            let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n > 0 {
                let m = String(decoding: buffer.prefix(n), as: UTF8.self)
                messages.append(m)
                if m.contains(until) { return messages }
            }
        }
        return messages
    }
}

/// A copy of Rules/ the daemon can read after dropping to `nobody` (the checkout itself may
/// sit in a folder only root can enter, as `mktemp -d` makes).
func readableRules(in dir: URL) throws -> URL {
    let rules = dir.appendingPathComponent("rules")
    try FileManager.default.copyItem(at: repositoryRoot.appendingPathComponent("Rules"), to: rules)
    _ = sh("chmod -R a+rX \(rules.path)")
    return rules
}

@Suite(.serialized) struct DaemonTests {
    /// The daemon captures traffic sent across a veth pair in a network namespace: alerts and
    /// incidents come out; a SIGHUP reload during traffic (a refused one, then a good one)
    /// loses no packet; SIGTERM flushes flows, the store and EVE. It runs as `nobody` after
    /// opening the capture, and tells systemd READY, RELOADING and STOPPING.
    @Test func liveCaptureReloadAndCleanStop() throws {
        if let reason = liveTestsUnavailable() {
            print("liveCaptureReloadAndCleanStop: skipped: \(reason)")
            return
        }
        let binary = hnsensorBinary!
        let lab = try VethLab()
        let dir = try scratchFolder()
        chmod(dir.path, 0o777)
        let rules = try readableRules(in: dir)
        let port = 20_000 + Int(getpid() % 10_000)
        let config = dir.appendingPathComponent("hnsensor.yaml")
        try """
            sensor: {name: lab-sensor}
            home_net: [10.20.0.0/16]
            segments:
              - {name: dmz, kind: dmz, interface: \(lab.outside), bpf: "ip", networks: [10.20.2.0/24]}
            daemon: {user: nobody, group: nogroup, stats_interval: 1s}
            metrics: {listen: 127.0.0.1:\(port)}
            """.write(to: config, atomically: true, encoding: .utf8)
        let eve = dir.appendingPathComponent("eve.json"), store = dir.appendingPathComponent("incidents.db")
        let notify = NotifyListener(path: dir.appendingPathComponent("notify.sock").path)

        let daemon = Process()
        daemon.executableURL = URL(fileURLWithPath: binary)
        daemon.arguments = ["run", "--config", config.path, "--rules", rules.path, "--eve", eve.path, "--store", store.path]
        var environment = ProcessInfo.processInfo.environment
        environment["NOTIFY_SOCKET"] = notify.path
        daemon.environment = environment
        let stderrFile = dir.appendingPathComponent("daemon.log")
        _ = FileManager.default.createFile(atPath: stderrFile.path, contents: nil)
        daemon.standardError = try FileHandle(forWritingTo: stderrFile)
        daemon.standardOutput = FileHandle.nullDevice
        try daemon.run()
        defer { if daemon.isRunning { kill(daemon.processIdentifier, SIGKILL) } }
        #expect(notify.wait(for: "READY=1", seconds: 20).contains { $0.contains("READY=1") }, "no READY from the daemon")

        let capture = capturesFolder.appendingPathComponent("attacks.pcap").path
        let perReplay = 2_972
        #expect(lab.send(capture) == 0)
        // A broken correlation file: the reload is refused and the old rules keep working.
        try "- id: broken\n  type: sometimes\n".write(to: rules.appendingPathComponent("correlation/broken.yaml"), atomically: true, encoding: .utf8)
        kill(daemon.processIdentifier, SIGHUP)
        #expect(lab.send(capture) == 0)
        _ = notify.wait(for: "READY=1", seconds: 20)
        try FileManager.default.removeItem(at: rules.appendingPathComponent("correlation/broken.yaml"))
        kill(daemon.processIdentifier, SIGHUP)
        #expect(lab.send(capture) == 0)
        let reloads = notify.wait(for: "READY=1", seconds: 20)
        #expect(reloads.contains { $0.contains("READY=1") })
        #expect(lab.send(capture) == 0)
        Thread.sleep(forTimeInterval: 1.5)

        // hnsensor status reads the live counters.
        let status = try hnsensor(["status", "--metrics", "127.0.0.1:\(port)"])
        #expect(status.status == 0)
        #expect(status.out.contains("packets"))

        kill(daemon.processIdentifier, SIGTERM)
        #expect(notify.wait(for: "STOPPING=1", seconds: 20).contains { $0.contains("STOPPING=1") })
        daemon.waitUntilExit()
        #expect(daemon.terminationStatus == 0)
        let log = (try? String(contentsOf: stderrFile, encoding: .utf8)) ?? ""
        #expect(log.contains("dropped privileges identity=nobody:nogroup"))
        #expect(log.contains("reload refused:"), "\(log)")
        #expect(log.contains("<6>reloaded"), "\(log)")

        // Nothing lost: every packet sent was decoded, the kernel dropped none.
        let records = try readEVE(eve.path)
        let stats = try #require(records.last { $0["event_type"] as? String == "stats" }?["stats"] as? [String: Any])
        let decoder = stats["decoder"] as? [String: Any] ?? [:]
        #expect(decoder["pkts"] as? Int == 4 * perReplay)
        let kernel = (stats["capture"] as? [String: Any])?[lab.outside] as? [String: Any] ?? [:]
        #expect(kernel["kernel_packets"] as? Int == 4 * perReplay)
        #expect(kernel["kernel_drops"] as? Int == 0)
        #expect(log.contains("kernel_drops=0"), "\(log)")
        let sids = Set(records.filter { $0["event_type"] as? String == "alert" }.compactMap { ($0["alert"] as? [String: Any])?["signature_id"] as? Int })
        #expect(sids.isSuperset(of: [9_100_004, 9_100_005, 9_100_006, 9_100_100, 9_102_001, 9_200_010, 9_200_020, 9_200_090, 9_300_001]))
        #expect(records.contains { $0["event_type"] as? String == "incident" })
        #expect(records.filter { $0["event_type"] as? String == "flow" }.allSatisfy { $0["in_iface"] as? String == lab.outside })
        // Files the daemon created are not world-readable, and belong to the dropped user.
        for file in [eve.path, store.path] {
            let attributes = try FileManager.default.attributesOfItem(atPath: file)
            #expect((attributes[.posixPermissions] as? Int ?? 0o777) & 0o007 == 0)
            #expect(attributes[.ownerAccountName] as? String == "nobody")
        }
        let opened = try HNStoreCheck.incidents(store.path)
        #expect(opened > 0)
    }

    /// EVE on a full disk (a 64 KiB tmpfs): writes fail, the daemon says so and retries, and
    /// capture goes on: every packet is still counted and the store still gets its incidents.
    @Test func aFullDiskDoesNotStopCapture() throws {
        if let reason = liveTestsUnavailable() {
            print("aFullDiskDoesNotStopCapture: skipped: \(reason)")
            return
        }
        let lab = try VethLab()
        let dir = try scratchFolder()
        chmod(dir.path, 0o777)
        let small = dir.appendingPathComponent("small")
        try FileManager.default.createDirectory(at: small, withIntermediateDirectories: true)
        guard sh("mount -t tmpfs -o size=64k,mode=0777 tmpfs \(small.path)") == 0 else {
            print("aFullDiskDoesNotStopCapture: skipped: cannot mount a tmpfs here")
            return
        }
        defer { sh("umount \(small.path)") }
        let port = 21_000 + Int(getpid() % 10_000)
        let config = dir.appendingPathComponent("hnsensor.yaml")
        try """
            home_net: [10.20.0.0/16]
            segments: [{name: dmz, interface: \(lab.outside), bpf: "ip"}]
            daemon: {user: nobody, group: nogroup, stats_interval: 1s}
            metrics: {listen: 127.0.0.1:\(port)}
            """.write(to: config, atomically: true, encoding: .utf8)
        let daemon = Process()
        daemon.executableURL = URL(fileURLWithPath: hnsensorBinary!)
        daemon.arguments = ["run", "--config", config.path, "--rules", try readableRules(in: dir).path,
                            "--eve", small.appendingPathComponent("eve.json").path, "--store", dir.appendingPathComponent("s.db").path]
        let log = dir.appendingPathComponent("daemon.log")
        _ = FileManager.default.createFile(atPath: log.path, contents: nil)
        daemon.standardError = try FileHandle(forWritingTo: log)
        try daemon.run()
        defer { if daemon.isRunning { kill(daemon.processIdentifier, SIGKILL) } }
        Thread.sleep(forTimeInterval: 1.5)
        for _ in 0..<3 { #expect(lab.send(capturesFolder.appendingPathComponent("attacks.pcap").path) == 0) }
        Thread.sleep(forTimeInterval: 2.5)
        let status = try hnsensor(["status", "--metrics", "127.0.0.1:\(port)"])
        #expect(status.out.contains("packets               8916"), "\(status.out)")
        kill(daemon.processIdentifier, SIGTERM)
        daemon.waitUntilExit()
        let text = (try? String(contentsOf: log, encoding: .utf8)) ?? ""
        #expect(text.contains("EVE output failing, retrying"), "\(text)")
        #expect(text.contains("packets=8916"), "\(text)")
        #expect(try HNStoreCheck.incidents(dir.appendingPathComponent("s.db").path) > 0)
    }

    /// The unit files pass `systemd-analyze verify` (with ExecStart pointing at the built
    /// binary, as `make install` rewrites it) and carry their hardening.
    @Test(arguments: [
        ("hnsensor.service", ["Type=notify", "AmbientCapabilities=CAP_NET_RAW CAP_NET_ADMIN", "CapabilityBoundingSet=CAP_NET_RAW CAP_NET_ADMIN",
                              "WatchdogSec=", "ReadWritePaths=/var/lib/hnsensor /var/log/hnsensor"]),
        ("hnsensor-serve.service", ["ExecStart=/usr/local/bin/hnsensor serve", "AmbientCapabilities=\n", "CapabilityBoundingSet=\n",
                                    "MemoryDenyWriteExecute=yes", "PrivateUsers=yes", "ReadWritePaths=/var/lib/hnsensor\n"]),
        ("hnsensor-correlate.service", ["ExecStart=/usr/local/bin/hnsensor correlate", "AmbientCapabilities=\n", "CapabilityBoundingSet=\n",
                                        "MemoryDenyWriteExecute=yes", "PrivateUsers=yes", "After=network-online.target postgresql.service"]),
    ])
    func theSystemdUnitVerifies(_ name: String, _ specific: [String]) throws {
        guard sh("command -v systemd-analyze") == 0, let binary = hnsensorBinary else {
            print("theSystemdUnitVerifies(\(name)): skipped: systemd-analyze or the binary is missing")
            return
        }
        let dir = try scratchFolder()
        let original = try String(contentsOf: repositoryRoot.appendingPathComponent("Systemd/\(name)"), encoding: .utf8)
        let unit = original.replacingOccurrences(of: "/usr/local/bin/hnsensor", with: binary)
        let path = dir.appendingPathComponent(name)
        try unit.write(to: path, atomically: true, encoding: .utf8)
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/bin/sh")
        p.arguments = ["-c", "systemd-analyze verify \(path.path) 2>&1"]
        let pipe = Pipe()
        p.standardOutput = pipe
        try p.run()
        let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        #expect(p.terminationStatus == 0, "\(output)")
        #expect(!output.contains("\(name):"), "\(output)")
        for key in ["NoNewPrivileges=yes", "ProtectSystem=strict", "ProtectHome=yes", "PrivateTmp=yes", "RestrictAddressFamilies=",
                    "SystemCallFilter=@system-service", "MemoryMax=", "Restart=on-failure", "User=hnsensor"] + specific {
            #expect(original.contains(key), "\(name): missing \(key)")
        }
    }
}

import HNStore
enum HNStoreCheck {
    static func incidents(_ path: String) throws -> Int {
        let store = try IncidentStore(path: path)
        #expect(try store.integrityCheck() == "ok")
        return try store.incidents().count
    }
}

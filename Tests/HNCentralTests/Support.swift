import Foundation
import HNCentral
import HNSensor
import HNStore
import HNCorrelate
import Testing

#if canImport(Glibc)
import Glibc
#endif

let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
let capturesFolder = repositoryRoot.appendingPathComponent("Captures")
let shippedConfig = repositoryRoot.appendingPathComponent("Config/hnsensor.yaml").path
let shippedRules = repositoryRoot.appendingPathComponent("Rules").path
/// The built hnsensor binary, beside the test bundle.
let hnsensorBinary: String? = {
    let candidates = [repositoryRoot.appendingPathComponent(".build/debug/hnsensor").path]
    return candidates.first { FileManager.default.isExecutableFile(atPath: $0) }
}()

func scratchFolder() throws -> URL {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("hncentral-\(getpid())-\(UUID().uuidString.prefix(8))")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    return dir
}

/// Runs a program; returns its status and output. `asPostgres` runs it as the `postgres`
/// user when the tests run as root (PostgreSQL refuses to run as root).
@discardableResult
/// `detached`: the program leaves a server running (pg_ctl start), which must not inherit
/// the pipes (reading them would wait for the server to end): its output is not kept.
func run(_ program: String, _ arguments: [String], asPostgres: Bool = false, environment: [String: String]? = nil,
         detached: Bool = false) throws -> (status: Int32, out: String, err: String) {
    let p = Process()
    if asPostgres && getuid() == 0 {
        p.executableURL = URL(fileURLWithPath: "/usr/sbin/runuser")
        p.arguments = ["-u", "postgres", "--", program] + arguments
    } else {
        p.executableURL = URL(fileURLWithPath: program)
        p.arguments = arguments
    }
    if let environment { p.environment = environment }
    if detached {
        // Foundation's Process learns of the end of its child through a descriptor the child
        // inherits, which a server left running keeps open: spawn and reap it directly.
        let argv = (p.executableURL.map { [$0.path] } ?? []) + (p.arguments ?? [])
        var pid: pid_t = 0
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        for fd in Int32(0)...2 { posix_spawn_file_actions_addopen(&actions, fd, "/dev/null", fd == 0 ? O_RDONLY : O_WRONLY, 0) }
        var cArgs = argv.map { strdup($0) } + [nil]
        defer { for a in cArgs { free(a) } }
        let spawned = posix_spawn(&pid, argv[0], &actions, nil, &cArgs, environ)
        guard spawned == 0 else { throw TestFailure("\(argv[0]): cannot start: \(String(cString: strerror(spawned)))") }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        return ((status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f), "", "")
    }
    let out = Pipe(), err = Pipe()
    p.standardOutput = out
    p.standardError = err
    p.standardInput = FileHandle.nullDevice
    try p.run()
    let o = out.fileHandleForReading.readDataToEndOfFile()
    let e = err.fileHandleForReading.readDataToEndOfFile()
    p.waitUntilExit()
    return (p.terminationStatus, String(decoding: o, as: UTF8.self), String(decoding: e, as: UTF8.self))
}

/// Runs the hnsensor binary.
@discardableResult
func hnsensor(_ arguments: [String]) throws -> (status: Int32, out: String, err: String) {
    guard let binary = hnsensorBinary else { throw TestFailure("the hnsensor binary is not built (swift build)") }
    return try run(binary, arguments)
}

struct TestFailure: Error, CustomStringConvertible {
    let description: String
    init(_ d: String) { description = d }
}

/// A PostgreSQL cluster of the tests' own: initdb and pg_ctl in a temporary folder, listening
/// on loopback at a free port, trust authentication for its one user `hn`, removed at the end.
final class PGCluster: @unchecked Sendable {
    let folder: String
    let port: Int
    let bin: String
    private let lock = NSLock()
    private var databases = 0

    /// The folder of initdb and pg_ctl (Debian's postgresql package), if installed.
    static let binFolder: String? = {
        let root = "/usr/lib/postgresql"
        let versions = ((try? FileManager.default.contentsOfDirectory(atPath: root)) ?? []).compactMap(Int.init).sorted(by: >)
        return versions.map { "\(root)/\($0)/bin" }.first { FileManager.default.isExecutableFile(atPath: $0 + "/initdb") }
    }()
    static var available: Bool { binFolder != nil && (getuid() != 0 || FileManager.default.isExecutableFile(atPath: "/usr/sbin/runuser")) }
    static let unavailableReason: Comment = "PostgreSQL is not installed (make test installs Debian's postgresql)"

    /// One cluster for the tests that only need a database; those that stop the server
    /// start their own.
    static let shared: PGCluster? = {
        guard available else { return nil }
        let c = try? PGCluster()
        if c != nil { atexit { PGCluster.shared?.destroy() } }
        return c
    }()

    init() throws {
        guard let bin = PGCluster.binFolder else { throw TestFailure("no initdb") }
        self.bin = bin
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("hn-pg-\(getpid())-\(UUID().uuidString.prefix(8))").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        if getuid() == 0 { try run("/bin/chown", ["postgres", folder]) }
        port = PGCluster.freePort()
        let r = try run(bin + "/initdb", ["-D", folder + "/data", "-U", "hn", "--auth=trust", "-E", "UTF8", "--no-sync"], asPostgres: true)
        guard r.status == 0 else { throw TestFailure("initdb failed: \(r.err)") }
        try start()
    }

    func start() throws {
        let r = try run(bin + "/pg_ctl", ["-D", folder + "/data", "-l", folder + "/log", "-w", "-t", "30", "-o",
                                          "-p \(port) -k \(folder) -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200", "start"],
                        asPostgres: true, detached: true)
        guard r.status == 0 else {
            throw TestFailure("pg_ctl start failed: " + ((try? String(contentsOfFile: folder + "/log", encoding: .utf8)) ?? ""))
        }
    }

    /// Stops the server at once (`immediate`: as a crash) or cleanly.
    func stop(immediate: Bool = false) throws {
        try run(bin + "/pg_ctl", ["-D", folder + "/data", "-w", "-m", immediate ? "immediate" : "fast", "stop"], asPostgres: true)
    }

    func destroy() {
        _ = try? stop()
        try? FileManager.default.removeItem(atPath: folder)
    }

    /// A new, empty database; its URL.
    func newDatabase() throws -> String {
        lock.lock()
        databases += 1
        let name = "t\(databases)_\(UUID().uuidString.prefix(6).lowercased())"
        lock.unlock()
        let r = try run(bin + "/psql", ["-h", "127.0.0.1", "-p", "\(port)", "-U", "hn", "-d", "postgres", "-q", "-c", "CREATE DATABASE \(name)"])
        guard r.status == 0 else { throw TestFailure("createdb failed: \(r.err)") }
        return url(name)
    }

    func url(_ database: String) -> String { "postgresql://hn@127.0.0.1:\(port)/\(database)?sslmode=disable" }

    /// One value of a query, through psql.
    func scalar(_ database: String, _ sql: String) throws -> String {
        let r = try run(bin + "/psql", ["-h", "127.0.0.1", "-p", "\(port)", "-U", "hn", "-d", database, "-At", "-c", sql])
        guard r.status == 0 else { throw TestFailure("psql failed: \(r.err)") }
        return r.out.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    static func freePort() -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        addr.sin_port = 0
        _ = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &len) } }
        return Int(UInt16(bigEndian: addr.sin_port))
    }
}

extension String {
    /// The database name of a test URL.
    var databaseName: String { String(split(separator: "/").last!.split(separator: "?").first!) }
}

/// The comparable facts of an incident: rule, class, priority, hosts and alert count, and
/// (unless `events: false`) how many security events it groups.
struct IncidentFacts: Hashable, CustomStringConvertible {
    var rule: String, group: String, taxonomy: String, type: String, priority: Int, sources: [String], targets: [String], alerts: Int, events: Int
    init(_ i: HNCorrelate.Incident, events withEvents: Bool) {
        self.init(i)
        if !withEvents { events = -1 }
    }
    init(_ i: HNCorrelate.Incident) {
        rule = i.ruleID
        group = i.groupKey
        taxonomy = i.taxonomy
        type = i.type
        priority = i.priority
        sources = i.sources.sorted()
        targets = i.targets.sorted()
        alerts = i.alertCount
        events = i.eventCount
    }
    var description: String { "\(rule)[\(group)] \(taxonomy)/\(type) P\(priority) \(sources)->\(targets) \(alerts) alerts \(events) events" }
}

import Foundation
import HNStore
import Logging
import NIOCore
import NIOPosix
import NIOSSL
import PostgresNIO

/// A central store's address: `postgresql://USER[:PASS]@HOST[:PORT]/DB[?sslmode=…]` (libpq's
/// form; `postgres://` too). The password may also come from a file (`store.password_file`) or
/// from `PGPASSWORD`; it is never part of `description`, so messages and logs never show it.
public struct StoreURL: Sendable, CustomStringConvertible, Equatable {
    public var user: String
    public var password: String?
    public var host: String
    public var port: Int
    public var database: String
    public var sslMode: SSLMode

    /// libpq's sslmode values. `prefer` (libpq's default) tries TLS and falls back to plain;
    /// `require` insists on TLS without checking the certificate; `verify-full` checks it and
    /// the host name against the system's trust store.
    public enum SSLMode: String, Sendable, CaseIterable {
        case disable, allow, prefer, require, verifyCA = "verify-ca", verifyFull = "verify-full"
    }

    /// Whether a `--store` or `store.url` value names a PostgreSQL store (else a SQLite file).
    public static func isURL(_ text: String) -> Bool { text.hasPrefix("postgresql://") || text.hasPrefix("postgres://") }

    /// Reads a URL; `environment` supplies PGUSER, PGPASSWORD and PGSSLMODE where the URL is
    /// silent. The error names the part that is wrong.
    public init(parsing text: String, environment: [String: String] = ProcessInfo.processInfo.environment) throws(StoreError) {
        func fail(_ why: String) -> StoreError { StoreError("store URL \(StoreURL.redacted(text)): \(why)") }
        var rest: Substring
        if text.hasPrefix("postgresql://") { rest = text.dropFirst("postgresql://".count) }
        else if text.hasPrefix("postgres://") { rest = text.dropFirst("postgres://".count) }
        else { throw fail("expected postgresql://USER[:PASS]@HOST[:PORT]/DB") }
        var query: Substring = ""
        if let q = rest.firstIndex(of: "?") {
            query = rest[rest.index(after: q)...]
            rest = rest[..<q]
        }
        guard let slash = rest.firstIndex(of: "/") else { throw fail("no database name (…/DB)") }
        let database = String(rest[rest.index(after: slash)...])
        var authority = rest[..<slash]
        var user: String? = nil, password: String? = nil
        if let at = authority.lastIndex(of: "@") {
            let credentials = authority[..<at]
            authority = authority[authority.index(after: at)...]
            if let colon = credentials.firstIndex(of: ":") {
                user = String(credentials[..<colon]).removingPercentEncoding
                password = String(credentials[credentials.index(after: colon)...]).removingPercentEncoding
            } else {
                user = String(credentials).removingPercentEncoding
            }
        }
        var host = String(authority), port = 5432
        if host.hasPrefix("[") {
            guard let close = host.firstIndex(of: "]") else { throw fail("unclosed [ in the host") }
            let after = host[host.index(after: close)...]
            let address = String(host[host.index(after: host.startIndex)..<close])
            if after.hasPrefix(":") {
                guard let p = Int(after.dropFirst()), (1...65535).contains(p) else { throw fail("the port must be a number from 1 to 65535") }
                port = p
            } else if !after.isEmpty {
                throw fail("unexpected '\(after)' after the host")
            }
            host = address
        } else if let colon = host.lastIndex(of: ":") {
            guard let p = Int(host[host.index(after: colon)...]), (1...65535).contains(p) else { throw fail("the port must be a number from 1 to 65535") }
            port = p
            host = String(host[..<colon])
        }
        guard !host.isEmpty else { throw fail("no host") }
        guard !database.isEmpty, database.removingPercentEncoding != nil else { throw fail("no database name (…/DB)") }
        var mode = environment["PGSSLMODE"].flatMap(SSLMode.init(rawValue:)) ?? .prefer
        for pair in query.split(separator: "&") where !pair.isEmpty {
            let kv = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let key = String(kv[0]), value = kv.count > 1 ? String(kv[1]) : ""
            switch key {
            case "sslmode":
                guard let m = SSLMode(rawValue: value) else {
                    throw fail("sslmode '\(value)' (expected \(SSLMode.allCases.map(\.rawValue).joined(separator: ", ")))")
                }
                mode = m
            case "application_name", "connect_timeout":
                break
            default:
                throw fail("unknown parameter '\(key)' (sslmode is the one read)")
            }
        }
        guard let name = user ?? environment["PGUSER"], !name.isEmpty else { throw fail("no user (USER@HOST, or PGUSER)") }
        self.user = name
        self.password = password ?? environment["PGPASSWORD"]
        self.host = host
        self.port = port
        self.database = database.removingPercentEncoding ?? database
        self.sslMode = mode
    }

    /// Takes the password from a file (its first line), as `store.password_file` says.
    public mutating func readPassword(file: String) throws(StoreError) {
        guard let data = FileManager.default.contents(atPath: file), let text = String(data: data, encoding: .utf8) else {
            throw StoreError("\(file): cannot read the store's password file")
        }
        let line = text.split(separator: "\n", maxSplits: 1, omittingEmptySubsequences: false).first.map(String.init) ?? ""
        guard !line.isEmpty else { throw StoreError("\(file): the store's password file is empty") }
        password = line
    }

    public var description: String {
        let h = host.contains(":") ? "[\(host)]" : host
        return "postgresql://\(user)@\(h):\(port)/\(database)" + (sslMode == .prefer ? "" : "?sslmode=\(sslMode.rawValue)")
    }

    /// A URL text with any password replaced, for an error about the text itself.
    static func redacted(_ text: String) -> String {
        guard let scheme = text.range(of: "://"), let at = text.range(of: "@", options: .backwards),
              at.lowerBound > scheme.upperBound else { return text }
        let credentials = text[scheme.upperBound..<at.lowerBound]
        guard let colon = credentials.firstIndex(of: ":") else { return text }
        return String(text[..<colon]) + ":***" + String(text[at.lowerBound...])
    }
}

/// A value bound to a statement parameter.
enum PGValue: Sendable {
    case int(Int64?)
    case text(String?)
    case bool(Bool?)
    case bytes([UInt8]?)
    /// Arrays (one per column of a batch, unnested by the statement).
    case texts([String])
    case ints([Int64])
    case blobs([ByteBuffer])

    static func int(_ v: Int) -> PGValue { .int(Int64(v)) }
}

/// Whether a statement's answer (or its timeout) came first; touched on one event loop only.
final class AnswerOnce: @unchecked Sendable { var done = false }

/// One connection to PostgreSQL, used synchronously: every call blocks the calling thread
/// (never an event loop's) until the server answers. Not shared between threads.
final class PGLink: @unchecked Sendable {
    let connection: PostgresConnection
    let url: StoreURL
    let logger: Logger

    private init(connection: PostgresConnection, url: StoreURL, logger: Logger) {
        self.connection = connection
        self.url = url
        self.logger = logger
    }

    /// Connects (within `timeout` seconds); the error says why in one line.
    static func connect(_ url: StoreURL, timeout: Int64 = 10, statementTimeout: Int64 = 60) throws(StoreError) -> PGLink {
        var logger = Logger(label: "hnsensor.postgres")
        logger.logLevel = .critical
        let tls: PostgresConnection.Configuration.TLS
        do {
            switch url.sslMode {
            case .disable, .allow: tls = .disable
            case .prefer, .require, .verifyCA:
                var c = TLSConfiguration.makeClientConfiguration()
                c.certificateVerification = .none
                let context = try NIOSSLContext(configuration: c)
                tls = url.sslMode == .prefer ? .prefer(context) : .require(context)
            case .verifyFull:
                tls = .require(try NIOSSLContext(configuration: .makeClientConfiguration()))
            }
        } catch {
            throw StoreError("\(url): cannot set up TLS: \(error)")
        }
        var configuration = PostgresConnection.Configuration(host: url.host, port: url.port, username: url.user, password: url.password,
                                                             database: url.database, tls: tls)
        configuration.options.connectTimeout = .seconds(timeout)
        do {
            let connection = try PostgresConnection.connect(on: MultiThreadedEventLoopGroup.singleton.any(), configuration: configuration,
                                                            id: 1, logger: logger).wait()
            let link = PGLink(connection: connection, url: url, logger: logger)
            link.timeout = statementTimeout
            return link
        } catch {
            throw StoreError("\(url): cannot connect: \(PGLink.describe(error))")
        }
    }

    /// The server's message for a failed statement or connection, in one line.
    static func describe(_ error: any Error) -> String {
        if let e = error as? PSQLError {
            if let info = e.serverInfo, let message = info[.message] {
                return message + (info[.detail].map { " (\($0))" } ?? "")
            }
            if let underlying = e.underlying { return "\(underlying)" }
            return e.code.description
        }
        if let e = error as? PostgresTransactionError {
            if let c = e.closureError { return describe(c) }
            if let c = e.commitError { return describe(c) }
            if let c = e.beginError { return describe(c) }
        }
        return "\(error)"
    }

    func bindings(_ values: [PGValue]) -> PostgresBindings {
        var b = PostgresBindings(capacity: values.count)
        for v in values {
            switch v {
            case .int(let x): b.append(x)
            case .text(let x): b.append(x)
            case .bool(let x): b.append(x)
            case .bytes(let x): b.append(x.map { ByteBuffer(bytes: $0) })
            case .texts(let x): b.append(x)
            case .ints(let x): b.append(x)
            case .blobs(let x): b.append(x)
            }
        }
        return b
    }

    /// Runs one statement and returns its rows.
    @discardableResult
    func query(_ sql: String, _ values: [PGValue] = []) throws(StoreError) -> [PostgresRandomAccessRow] {
        do {
            let result = try answer(connection.query(PostgresQuery(unsafeSQL: sql, binds: bindings(values)), logger: logger))
            return result.rows.map { $0.makeRandomAccess() }
        } catch {
            throw StoreError("\(url): \(PGLink.describe(error))")
        }
    }

    /// Runs one statement and returns its rows as they came (cells read in order: no
    /// lookup table per row, for large reads).
    func rows(_ sql: String, _ values: [PGValue] = []) throws(StoreError) -> [PostgresRow] {
        do {
            return try answer(connection.query(PostgresQuery(unsafeSQL: sql, binds: bindings(values)), logger: logger)).rows
        } catch {
            throw StoreError("\(url): \(PGLink.describe(error))")
        }
    }

    /// Runs one statement and returns how many rows it changed.
    @discardableResult
    func execute(_ sql: String, _ values: [PGValue] = []) throws(StoreError) -> Int {
        do {
            let result = try answer(connection.query(PostgresQuery(unsafeSQL: sql, binds: bindings(values)), logger: logger))
            return result.metadata.rows ?? 0
        } catch {
            throw StoreError("\(url): \(PGLink.describe(error))")
        }
    }

    /// Runs `body` in one transaction: committed when it returns, rolled back when it throws.
    func transaction<T>(_ body: () throws(StoreError) -> T) throws(StoreError) -> T {
        try execute("BEGIN")
        do {
            let value = try body()
            try execute("COMMIT")
            return value
        } catch {
            if !isClosed { _ = try? execute("ROLLBACK") }
            throw error
        }
    }

    /// How long a statement may take before the connection is given up (seconds).
    var timeout: Int64 = 60
    /// Set when a statement outlived `timeout`: the connection is closed and not reused.
    private(set) var broken = false

    struct Closed: Error, CustomStringConvertible {
        var description: String { "the connection is closed" }
    }

    struct Timeout: Error, CustomStringConvertible {
        let seconds: Int64
        var description: String { "no answer within \(seconds) s; the connection was closed" }
    }

    /// Waits for a statement's answer, at most `timeout` seconds: a server that went away
    /// without the connection noticing must not hold the caller forever.
    private func answer<T: Sendable>(_ future: @autoclosure () -> EventLoopFuture<T>) throws -> T {
        // A statement sent on a connection that has closed is never answered (the channel drops
        // it): refuse at once.
        guard !isClosed else { throw Closed() }
        let future = future()
        let once = AnswerOnce()
        let loop = future.eventLoop
        let promise = loop.makePromise(of: T.self)
        let seconds = timeout
        // Both callbacks run on the connection's event loop, one after the other.
        let timer = loop.scheduleTask(in: .seconds(seconds)) {
            if !once.done { once.done = true; promise.fail(Timeout(seconds: seconds)) }
        }
        future.whenComplete { result in
            guard !once.done else { return }
            once.done = true
            timer.cancel()
            promise.completeWith(result)
        }
        do {
            return try promise.futureResult.wait()
        } catch let error as Timeout {
            broken = true
            let closing: EventLoopFuture<Void> = connection.close()
            _ = closing
            throw error
        }
    }

    var isClosed: Bool { broken || connection.isClosed }

    /// A link dropped without `close()` (an owner freed on an error path) closes its
    /// connection on the way out: postgres-nio requires every connection closed.
    deinit {
        if !connection.isClosed {
            let closing: EventLoopFuture<Void> = connection.close()
            _ = closing
        }
    }

    func close() {
        guard !isClosed else { return }
        timeout = 5
        _ = try? answer(connection.close() as EventLoopFuture<Void>)
    }
}

extension PostgresRandomAccessRow {
    func int(_ column: String) -> Int64 { (try? self[column].decode(Int64?.self)).flatMap { $0 } ?? 0 }
    func optionalInt(_ column: String) -> Int64? { (try? self[column].decode(Int64?.self)).flatMap { $0 } }
    func text(_ column: String) -> String { (try? self[column].decode(String?.self)).flatMap { $0 } ?? "" }
    func optionalText(_ column: String) -> String? { (try? self[column].decode(String?.self)).flatMap { $0 } }
    func bool(_ column: String) -> Bool { (try? self[column].decode(Bool?.self)).flatMap { $0 } ?? false }
    func bytes(_ column: String) -> [UInt8]? { (try? self[column].decode(Data?.self)).flatMap { $0 }.map { [UInt8]($0) } }
}

import ArgumentParser
import Foundation
import HNConsole
import HNOutput
import HNSensor
import HNStore
import Hummingbird
import Logging

#if canImport(Glibc)
import Glibc
#endif

/// `hnsensor serve`: the analysts' console on the CSIRT store.
struct Serve: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Serve the analysts' console (incident queue, incident pages, JSON API) on the CSIRT store.")

    @Option(name: .long, help: "Configuration file (YAML): store.path, console.*, constituents and segments.")
    var config: String?
    @Option(name: .long, help: "CSIRT store: a SQLite file or postgresql://USER@HOST[:PORT]/DB. Default: store.url, else store.path of the config.")
    var store: String?
    @Option(name: .long, help: "ADDR:PORT to listen on (default: console.listen of the config, 127.0.0.1:9443). A non-loopback address needs TLS.")
    var listen: String?
    @Option(name: .long, help: "TLS certificate chain (PEM). Default: console.tls_cert of the config.")
    var tlsCert: String?
    @Option(name: .long, help: "TLS private key (PEM). Default: console.tls_key of the config.")
    var tlsKey: String?

    func run() throws {
        let settings = try loadConfig(config)
        guard let spec = try StoreSpec.resolve(store, settings) else {
            throw RuntimeFailure(message: "no store: give --store FILE|URL or set store.path or store.url in the configuration")
        }
        if case .file(let path) = spec, !FileManager.default.fileExists(atPath: path) { throw RuntimeFailure(message: "\(path): no such store") }
        let text = listen ?? settings.console.listen
        guard let (host, port) = Listen.parse(text) else {
            throw RuntimeFailure(message: "--listen '\(text)': expected ADDR:PORT such as 127.0.0.1:9443 or [::1]:9443")
        }
        let cert = tlsCert ?? settings.console.tlsCert, key = tlsKey ?? settings.console.tlsKey
        if (cert == nil) != (key == nil) { throw RuntimeFailure(message: "TLS needs both --tls-cert and --tls-key") }
        let tls = cert.map { TLSFiles(certificate: $0, key: key!) }
        if tls == nil && !Listen.isLoopback(host) {
            throw RuntimeFailure(message: "--listen \(text): a non-loopback address is served only over TLS (give --tls-cert and --tls-key)")
        }
        for file in [cert, key].compactMap({ $0 }) where !FileManager.default.isReadableFile(atPath: file) {
            throw RuntimeFailure(message: "\(file): cannot read the file")
        }
        let incidentStore = try spec.open()
        var consoleSettings = ConsoleSettings()
        consoleSettings.tls = tls != nil
        consoleSettings.sessionLifetime = settings.console.sessionLifetime
        consoleSettings.idleTimeout = settings.console.idleTimeout
        let directory = ConsoleDirectory(sensorName: settings.sensorName, homeNet: settings.homeNet,
                                         segments: settings.segments.map { .init(name: $0.name, networks: $0.networks) },
                                         constituents: settings.constituentInfos)
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = .info
            return handler
        }
        let console: Console
        do { console = try Console(store: incidentStore, directory: directory, settings: consoleSettings) } catch {
            throw RuntimeFailure(message: "\(error)")
        }
        let accounts = (try? incidentStore.accounts().count) ?? 0
        let scheme = tls == nil ? "http" : "https"
        say("hnsensor console on \(scheme)://\(host.contains(":") ? "[\(host)]" : host):\(port)/ (store \(incidentStore.location), \(accounts) accounts)")
        if accounts == 0 { say("no account yet: hnsensor users add NAME --role analyst --store \(incidentStore.location)  (reads the password from standard input)") }
        let result = Blocking.run {
            let app = try console.application(host: host, port: port, tls: tls)
            try await app.runService()
        }
        if case .failure(let error) = result { throw RuntimeFailure(message: "console: \(error)") }
    }
}

/// A line on standard output, written at once (the server runs for long after it).
func say(_ line: String) {
    let bytes = Array((line + "\n").utf8)
    _ = bytes.withUnsafeBytes { write(1, $0.baseAddress, $0.count) }
}

/// Runs async work from a synchronous command and waits for it.
enum Blocking {
    static func run(_ body: @escaping @Sendable () async throws -> Void) -> Result<Void, any Error> {
        let done = DispatchSemaphore(value: 0)
        nonisolated(unsafe) var result: Result<Void, any Error> = .success(())
        Task.detached {
            do { try await body() } catch { result = .failure(error) }
            done.signal()
        }
        done.wait()
        return result
    }
}

enum Listen {
    /// `127.0.0.1:9443`, `[::1]:9443`, `localhost:9443`.
    static func parse(_ text: String) -> (String, Int)? {
        var host: Substring, portText: Substring
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]"), text[text.index(after: close)...].hasPrefix(":") else { return nil }
            host = text[text.index(after: text.startIndex)..<close]
            portText = text[text.index(close, offsetBy: 2)...]
        } else {
            guard let colon = text.lastIndex(of: ":") else { return nil }
            host = text[..<colon]
            portText = text[text.index(after: colon)...]
            if host.contains(":") { return nil }
        }
        guard !host.isEmpty, let port = Int(portText), (1...65535).contains(port) else { return nil }
        return (String(host), port)
    }

    static func isLoopback(_ host: String) -> Bool {
        host == "localhost" || host == "::1" || host.hasPrefix("127.")
    }
}

/// `hnsensor users`: console accounts in the CSIRT store.
struct Users: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Manage the console's accounts (passwords are read from standard input).",
                                                    subcommands: [Add.self, List.self, Passwd.self, Disable.self, Enable.self])

    struct Target: ParsableArguments {
        @Option(name: .long, help: "CSIRT store: a SQLite file (created if missing) or postgresql://USER@HOST[:PORT]/DB. Default: store.url, else store.path of the config.")
        var store: String?
        @Option(name: .long, help: "Configuration file (YAML).")
        var config: String?

        func open() throws -> AccountBook {
            let settings = try loadConfig(config)
            guard let spec = try StoreSpec.resolve(store, settings) else {
                throw RuntimeFailure(message: "no store: give --store FILE|URL or set store.path or store.url in the configuration")
            }
            return AccountBook(store: try spec.open(create: true))
        }
    }

    static var actor: String {
        "cli:" + (ProcessInfo.processInfo.environment["SUDO_USER"] ?? ProcessInfo.processInfo.environment["USER"] ?? "root")
    }

    /// The new password: asked twice without echo on a terminal, else the first line of
    /// standard input. Never an argument (it would show in `ps` and shell history).
    static func readPassword(for name: String) throws -> String {
        if isatty(0) != 0 {
            let first = try prompt("New password for \(name): ")
            let second = try prompt("Again: ")
            guard first == second else { throw RuntimeFailure(message: "the two passwords differ") }
            return first
        }
        guard let line = readLine(strippingNewline: true) else { throw RuntimeFailure(message: "no password on standard input") }
        return line
    }

    static func prompt(_ text: String) throws -> String {
        FileHandle.standardError.write(Data(text.utf8))
        var old = termios()
        tcgetattr(0, &old)
        var quiet = old
        quiet.c_lflag &= ~tcflag_t(ECHO)
        tcsetattr(0, TCSANOW, &quiet)
        defer {
            tcsetattr(0, TCSANOW, &old)
            FileHandle.standardError.write(Data("\n".utf8))
        }
        guard let line = readLine(strippingNewline: true) else { throw RuntimeFailure(message: "no password given") }
        return line
    }

    static func now() -> Int64 { wallClockNanos() }

    struct Add: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Add an account (password from standard input, at least 12 characters).")
        @OptionGroup var target: Target
        @Argument(help: "Account name (a-z, 0-9, '.', '_', '-').") var name: String
        @Option(name: .long, help: "viewer, analyst or admin.") var role: String

        func validate() throws {
            guard Role(rawValue: role) != nil else { throw ValidationError("--role must be viewer, analyst or admin") }
            guard AccountBook.validName(name) else { throw ValidationError("account name '\(name)': use 1 to 64 of a-z, 0-9, '.', '_', '-'") }
        }

        func run() throws {
            let book = try target.open()
            let password = try Users.readPassword(for: name)
            do { try book.add(name: name, role: Role(rawValue: role)!, password: password, actor: Users.actor, at: Users.now()) } catch {
                throw RuntimeFailure(message: error.description)
            }
            print("account \(name) added (\(role))")
        }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List the accounts.")
        @OptionGroup var target: Target

        func run() throws {
            let book = try target.open()
            let accounts: [IncidentStore.Account]
            do { accounts = try book.store.accounts() } catch { throw RuntimeFailure(message: error.description) }
            print("NAME                 ROLE     STATE     CHANGED")
            for a in accounts {
                let name = a.name.padding(toLength: max(20, a.name.count), withPad: " ", startingAt: 0)
                let role = a.role.padding(toLength: 8, withPad: " ", startingAt: 0)
                print("\(name) \(role) \(a.disabled ? "disabled" : "enabled ")  \(String(EVETimeText.format(a.changedAt)))")
            }
        }
    }

    struct Passwd: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Set an account's password (from standard input).")
        @OptionGroup var target: Target
        @Argument(help: "Account name.") var name: String

        func run() throws {
            let book = try target.open()
            let exists: Bool
            do { exists = try book.store.account(name) != nil } catch { throw RuntimeFailure(message: error.description) }
            guard exists else { throw RuntimeFailure(message: "no account '\(name)' in \(book.store.location)") }
            let password = try Users.readPassword(for: name)
            do { try book.setPassword(name: name, password: password, actor: Users.actor, at: Users.now()) } catch {
                throw RuntimeFailure(message: error.description)
            }
            print("password of \(name) changed")
        }
    }

    struct Disable: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Disable an account (its sessions end at their next request).")
        @OptionGroup var target: Target
        @Argument(help: "Account name.") var name: String

        func run() throws {
            let book = try target.open()
            do { try book.setDisabled(name: name, true, actor: Users.actor, at: Users.now()) } catch { throw RuntimeFailure(message: error.description) }
            print("account \(name) disabled")
        }
    }

    struct Enable: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Enable a disabled account.")
        @OptionGroup var target: Target
        @Argument(help: "Account name.") var name: String

        func run() throws {
            let book = try target.open()
            do { try book.setDisabled(name: name, false, actor: Users.actor, at: Users.now()) } catch { throw RuntimeFailure(message: error.description) }
            print("account \(name) enabled")
        }
    }
}

enum EVETimeText {
    static func format(_ ns: Int64) -> String {
        String(EVETime.format(ns).prefix(19)).replacingOccurrences(of: "T", with: " ")
    }
}

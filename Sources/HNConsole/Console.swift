import Foundation
import HNCorrelate
import HNDecode
import HNStore
import HTTPTypes
import Hummingbird
import HummingbirdCore
import HummingbirdAuth
import Logging
import NIOCore
import NIOPosix
import Synchronization

/// What the console knows of the deployment beyond the store: HealthNet's address space and
/// the sensor's name (for exports), the segments' networks (to place hosts).
public struct ConsoleDirectory: Sendable {
    public struct Segment: Sendable {
        public var name: String
        public var networks: [CIDR]
        public init(name: String, networks: [CIDR]) {
            self.name = name
            self.networks = networks
        }
    }
    public var sensorName: String
    public var homeNet: [CIDR]
    public var segments: [Segment]
    /// Empty: the constituents the sensor recorded in the store.
    public var constituents: [ConstituentInfo]
    public init(sensorName: String, homeNet: [CIDR], segments: [Segment] = [], constituents: [ConstituentInfo] = []) {
        self.sensorName = sensorName
        self.homeNet = homeNet
        self.segments = segments
        self.constituents = constituents
    }
}

public struct ConsoleSettings: Sendable {
    /// Nanoseconds: a session ends this long after login, or after this long without a request.
    public var sessionLifetime: Int64 = 8 * 3_600_000_000_000
    public var idleTimeout: Int64 = 30 * 60_000_000_000
    /// Cookies marked Secure and HSTS sent: the console is served over TLS.
    public var tls = false
    public var bcryptCost: UInt8 = 12
    public var throttle = LoginThrottle.Limits()
    /// Incidents per queue page.
    public var pageSize = 50
    /// The console's clock (wall time, nanoseconds); tests move it.
    public var now: @Sendable () -> Int64 = { Int64(Date().timeIntervalSince1970 * 1_000_000_000) }
    public init() {}
}

/// The analysts' console over one CSIRT store: HTML pages and the JSON API under /api/v1,
/// with accounts, sessions, CSRF tokens and security headers.
public final class Console: Sendable {
    public let store: any CSIRTStore
    public let accounts: AccountBook
    public let directory: ConsoleDirectory
    public let settings: ConsoleSettings
    public let throttle: LoginThrottle
    let views: Views
    let logger: Logger
    /// When the planner's statistics were last refreshed (console clock); nil: never.
    let statisticsAt = Mutex<Int64?>(nil)
    static let statisticsInterval: Int64 = 600 * 1_000_000_000
    /// The queue's rendered body per query string, kept for `queueCacheLifetime` (console
    /// clock) and dropped at once by any change made through the console: every analyst
    /// reloads the same first pages, and a sensor's new alerts show within that second.
    let queueCache = Mutex(QueueCache())
    static let queueCacheLifetime: Int64 = 1_000_000_000
    static let queueCacheEntries = 256

    public init(store: any CSIRTStore, directory: ConsoleDirectory, settings: ConsoleSettings = ConsoleSettings(),
                logger: Logger = Logger(label: "hnsensor.console")) throws {
        self.store = store
        self.directory = directory
        self.settings = settings
        self.accounts = AccountBook(store: store, cost: settings.bcryptCost)
        self.throttle = LoginThrottle(limits: settings.throttle)
        self.views = try Views()
        self.logger = logger
    }

    /// Refreshes the store's planner statistics if they are older than ten minutes (from a
    /// queue request, on the thread pool). A failure is logged and the queue still answers.
    func refreshStatisticsIfDue() {
        let now = settings.now()
        let due = statisticsAt.withLock { last -> Bool in
            guard last.map({ now - $0 >= Console.statisticsInterval }) ?? true else { return false }
            last = now
            return true
        }
        guard due else { return }
        do { try store.refreshStatistics() } catch { logger.warning("planner statistics not refreshed", metadata: ["error": "\(error)"]) }
    }

    /// Runs store and bcrypt work on NIO's thread pool, off the server's event loops.
    func blocking<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await NIOThreadPool.singleton.runIfActive(body)
    }

    /// The router with every page and API call.
    public func router(sessions: any PersistDriver) -> Router<ConsoleContext> {
        let router = Router(context: ConsoleContext.self)
        router.add(middleware: SecurityHeaders(tls: settings.tls, logger: logger))
        let cookie = SessionCookieParameters(name: "hn_session", path: "/", secure: settings.tls, sameSite: .strict)
        router.add(middleware: SessionMiddleware(storage: sessions, configuration: .init(
            sessionCookieParameters: cookie, keyPrefix: "hn.session.", defaultSessionExpiration: .nanoseconds(settings.sessionLifetime))))
        router.add(middleware: SessionCheck(console: self))
        addPages(to: router)
        addAPI(to: router)
        return router
    }

    /// An application serving the console on `host:port` (TLS when `tls` is given).
    public func application(host: String, port: Int, tls: TLSFiles? = nil) throws -> some ApplicationProtocol {
        let sessions = MemoryPersistDriver()
        let server: HTTPServerBuilder = try tls.map { try $0.serverBuilder() } ?? .http1()
        return Application(router: router(sessions: sessions), server: server,
                           configuration: .init(address: .hostname(host, port: port), serverName: "hnsensor"),
                           services: [sessions], logger: logger)
    }

    // MARK: Signing in

    /// Checks a login; on success makes the session and returns it. Refusals are logged
    /// (never the password) and counted by the throttle.
    func signIn(name: String, password: String, context: ConsoleContext, api: Bool) async throws -> ConsoleSession {
        let now = settings.now()
        let address = context.clientAddress
        if let wait = throttle.retryAfter(account: name, address: address, now: now) {
            logger.warning("login refused: too many attempts", metadata: ["account": "\(name)", "address": "\(address)"])
            throw ConsoleError(status: .tooManyRequests, message: "too many failed logins; try again in \(wait) s", api: api, retryAfter: wait)
        }
        let accounts = self.accounts
        let verified = try await blocking { try accounts.verify(name: name, password: password) }
        guard let (account, _) = verified else {
            throttle.failed(account: name, address: address, now: now)
            logger.warning("login refused: wrong name or password", metadata: ["account": "\(name)", "address": "\(address)"])
            throw ConsoleError(status: .unauthorized, message: "wrong name or password (or the account is disabled)", api: api)
        }
        throttle.succeeded(account: name)
        let session = ConsoleSession(account: account.name, csrf: Console.token(), created: now, lastSeen: now)
        context.sessions.createSession(session, expiresIn: .nanoseconds(settings.sessionLifetime))
        logger.notice("login", metadata: ["account": "\(account.name)", "address": "\(address)"])
        return session
    }

    func signOut(context: ConsoleContext) {
        if let who = context.signedIn {
            logger.notice("logout", metadata: ["account": "\(who.name)", "address": "\(context.clientAddress)"])
        }
        context.sessions.clearSession()
    }

    /// 32 random bytes, hex: session CSRF tokens and the login form's token.
    static func token() -> String {
        var generator = SystemRandomNumberGenerator()
        return (0..<32).map { _ in String(format: "%02x", UInt8.random(in: 0...255, using: &generator)) }.joined()
    }

    /// Compares two tokens in time independent of where they differ.
    static func same(_ a: String, _ b: String) -> Bool {
        let x = Array(a.utf8), y = Array(b.utf8)
        guard x.count == y.count, !x.isEmpty else { return false }
        var diff: UInt8 = 0
        for i in x.indices { diff |= x[i] ^ y[i] }
        return diff == 0
    }

    /// The signed-in account, or a refusal: pages redirect to the login form, the API answers 401.
    func require(_ request: Request, _ context: ConsoleContext, api: Bool) throws -> SignedIn {
        guard let who = context.signedIn else {
            if api { throw ConsoleError(status: .unauthorized, message: "not signed in (POST /api/v1/login)", api: true) }
            var target = request.uri.path
            if let q = request.uri.query, !q.isEmpty { target += "?" + q }
            throw ConsoleError.redirect("/login?next=" + (target.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "/"))
        }
        return who
    }

    /// A state-changing request's CSRF token (form field or X-CSRF-Token header) must be the session's.
    func checkCSRF(_ who: SignedIn, token: String?, api: Bool) throws {
        guard let token, Console.same(token, who.csrf) else {
            logger.warning("request refused: missing or wrong CSRF token", metadata: ["account": "\(who.name)"])
            throw ConsoleError(status: .forbidden, message: "missing or wrong CSRF token", api: api)
        }
    }

    func refuse(_ who: SignedIn, _ what: String, api: Bool) -> ConsoleError {
        logger.warning("request refused: role", metadata: ["account": "\(who.name)", "role": "\(who.role.rawValue)", "wanted": "\(what)"])
        return ConsoleError(status: .forbidden, message: "the \(who.role.rawValue) role may not \(what)", api: api)
    }
}

/// The TLS certificate and key of `serve --tls-cert --tls-key` (PEM files).
public struct TLSFiles: Sendable {
    public var certificate: String
    public var key: String
    public init(certificate: String, key: String) {
        self.certificate = certificate
        self.key = key
    }
}

/// Security headers on every answer, errors included: a strict Content-Security-Policy (only
/// the console's own script and style), no framing, no sniffing, no referrer, no caching of
/// pages with incident data, HSTS under TLS.
struct SecurityHeaders: RouterMiddleware {
    typealias Context = ConsoleContext
    let tls: Bool
    let logger: Logger

    static let policy = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; "
        + "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var response: Response
        let api = request.uri.path.hasPrefix("/api/")
        do {
            response = try await next(request, context)
        } catch let error as ConsoleError {
            response = try error.response(from: request, context: context)
        } catch let error as any HTTPResponseError {
            let message = error.status == .notFound ? "no such page: \(request.uri.path)" : "\(error.status.reasonPhrase)"
            response = try ConsoleError(status: error.status, message: message, api: api).response(from: request, context: context)
        } catch {
            logger.error("request failed", metadata: ["path": "\(request.uri.path)", "error": "\(error)"])
            response = try ConsoleError(status: .internalServerError, message: "internal error: \(error)", api: api)
                .response(from: request, context: context)
        }
        response.headers[.contentSecurityPolicy] = SecurityHeaders.policy
        response.headers[.xContentTypeOptions] = "nosniff"
        response.headers[HTTPField.Name("X-Frame-Options")!] = "DENY"
        response.headers[HTTPField.Name("Referrer-Policy")!] = "no-referrer"
        response.headers[HTTPField.Name("Cross-Origin-Opener-Policy")!] = "same-origin"
        response.headers[HTTPField.Name("Cross-Origin-Resource-Policy")!] = "same-origin"
        response.headers[HTTPField.Name("Permissions-Policy")!] = "camera=(), microphone=(), geolocation=(), interest-cohort=()"
        if response.headers[.cacheControl] == nil { response.headers[.cacheControl] = "no-store" }
        if tls { response.headers[.strictTransportSecurity] = "max-age=31536000" }
        return response
    }
}

/// Reads the session: ends it past its lifetime or idle timeout or when the account was
/// disabled or removed; otherwise names the signed-in account for the handlers.
struct SessionCheck: RouterMiddleware {
    typealias Context = ConsoleContext
    let console: Console

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var context = context
        if let session = context.sessions.session {
            let now = console.settings.now()
            let store = console.store
            if now - session.created > console.settings.sessionLifetime || now - session.lastSeen > console.settings.idleTimeout {
                console.logger.info("session expired", metadata: ["account": "\(session.account)"])
                context.sessions.clearSession()
            } else if let account = try await console.blocking({ try store.account(session.account) }), !account.disabled,
                      let role = Role(rawValue: account.role) {
                context.signedIn = SignedIn(name: account.name, role: role, csrf: session.csrf)
                if now - session.lastSeen > 30_000_000_000 {
                    var touched = session
                    touched.lastSeen = now
                    _ = context.sessions.updateSession(touched)
                }
            } else {
                context.sessions.clearSession()
            }
        }
        return try await next(request, context)
    }
}

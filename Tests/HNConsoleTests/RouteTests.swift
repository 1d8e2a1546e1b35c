import Foundation
@testable import HNConsole
import HNCorrelate
import HNDecode
import HNStore
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import Synchronization
import Testing

/// A store with three incidents and one account per role, and a console on it whose clock the
/// test moves.
final class ConsoleFixture: Sendable {
    let dir: URL
    let store: IncidentStore
    let console: Console
    let clock = TestClock()

    init(limits: LoginThrottle.Limits = LoginThrottle.Limits()) throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("hn-routes-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        store = try IncidentStore(path: dir.appendingPathComponent("s.db").path)
        var batch = CorrelationBatch()
        for (id, priority) in [(1, 3), (2, 1), (3, 2)] as [(Int64, Int)] {
            var i = Incident(id: id, ruleID: "rule-\(id)", groupKey: "k\(id)", title: "Incident number \(id)", taxonomy: "intrusion-attempts",
                             type: "exploit", firstSeen: 1_000 * id, lastSeen: 2_000 * id, severity: 2)
            i.priority = priority
            i.priorityReason = "reason \(id)"
            i.sources = ["198.51.100.\(id)"]
            i.targets = ["10.20.2.80"]
            batch.incidents.append(i)
            batch.opened.append(id)
        }
        try store.commit(batch, actor: "test")
        var settings = ConsoleSettings()
        settings.bcryptCost = 4
        settings.throttle = limits
        let clock = self.clock
        settings.now = { clock.now }
        console = try Console(store: store, directory: ConsoleDirectory(sensorName: "s", homeNet: []), settings: settings)
        let book = AccountBook(store: store, cost: 4)
        for role in Role.allCases {
            try book.add(name: role.rawValue + "1", role: role, password: "password-of-\(role.rawValue)", actor: "test", at: 1)
        }
    }

    deinit { try? FileManager.default.removeItem(at: dir) }

    func advance(seconds: Int64) { clock.value.withLock { $0 += seconds * 1_000_000_000 } }

    var app: some ApplicationProtocol {
        Application(router: console.router(sessions: MemoryPersistDriver()))
    }
}

final class TestClock: Sendable {
    let value = Mutex<Int64>(1_800_000_000_000_000_000)
    var now: Int64 { value.withLock { $0 } }
}

struct Signed: Sendable {
    var cookie: String
    var csrf: String
}

func body(_ text: String) -> ByteBuffer { ByteBuffer(string: text) }

func login(_ client: some TestClientProtocol, _ name: String, _ password: String) async throws -> (HTTPResponse.Status, Signed?) {
    try await client.execute(uri: "/api/v1/login", method: .post, headers: [.contentType: "application/json"],
                             body: body("{\"username\":\"\(name)\",\"password\":\"\(password)\"}")) { response in
        guard response.status == .ok, let set = response.headers[.setCookie],
              let object = try JSONSerialization.jsonObject(with: Data(buffer: response.body)) as? [String: Any],
              let csrf = object["csrf_token"] as? String else { return (response.status, nil) }
        return (response.status, Signed(cookie: String(set.split(separator: ";")[0]), csrf: csrf))
    }
}

@Suite struct ConsoleRouteTests {
    @Test func everyRoleReadsTheQueueAndTheIncidentMostUrgentFirst() async throws {
        let f = try ConsoleFixture()
        try await f.app.test(.router) { client in
            for role in Role.allCases {
                let (_, s) = try await login(client, role.rawValue + "1", "password-of-\(role.rawValue)")
                let signed = try #require(s)
                try await client.execute(uri: "/api/v1/incidents", method: .get, headers: [.cookie: signed.cookie]) { r in
                    #expect(r.status == .ok)
                    let list = try #require(try JSONSerialization.jsonObject(with: Data(buffer: r.body)) as? [[String: Any]])
                    #expect(list.compactMap { $0["id"] as? Int } == [2, 3, 1])
                }
                try await client.execute(uri: "/incidents", method: .get, headers: [.cookie: signed.cookie]) { r in
                    #expect(r.status == .ok)
                    let html = String(buffer: r.body)
                    let order = ["/incidents/2\"", "/incidents/3\"", "/incidents/1\""].compactMap { html.range(of: $0)?.lowerBound }
                    #expect(order.count == 3 && order == order.sorted())
                }
                try await client.execute(uri: "/incidents/2", method: .get, headers: [.cookie: signed.cookie]) { r in
                    #expect(r.status == .ok)
                    #expect(String(buffer: r.body).contains("reason 2"))
                    #expect(String(buffer: r.body).contains("status-form") == role.changesIncidents)
                }
            }
        }
    }

    @Test func aViewerIsRefusedEveryChangeAndExport() async throws {
        let f = try ConsoleFixture()
        try await f.app.test(.router) { client in
            let signed = try #require(try await login(client, "viewer1", "password-of-viewer").1)
            let headers: HTTPFields = [.cookie: signed.cookie, .contentType: "application/json", HTTPField.Name("X-CSRF-Token")!: signed.csrf]
            try await client.execute(uri: "/api/v1/incidents/2", method: .patch, headers: headers, body: body("{\"status\":\"qualification\"}")) { r in
                #expect(r.status == .forbidden)
            }
            try await client.execute(uri: "/api/v1/incidents/2/export?format=misp", method: .get, headers: headers) { r in #expect(r.status == .forbidden) }
            try await client.execute(uri: "/incidents/2/update", method: .post,
                                     headers: [.cookie: signed.cookie, .contentType: "application/x-www-form-urlencoded"],
                                     body: body("csrf_token=\(signed.csrf)&note=hello")) { r in #expect(r.status == .forbidden) }
        }
        #expect(try f.store.audit(incident: 2).map(\.action) == ["opened"])
    }

    @Test func anAnalystMovesThroughTheLifecycleAndARefusedMoveNamesTheAllowedOnes() async throws {
        let f = try ConsoleFixture()
        try await f.app.test(.router) { client in
            let signed = try #require(try await login(client, "analyst1", "password-of-analyst").1)
            let headers: HTTPFields = [.cookie: signed.cookie, .contentType: "application/json", HTTPField.Name("X-CSRF-Token")!: signed.csrf]
            try await client.execute(uri: "/api/v1/incidents/2", method: .patch, headers: headers, body: body("{\"status\":\"closed\"}")) { r in
                #expect(r.status == .conflict)
                let object = try #require(try JSONSerialization.jsonObject(with: Data(buffer: r.body)) as? [String: Any])
                #expect(object["allowed"] as? [String] == ["qualification", "false-positive", "duplicate"])
            }
            for status in ["qualification", "containment", "investigation", "remediation", "hardening", "closed"] {
                try await client.execute(uri: "/api/v1/incidents/2", method: .patch, headers: headers, body: body("{\"status\":\"\(status)\"}")) { r in
                    #expect(r.status == .ok)
                }
            }
            try await client.execute(uri: "/api/v1/incidents/2/export?format=report", method: .get, headers: headers) { r in
                #expect(r.status == .ok)
                #expect(r.headers[.contentDisposition]?.contains("incident-2-report.md") == true)
            }
        }
        let audit = try f.store.audit(incident: 2)
        #expect(audit.filter { $0.action == "status" }.map(\.actor) == Array(repeating: "analyst1", count: 6))
        #expect(try f.store.incident(2)?.status == .closed)
    }

    @Test func changesWithoutTheCSRFTokenAreRefused() async throws {
        let f = try ConsoleFixture()
        try await f.app.test(.router) { client in
            let signed = try #require(try await login(client, "analyst1", "password-of-analyst").1)
            try await client.execute(uri: "/api/v1/incidents/2", method: .patch, headers: [.cookie: signed.cookie, .contentType: "application/json"],
                                     body: body("{\"note\":\"x\"}")) { r in #expect(r.status == .forbidden) }
            try await client.execute(uri: "/incidents/2/update", method: .post,
                                     headers: [.cookie: signed.cookie, .contentType: "application/x-www-form-urlencoded"],
                                     body: body("csrf_token=0000&note=x")) { r in #expect(r.status == .forbidden) }
        }
        #expect(try f.store.audit(incident: 2).count == 1)
    }

    @Test func anIdleSessionExpiresAndAWrongPasswordIsRefused() async throws {
        let f = try ConsoleFixture()
        try await f.app.test(.router) { client in
            let wrong = try await login(client, "analyst1", "not-the-password").0
            let unknown = try await login(client, "nobody", "not-the-password").0
            #expect(wrong == .unauthorized && unknown == .unauthorized)
            let signed = try #require(try await login(client, "analyst1", "password-of-analyst").1)
            f.advance(seconds: 31 * 60)
            try await client.execute(uri: "/api/v1/incidents", method: .get, headers: [.cookie: signed.cookie]) { r in #expect(r.status == .unauthorized) }
            try await client.execute(uri: "/incidents", method: .get, headers: [.cookie: signed.cookie]) { r in
                #expect(r.status == .seeOther)
                #expect(r.headers[.location]?.hasPrefix("/login") == true)
            }
        }
    }

    @Test func failedLoginsPastTheLimitAreThrottledEvenWithTheRightPassword() async throws {
        var limits = LoginThrottle.Limits()
        limits.perAccount = 3
        let f = try ConsoleFixture(limits: limits)
        try await f.app.test(.router) { client in
            for _ in 0..<3 {
                let wrong = try await login(client, "analyst1", "wrong-password-x").0
                #expect(wrong == .unauthorized)
            }
            let throttled = try await login(client, "analyst1", "password-of-analyst").0
            #expect(throttled == .tooManyRequests)
            f.advance(seconds: 16 * 60)
            let later = try await login(client, "analyst1", "password-of-analyst").0
            #expect(later == .ok)
        }
    }

    @Test func everyAnswerCarriesTheSecurityHeaders() async throws {
        let f = try ConsoleFixture()
        try await f.app.test(.router) { client in
            for uri in ["/login", "/incidents", "/api/v1/incidents", "/no/such/page", "/api/v1/openapi.json"] {
                try await client.execute(uri: uri, method: .get) { r in
                    #expect(r.headers[.contentSecurityPolicy]?.contains("default-src 'none'") == true, "\(uri)")
                    #expect(r.headers[.xContentTypeOptions] == "nosniff", "\(uri)")
                    #expect(r.headers[HTTPField.Name("X-Frame-Options")!] == "DENY", "\(uri)")
                }
            }
            try await client.execute(uri: "/api/v1/login", method: .post, headers: [.contentType: "application/json"],
                                     body: body("{\"username\":\"analyst1\",\"password\":\"password-of-analyst\"}")) { r in
                let cookie = r.headers[.setCookie] ?? ""
                #expect(cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"))
            }
        }
    }

    @Test func eachRoleGetsEveryPageItMayReadAndIsRefusedTheOthers() async throws {
        let f = try ConsoleFixture()
        try await f.app.test(.router) { client in
            for role in Role.allCases {
                let signed = try #require(try await login(client, "\(role.rawValue)1", "password-of-\(role.rawValue)").1)
                let expected: [(String, Bool)] = [
                    ("/incidents", true), ("/incidents/2", true), ("/sensors", true), ("/api/v1/incidents", true),
                    ("/api/v1/incidents/2", true), ("/api/v1/sensors", true), ("/api/v1/openapi.json", true),
                    ("/incidents/2/export?format=misp", role.exports), ("/incidents/2/export?format=stix", role.exports),
                    ("/incidents/2/export?format=report", role.exports), ("/api/v1/incidents/2/export?format=stix", role.exports),
                    ("/accounts", role.managesAccounts),
                ]
                for (uri, allowed) in expected {
                    try await client.execute(uri: uri, method: .get, headers: [.cookie: signed.cookie]) { r in
                        #expect(r.status == (allowed ? .ok : .forbidden), "\(role) \(uri)")
                    }
                }
                try await client.execute(uri: "/incidents/99", method: .get, headers: [.cookie: signed.cookie]) { r in #expect(r.status == .notFound) }
                try await client.execute(uri: "/api/v1/incidents/2/export?format=pdf", method: .get, headers: [.cookie: signed.cookie]) { r in
                    #expect(r.status == (role.exports ? .badRequest : .forbidden))
                }
            }
            for uri in ["/incidents", "/sensors", "/accounts"] {
                try await client.execute(uri: uri, method: .get) { r in
                    #expect(r.status == .seeOther, "\(uri) without a session")
                }
            }
            try await client.execute(uri: "/api/v1/incidents/2", method: .get) { r in #expect(r.status == .unauthorized) }
        }
    }

    @Test func queueFiltersAndPagingComeFromTheURL() async throws {
        let f = try ConsoleFixture()
        try await f.app.test(.router) { client in
            let signed = try #require(try await login(client, "viewer1", "password-of-viewer").1)
            func ids(_ query: String) async throws -> [Int] {
                try await client.execute(uri: "/api/v1/incidents" + query, method: .get, headers: [.cookie: signed.cookie]) { r in
                    #expect(r.status == .ok, "\(query)")
                    let list = try JSONSerialization.jsonObject(with: Data(buffer: r.body)) as? [[String: Any]] ?? []
                    return list.compactMap { $0["id"] as? Int }
                }
            }
            #expect(try await ids("") == [2, 3, 1])
            #expect(try await ids("?priority=P1") == [2])
            #expect(try await ids("?priority=P2") == [2, 3])
            #expect(try await ids("?q=number%203") == [3])
            #expect(try await ids("?limit=2&offset=1") == [3, 1])
            #expect(try await ids("?status=closed") == [])
            try await client.execute(uri: "/api/v1/incidents?status=sleeping", method: .get, headers: [.cookie: signed.cookie]) { r in
                #expect(r.status == .badRequest)
                #expect(String(buffer: r.body).contains("status"))
            }
            try await client.execute(uri: "/api/v1/incidents?priority=1", method: .get, headers: [.cookie: signed.cookie]) { r in
                #expect(r.status == .badRequest)
            }
            try await client.execute(uri: "/incidents?priority=P2", method: .get, headers: [.cookie: signed.cookie]) { r in
                let html = String(buffer: r.body)
                #expect(html.contains("/incidents/3\"") && html.contains("/incidents/2\"") && !html.contains("/incidents/1\""))
            }
        }
    }

    @Test func theLoginFormNeedsItsCookieTokenAndLogoutEndsTheSession() async throws {
        let f = try ConsoleFixture()
        try await f.app.test(.router) { client in
            let (cookie, token) = try await client.execute(uri: "/login", method: .get) { r in
                let set = r.headers[.setCookie] ?? ""
                let html = String(buffer: r.body)
                let marker = "name=\"csrf_token\" value=\""
                let start = try #require(html.range(of: marker)).upperBound
                return (String(set.split(separator: ";")[0]), String(html[start...].prefix(64)))
            }
            let form: HTTPFields = [.cookie: cookie, .contentType: "application/x-www-form-urlencoded"]
            try await client.execute(uri: "/login", method: .post, headers: [.contentType: "application/x-www-form-urlencoded"],
                                     body: body("csrf_token=\(token)&username=analyst1&password=password-of-analyst")) { r in
                #expect(r.status == .forbidden)
            }
            let session = try await client.execute(uri: "/login", method: .post, headers: form,
                                                   body: body("csrf_token=\(token)&username=analyst1&password=password-of-analyst&next=%2Fsensors")) { r in
                #expect(r.status == .seeOther)
                #expect(r.headers[.location] == "/sensors")
                return String((r.headers[.setCookie] ?? "").split(separator: ";")[0])
            }
            let csrf = try await client.execute(uri: "/incidents/2", method: .get, headers: [.cookie: session]) { r in
                let html = String(buffer: r.body)
                let start = try #require(html.range(of: "name=\"csrf_token\" value=\"")).upperBound
                return String(html[start...].prefix(64))
            }
            try await client.execute(uri: "/logout", method: .post, headers: [.cookie: session, .contentType: "application/x-www-form-urlencoded"],
                                     body: body("csrf_token=\(csrf)")) { r in
                #expect(r.status == .seeOther)
            }
            try await client.execute(uri: "/incidents", method: .get, headers: [.cookie: session]) { r in #expect(r.status == .seeOther) }
        }
    }

    @Test func theQueueShowsAConsoleChangeAtOnceAndTheSensorsWithinASecond() async throws {
        let f = try ConsoleFixture()
        try await f.app.test(.router) { client in
            let signed = try #require(try await login(client, "analyst1", "password-of-analyst").1)
            func row(_ id: Int) async throws -> String {
                try await client.execute(uri: "/incidents?status=all", method: .get, headers: [.cookie: signed.cookie]) { r in
                    let html = String(buffer: r.body)
                    guard let start = html.range(of: "<tr data-href=\"/incidents/\(id)\"") else { return "" }
                    return String(html[start.lowerBound...].prefix(while: { $0 != "\u{0}" }).split(separator: "</tr>")[0])
                }
            }
            #expect(try await row(2).contains("<td>new</td>"))
            let headers: HTTPFields = [.cookie: signed.cookie, .contentType: "application/json", HTTPField.Name("X-CSRF-Token")!: signed.csrf]
            try await client.execute(uri: "/api/v1/incidents/2", method: .patch, headers: headers, body: body("{\"status\":\"qualification\"}")) { r in
                #expect(r.status == .ok)
            }
            #expect(try await row(2).contains("<td>qualification</td>"), "a change made in the console shows at once")
            _ = try f.store.update(3, status: .qualification, assignee: nil, note: nil, actor: "cli", at: 5)
            #expect(try await row(3).contains("<td>new</td>"), "another writer's change waits for the cached second")
            f.advance(seconds: 1)
            #expect(try await row(3).contains("<td>qualification</td>"))
            let body = try await client.execute(uri: "/incidents", method: .get, headers: [.cookie: signed.cookie]) { String(buffer: $0.body) }
            #expect(body.contains("analyst1") && body.contains(signed.csrf), "the bar is the account's own")
            let viewer = try #require(try await login(client, "viewer1", "password-of-viewer").1)
            let seen = try await client.execute(uri: "/incidents", method: .get, headers: [.cookie: viewer.cookie]) { String(buffer: $0.body) }
            #expect(seen.contains("viewer1") && seen.contains(viewer.csrf) && !seen.contains(signed.csrf) && !seen.contains("analyst1"),
                    "a cached queue carries no other account's bar")
        }
    }

    @Test func onlyAnAdminManagesAccountsAndNotTheirOwnDemotion() async throws {
        let f = try ConsoleFixture()
        try await f.app.test(.router) { client in
            let admin = try #require(try await login(client, "admin1", "password-of-admin").1)
            let analyst = try #require(try await login(client, "analyst1", "password-of-analyst").1)
            let form = "application/x-www-form-urlencoded"
            try await client.execute(uri: "/accounts", method: .post, headers: [.cookie: analyst.cookie, .contentType: form],
                                     body: body("csrf_token=\(analyst.csrf)&name=carol&role=admin&password=a-long-password-1")) { r in
                #expect(r.status == .forbidden)
            }
            try await client.execute(uri: "/accounts", method: .post, headers: [.cookie: admin.cookie, .contentType: form],
                                     body: body("csrf_token=\(admin.csrf)&name=carol&role=analyst&password=short")) { r in
                #expect(r.status == .badRequest)
            }
            try await client.execute(uri: "/accounts", method: .post, headers: [.cookie: admin.cookie, .contentType: form],
                                     body: body("csrf_token=\(admin.csrf)&name=carol&role=analyst&password=a-long-password-1")) { r in
                #expect(r.status == .seeOther)
            }
            try await client.execute(uri: "/accounts/admin1", method: .post, headers: [.cookie: admin.cookie, .contentType: form],
                                     body: body("csrf_token=\(admin.csrf)&state=disabled")) { r in
                #expect(r.status == .conflict)
            }
            try await client.execute(uri: "/accounts/carol", method: .post, headers: [.cookie: admin.cookie, .contentType: form],
                                     body: body("csrf_token=\(admin.csrf)&state=disabled")) { r in
                #expect(r.status == .seeOther)
            }
            let carol = try await login(client, "carol", "a-long-password-1").0
            #expect(carol == .unauthorized)
        }
        #expect(try f.store.account("carol")?.disabled == true)
        #expect(try f.store.account("admin1")?.disabled == false)
        let audit = try f.store.accountAudit().filter { $0.account == "carol" }
        #expect(audit.allSatisfy { $0.actor == "admin1" } && audit.count == 2)
    }
}

@Suite struct QueueRowsTests {
    @Test func everyValueOfAQueueRowIsEscaped() throws {
        var i = Incident(id: 7, ruleID: "r", groupKey: "g", title: "<script>alert('x')</script> & \"more\"", taxonomy: "other",
                         type: "other", firstSeen: 0, lastSeen: 1_000_000_000, severity: 2)
        i.priority = 1
        i.assignee = "<b>eve</b>"
        i.reportable = true
        i.reportDeadline = 0
        let html = Views.rowsHTML([i], now: 5_000_000_000)
        #expect(!html.contains("<script>") && !html.contains("<b>"))
        #expect(html.contains("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &quot;more&quot;"))
        #expect(html.contains("&lt;b&gt;eve&lt;/b&gt;"))
        #expect(html.contains("<tr data-href=\"/incidents/7\" class=\"p1 reportable overdue\">"))
        #expect(html.contains("1970-01-01 00:00:00 overdue</span>"))
    }
}

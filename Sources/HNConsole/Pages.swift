import Foundation
import HNCorrelate
import HNReport
import HNStore
import HTTPTypes
import Hummingbird
import HummingbirdCore
import HummingbirdAuth
import NIOCore

/// The queue's and the API's filters, read from the query string, as in the CLI:
/// status (comma-separated, `open` for every open phase, `all`), priority (P1..P4: that or
/// more urgent), class, constituent, segment, assignee (`-`: unassigned), q (text), since,
/// page / limit and offset.
struct QueueQuery {
    var filter = IncidentStore.Filter()
    var statusText = "open"
    var page = 1

    init(_ uri: URI, api: Bool, pageSize: Int) throws {
        let q = uri.queryParameters
        func value(_ key: String) -> String? {
            guard let v = q[key[...]].map(String.init)?.trimmingCharacters(in: .whitespaces), !v.isEmpty else { return nil }
            return v
        }
        statusText = value("status") ?? (api ? "all" : "open")
        if statusText != "all" {
            guard let statuses = IncidentStore.Filter.statuses(statusText) else {
                throw ConsoleError(status: .badRequest, message: "status: unknown status in '\(statusText)' (open, all or "
                                   + IncidentStatus.allCases.map(\.rawValue).joined(separator: ", ") + ")", api: api)
            }
            filter.status = statuses
        }
        if let p = value("priority") {
            guard let n = IncidentStore.Filter.priority(p) else {
                throw ConsoleError(status: .badRequest, message: "priority: expected P1, P2, P3 or P4, not '\(p)'", api: api)
            }
            filter.priority = n
        }
        if let s = value("since") {
            guard let t = IncidentStore.Filter.time(s) else {
                throw ConsoleError(status: .badRequest, message: "since: expected 2026-11-02 or 2026-11-02T08:00:00, not '\(s)'", api: api)
            }
            filter.since = t
        }
        filter.classification = value("class")
        filter.constituent = value("constituent")
        filter.segment = value("segment")
        filter.assignee = value("assignee")
        filter.text = value("q")
        func number(_ key: String, _ range: ClosedRange<Int>) throws -> Int? {
            guard let v = value(key) else { return nil }
            guard let n = Int(v), range.contains(n) else {
                throw ConsoleError(status: .badRequest, message: "\(key): expected a number from \(range.lowerBound) to \(range.upperBound), not '\(v)'", api: api)
            }
            return n
        }
        if api {
            filter.limit = try number("limit", 1...10_000)
            filter.offset = try number("offset", 0...Int(Int32.max)) ?? 0
        } else {
            page = try number("page", 1...1_000_000) ?? 1
            filter.limit = pageSize
            filter.offset = (page - 1) * pageSize
        }
    }

    /// The query string of this filter with some keys changed (nil removes).
    func link(_ changes: [String: String?] = [:]) -> String {
        var pairs: [(String, String)] = []
        let f = filter
        var values: [String: String?] = [
            "status": statusText == "open" ? nil : statusText, "priority": f.priority.map { "P\($0)" }, "class": f.classification,
            "constituent": f.constituent, "segment": f.segment, "assignee": f.assignee, "q": f.text, "page": page > 1 ? String(page) : nil,
        ]
        for (k, v) in changes { values[k] = v }
        for key in ["status", "priority", "class", "constituent", "segment", "assignee", "q", "page"] {
            if let v = values[key] ?? nil { pairs.append((key, v)) }
        }
        let allowed = CharacterSet.alphanumerics.union(CharacterSet(charactersIn: "-._~"))
        let query = pairs.map { "\($0.0)=\($0.1.addingPercentEncoding(withAllowedCharacters: allowed) ?? "")" }.joined(separator: "&")
        return "/incidents" + (query.isEmpty ? "" : "?" + query)
    }
}

struct LoginForm: Decodable {
    var username: String?
    var password: String?
    var csrf_token: String?
    var next: String?
}

struct UpdateForm: Decodable {
    var csrf_token: String?
    var status: String?
    var assignee: String?
    var note: String?
    var reported: String?
}

struct AccountForm: Decodable {
    var csrf_token: String?
    var name: String?
    var role: String?
    var state: String?
    var password: String?
}

extension Console {
    func html(_ body: String, status: HTTPResponse.Status = .ok) -> Response {
        Response(status: status, headers: [.contentType: "text/html; charset=utf-8"], body: .init(byteBuffer: ByteBuffer(string: body)))
    }

    func form<T: Decodable>(_ type: T.Type, _ request: Request, _ context: ConsoleContext) async throws -> T {
        let buffer = try await request.body.collect(upTo: context.maxUploadSize)
        do { return try URLEncodedFormDecoder().decode(T.self, from: String(buffer: buffer)) } catch {
            throw ConsoleError(status: .badRequest, message: "cannot read the form: \(error)", api: false)
        }
    }

    func incidentID(_ context: ConsoleContext, api: Bool) throws -> Int64 {
        guard let text = context.parameters.get("id"), let id = Int64(text), id > 0 else {
            throw ConsoleError(status: .notFound, message: "no such incident: '\(context.parameters.get("id") ?? "")'", api: api)
        }
        return id
    }

    func material(_ id: Int64, api: Bool) async throws -> (IncidentExport.Material, [String]) {
        let store = self.store, directory = self.directory
        let found: (IncidentExport.Material, [String])? = try await blocking {
            guard let incident = try store.incident(id) else { return nil }
            var m = IncidentExport.Material(incident: incident, events: try store.events(incident: id), alerts: try store.alerts(incident: id),
                                            audit: try store.audit(incident: id), sensorName: directory.sensorName, homeNet: directory.homeNet)
            let sensors = try store.sensors(incident: id)
            m.sensors = sensors
            return (m, sensors)
        }
        guard let found else { throw ConsoleError(status: .notFound, message: "incident \(id) not found", api: api) }
        return found
    }

    /// The export as `incidents export` prints it, and its file name.
    static func export(_ m: IncidentExport.Material, format: String, api: Bool) throws -> Response {
        let body: String, type: String, name: String
        switch format {
        case "misp": (body, type, name) = (IncidentExport.misp(m) + "\n", "application/json", "incident-\(m.incident.id)-misp.json")
        case "stix": (body, type, name) = (IncidentExport.stix(m) + "\n", "application/json", "incident-\(m.incident.id)-stix.json")
        case "report": (body, type, name) = (IncidentExport.report(m), "text/markdown; charset=utf-8", "incident-\(m.incident.id)-report.md")
        default: throw ConsoleError(status: .badRequest, message: "format: expected misp, stix or report, not '\(format)'", api: api)
        }
        return Response(status: .ok, headers: [.contentType: type, .contentDisposition: "attachment; filename=\"\(name)\""],
                        body: .init(byteBuffer: ByteBuffer(string: body)))
    }

    /// An analyst's change, audited under the account's name; a refused move names the
    /// allowed ones (409).
    func apply(_ id: Int64, who: SignedIn, status: String?, assignee: String?, note: String?, reported: Bool, api: Bool) async throws -> Incident {
        guard who.role.changesIncidents else { throw refuse(who, "change incidents", api: api) }
        var next: IncidentStatus? = nil
        if let status {
            guard let s = IncidentStatus(rawValue: status) else {
                throw ConsoleError(status: .badRequest, message: "status: unknown status '\(status)'", api: api)
            }
            next = s
        }
        let assignee = assignee?.trimmingCharacters(in: .whitespacesAndNewlines)
        if let assignee, assignee.isEmpty || assignee.count > 64 {
            throw ConsoleError(status: .badRequest, message: "assignee: 1 to 64 characters", api: api)
        }
        let note = note?.trimmingCharacters(in: .whitespacesAndNewlines)
        if let note, note.count > 4000 { throw ConsoleError(status: .badRequest, message: "note: at most 4000 characters", api: api) }
        let emptyNote = note?.isEmpty ?? true
        guard next != nil || assignee != nil || !emptyNote || reported else {
            throw ConsoleError(status: .badRequest, message: "nothing to change: give status, assignee, note or reported", api: api)
        }
        let store = self.store, now = settings.now()
        let current: Incident? = try await blocking { try store.incident(id) }
        guard let current else { throw ConsoleError(status: .notFound, message: "incident \(id) not found", api: api) }
        if let next, next == current.status || !current.status.next.contains(next) {
            let allowed = current.status.next.map(\.rawValue)
            throw ConsoleError(status: .conflict, message: "incident \(id): cannot go from \(current.status.rawValue) to \(next.rawValue) (allowed: \(allowed.joined(separator: ", ")))",
                               api: api, allowed: allowed)
        }
        if reported && (!current.reportable || current.reportedAt != nil) {
            throw ConsoleError(status: .conflict, message: current.reportedAt != nil ? "incident \(id) was already marked reported" : "incident \(id) is not reportable", api: api)
        }
        let move = next
        do {
            let updated = try await blocking {
                try store.update(id, status: move, assignee: assignee, note: emptyNote ? nil : note, reported: reported, actor: who.name, at: now)
            }
            queueChanged()
            logger.info("incident changed", metadata: ["account": "\(who.name)", "incident": "\(id)", "status": "\(updated.status.rawValue)"])
            return updated
        } catch let error as StoreError {
            throw ConsoleError(status: .conflict, message: error.description, api: api)
        }
    }

    func addPages(to router: Router<ConsoleContext>) {
        router.get("/") { _, _ in Response(status: .seeOther, headers: [.location: "/incidents"]) }
        router.get("/static/console.css") { _, _ in
            Response(status: .ok, headers: [.contentType: "text/css; charset=utf-8", .cacheControl: "max-age=3600"],
                     body: .init(byteBuffer: ByteBuffer(string: Templates.css)))
        }
        router.get("/static/console.js") { _, _ in
            Response(status: .ok, headers: [.contentType: "text/javascript; charset=utf-8", .cacheControl: "max-age=3600"],
                     body: .init(byteBuffer: ByteBuffer(string: Templates.script)))
        }

        // Login: the form carries a token that must equal the one in its cookie (the session
        // does not exist yet).
        router.get("/login") { request, context in
            if context.signedIn != nil { return Response(status: .seeOther, headers: [.location: "/incidents"]) }
            return self.loginPage(request, message: nil, username: "", next: request.uri.queryParameters["next"].map(String.init) ?? "", status: .ok)
        }
        router.post("/login") { request, context in
            let form = try await self.form(LoginForm.self, request, context)
            let next: String = Console.safeNext(form.next)
            guard let cookie = request.cookies["hn_login"]?.value, let token = form.csrf_token, Console.same(cookie, token) else {
                self.logger.warning("login refused: missing or wrong form token", metadata: ["address": "\(context.clientAddress)"])
                return self.loginPage(request, message: "The form expired; sign in again.", username: form.username ?? "", next: next, status: .forbidden)
            }
            do {
                _ = try await self.signIn(name: form.username ?? "", password: form.password ?? "", context: context, api: false)
            } catch let error as ConsoleError {
                var response = self.loginPage(request, message: error.message, username: form.username ?? "", next: next, status: error.status)
                if let r = error.retryAfter { response.headers[.retryAfter] = String(r) }
                return response
            }
            return Response(status: .seeOther, headers: [.location: next])
        }
        router.post("/logout") { request, context in
            let who = try self.require(request, context, api: false)
            let form = try await self.form(UpdateForm.self, request, context)
            try self.checkCSRF(who, token: form.csrf_token, api: false)
            self.signOut(context: context)
            return Response(status: .seeOther, headers: [.location: "/login"])
        }

        router.get("/incidents") { request, context in
            let who = try self.require(request, context, api: false)
            return self.html(try await self.queuePage(request, who))
        }
        router.get("/incidents/:id") { request, context in
            let who = try self.require(request, context, api: false)
            let id = try self.incidentID(context, api: false)
            return self.html(try await self.incidentPage(id, who))
        }
        router.post("/incidents/:id/update") { request, context in
            let who = try self.require(request, context, api: false)
            let id = try self.incidentID(context, api: false)
            let form = try await self.form(UpdateForm.self, request, context)
            try self.checkCSRF(who, token: form.csrf_token, api: false)
            _ = try await self.apply(id, who: who, status: form.status, assignee: form.assignee, note: form.note,
                                     reported: form.reported == "true", api: false)
            return Response(status: .seeOther, headers: [.location: "/incidents/\(id)"])
        }
        router.get("/incidents/:id/export") { request, context in
            let who = try self.require(request, context, api: false)
            guard who.role.exports else { throw self.refuse(who, "export incidents", api: false) }
            let id = try self.incidentID(context, api: false)
            let (m, _) = try await self.material(id, api: false)
            return try Console.export(m, format: request.uri.queryParameters["format"].map(String.init) ?? "", api: false)
        }
        router.get("/sensors") { request, context in
            let who = try self.require(request, context, api: false)
            return self.html(try await self.sensorsPage(who))
        }
        router.get("/accounts") { request, context in
            let who = try self.require(request, context, api: false)
            guard who.role.managesAccounts else { throw self.refuse(who, "manage accounts", api: false) }
            return self.html(try await self.accountsPage(who, message: request.uri.queryParameters["done"].map(String.init)))
        }
        router.post("/accounts") { request, context in
            let who = try self.require(request, context, api: false)
            let form = try await self.form(AccountForm.self, request, context)
            try self.checkCSRF(who, token: form.csrf_token, api: false)
            guard who.role.managesAccounts else { throw self.refuse(who, "manage accounts", api: false) }
            guard let name = form.name, let role = form.role.flatMap(Role.init(rawValue:)), let password = form.password else {
                throw ConsoleError(status: .badRequest, message: "give name, role (viewer, analyst, admin) and password", api: false)
            }
            let accounts = self.accounts, now = self.settings.now()
            do { try await self.blocking { try accounts.add(name: name, role: role, password: password, actor: who.name, at: now) } } catch let e as StoreError {
                throw ConsoleError(status: .badRequest, message: e.description, api: false)
            }
            self.logger.notice("account created", metadata: ["account": "\(name)", "role": "\(role.rawValue)", "by": "\(who.name)"])
            return Response(status: .seeOther, headers: [.location: "/accounts?done=created+\(name)"])
        }
        router.post("/accounts/:name") { request, context in
            let who = try self.require(request, context, api: false)
            let form = try await self.form(AccountForm.self, request, context)
            try self.checkCSRF(who, token: form.csrf_token, api: false)
            guard who.role.managesAccounts else { throw self.refuse(who, "manage accounts", api: false) }
            let name = context.parameters.get("name") ?? ""
            let role = try form.role.map { r throws in
                guard let role = Role(rawValue: r) else { throw ConsoleError(status: .badRequest, message: "role: viewer, analyst or admin", api: false) }
                return role
            }
            let disabled = form.state.map { $0 == "disabled" }
            if name == who.name, disabled == true || (role != nil && role != .admin) {
                throw ConsoleError(status: .conflict, message: "an admin cannot disable or demote their own account", api: false)
            }
            let password = (form.password?.isEmpty ?? true) ? nil : form.password
            let accounts = self.accounts, store = self.store, now = self.settings.now()
            do {
                try await self.blocking {
                    guard try store.account(name) != nil else { throw StoreError("no account '\(name)'") }
                    if let password { try accounts.setPassword(name: name, password: password, actor: who.name, at: now) }
                    if let role { try accounts.setRole(name: name, role, actor: who.name, at: now) }
                    if let disabled { try accounts.setDisabled(name: name, disabled, actor: who.name, at: now) }
                }
            } catch let e as StoreError {
                throw ConsoleError(status: .badRequest, message: e.description, api: false)
            }
            self.logger.notice("account changed", metadata: ["account": "\(name)", "by": "\(who.name)"])
            return Response(status: .seeOther, headers: [.location: "/accounts?done=saved+\(name)"])
        }
    }

    /// A redirect target after login: a path on this site only.
    static func safeNext(_ next: String?) -> String {
        guard let next, next.hasPrefix("/"), !next.hasPrefix("//"), !next.contains("\\"), !next.hasPrefix("/login") else { return "/incidents" }
        return next
    }

    func loginPage(_ request: Request, message: String?, username: String, next: String, status: HTTPResponse.Status) -> Response {
        let token = request.cookies["hn_login"]?.value.filter(\.isHexDigit) ?? ""
        let formToken = token.count == 64 ? token : Console.token()
        var values: [String: Any] = ["title": "Sign in", "loginToken": formToken, "username": username, "next": Console.safeNext(next)]
        if let message { values["message"] = message }
        var response = html(views.render("login", values), status: status)
        if token != formToken {
            let cookie = Cookie(name: "hn_login", value: formToken, maxAge: 3600, path: "/login", secure: settings.tls, httpOnly: true, sameSite: .strict)
            response.headers[values: .setCookie].append(cookie.description)
        }
        return response
    }

    func queuePage(_ request: Request, _ who: SignedIn) async throws -> String {
        let query = try QueueQuery(request.uri, api: false, pageSize: settings.pageSize)
        let now = settings.now()
        let key = request.uri.query ?? ""
        // A fresh entry is served; an expired one is served too while the first request to
        // find it expired renders the next (so a second's expiry does not send every waiting
        // request to the store at once); a missing one is rendered.
        let (cached, generation) = queueCache.withLock { cache -> (String?, Int) in
            guard var entry = cache.entries[key] else { return (nil, cache.generation) }
            if (now >= entry.at && now - entry.at < Console.queueCacheLifetime) || entry.refreshing { return (entry.body, cache.generation) }
            entry.refreshing = true
            cache.entries[key] = entry
            return (nil, cache.generation)
        }
        let body: String
        if let cached { body = cached } else {
            do { body = try await queueBody(query, now: now) } catch {
                queueCache.withLock { _ = $0.entries.removeValue(forKey: key) }
                throw error
            }
            // A body rendered while a change was being made is not kept: it may predate it.
            queueCache.withLock { cache in
                guard cache.generation == generation else { return }
                if cache.entries.count >= Console.queueCacheEntries { cache.entries.removeAll() }
                cache.entries[key] = QueueCacheEntry(at: now, body: body)
            }
        }
        var values: [String: Any] = ["title": "Incidents", "body": body]
        values.merge(Views.who(who, nav: "Queue")) { a, _ in a }
        return views.render("page", values)
    }

    struct QueueCacheEntry: Sendable {
        var at: Int64
        var body: String
        var refreshing = false
    }

    struct QueueCache: Sendable {
        var generation = 0
        var entries: [String: QueueCacheEntry] = [:]
    }

    /// Forgets the rendered queues (after a change made through the console).
    func queueChanged() {
        queueCache.withLock { cache in
            cache.generation += 1
            cache.entries.removeAll()
        }
    }

    func queueBody(_ query: QueueQuery, now: Int64) async throws -> String {
        let store = self.store, directory = self.directory
        let (incidents, total, counts, unreported, constituents) = try await blocking {
            self.refreshStatisticsIfDue()
            var all = query.filter
            all.limit = nil
            all.offset = 0
            // The total is the sum of the selected statuses' counts: one scan fewer for
            // filters no index serves (text, class, constituent, segment).
            let counts = try store.countsByStatus(all)
            let total = all.status.isEmpty ? counts.values.reduce(0, +) : all.status.reduce(0) { $0 + (counts[$1] ?? 0) }
            return (try store.incidents(query.filter), total, counts, try store.unreported(all, now: now),
                    directory.constituents.isEmpty ? try store.constituents() : directory.constituents)
        }
        var tabs: [[String: Any]] = []
        let openCount = IncidentStatus.allCases.filter(\.isOpen).reduce(0) { $0 + (counts[$1] ?? 0) }
        tabs.append(["label": "open", "count": openCount, "href": query.link(["status": nil, "page": nil]), "current": query.statusText == "open"])
        for s in IncidentStatus.allCases {
            tabs.append(["label": s.rawValue, "count": counts[s] ?? 0, "href": query.link(["status": s.rawValue, "page": nil]), "current": query.statusText == s.rawValue])
        }
        tabs.append(["label": "all", "count": counts.values.reduce(0, +), "href": query.link(["status": "all", "page": nil]), "current": query.statusText == "all"])
        func options(_ values: [String], selected: String?, any: String) -> [[String: Any]] {
            [["value": "", "label": any, "selected": selected == nil]] + values.map { ["value": $0, "label": $0, "selected": $0 == selected] }
        }
        let classes = RSIT.types.map(\.taxonomy)
        let pages = max(1, (total + settings.pageSize - 1) / settings.pageSize)
        var values: [String: Any] = [
            "title": "Incidents", "total": total, "tabs": tabs, "rowsHTML": Views.rowsHTML(incidents, now: now), "hasRows": !incidents.isEmpty,
            "filter": ["status": query.statusText == "open" ? "" : query.statusText, "assignee": query.filter.assignee ?? "", "q": query.filter.text ?? ""],
            "priorities": [["value": "", "label": "any", "selected": query.filter.priority == nil]]
                + (1...4).map { ["value": "P\($0)", "label": "P\($0) or more urgent", "selected": query.filter.priority == $0] },
            "classes": options(classes, selected: query.filter.classification, any: "any"),
            "constituents": options(constituents.map(\.name), selected: query.filter.constituent, any: "any"),
            "segments": options(directory.segments.map(\.name), selected: query.filter.segment, any: "any"),
            "page": query.page, "pages": pages,
        ]
        if query.page > 1 { values["previous"] = query.link(["page": query.page > 2 ? String(query.page - 1) : nil]) }
        if query.page < pages { values["nextPage"] = query.link(["page": String(query.page + 1)]) }
        if unreported.count > 0 {
            values["reportable"] = unreported.count
            if unreported.overdue > 0 { values["overdue"] = unreported.overdue }
        }
        return views.render("queueBody", values)
    }

    func incidentPage(_ id: Int64, _ who: SignedIn) async throws -> String {
        let (m, sensors) = try await material(id, api: false)
        let store = self.store, directory = self.directory
        let constituents = directory.constituents.isEmpty ? try await blocking { try store.constituents() } : directory.constituents
        let i = m.incident
        let now = settings.now()
        let shown = 200
        var values: [String: Any] = [
            "title": "Incident \(i.id)", "i": Views.summary(i, sensors: sensors, now: now),
            "mayChange": who.role.changesIncidents, "next": i.status.next.map(\.rawValue), "hasNext": !i.status.next.isEmpty,
            "reportOpen": i.reportable && i.reportedAt == nil,
            "hosts": Views.hosts(i, constituents: constituents, segments: directory.segments),
            "events": m.events.map { e -> [String: Any] in
                ["firstSeen": Views.time(e.firstSeen), "lastSeen": Views.time(e.lastSeen), "alertCount": e.alertCount, "gid": Int(e.gid),
                 "sid": Int(e.sid), "signature": e.signature, "source": e.source.description, "destination": e.destination.description]
            },
            "alerts": m.alerts.prefix(shown).map { Views.alert($0) }, "alertTotal": m.alerts.count,
            "audit": m.audit.map { a -> [String: Any] in
                var what = a.action
                if let from = a.from, let to = a.to { what += " \(from) → \(to)" } else if let to = a.to { what += " \(to)" }
                return ["at": Views.time(a.at), "actor": a.actor, "action": what, "note": a.note ?? ""]
            },
        ]
        if m.alerts.count > shown { values["alertsMore"] = m.alerts.count - shown }
        values.merge(Views.who(who, nav: "Queue")) { a, _ in a }
        return views.render("incident", values)
    }

    func sensorsPage(_ who: SignedIn) async throws -> String {
        let store = self.store
        let (sensors, stats) = try await blocking { (try store.sensors(), try store.stats()) }
        var values: [String: Any] = [
            "title": "Sensors", "storePath": store.location, "incidents": stats.incidents, "alerts": stats.alerts,
            "sensors": sensors.map { s -> [String: Any] in
                ["name": s.name, "version": s.version, "startedAt": Views.time(s.startedAt), "rules": s.rules, "indicators": s.indicators,
                 "correlationRules": s.correlationRules, "alerts": s.alerts, "lastAlert": s.lastAlert.map { Views.time($0) } ?? "none"]
            },
        ]
        values.merge(Views.who(who, nav: "Sensors")) { a, _ in a }
        return views.render("sensors", values)
    }

    func accountsPage(_ who: SignedIn, message: String?) async throws -> String {
        let store = self.store
        let (accounts, audit) = try await blocking { (try store.accounts(), try store.accountAudit()) }
        var values: [String: Any] = [
            "title": "Accounts",
            "accounts": accounts.map { a -> [String: Any] in
                ["name": a.name, "role": a.role, "state": a.disabled ? "disabled" : "enabled", "disabled": a.disabled, "csrf": who.csrf,
                 "createdAt": Views.time(a.createdAt), "changedAt": Views.time(a.changedAt),
                 "roles": Role.allCases.map { ["value": $0.rawValue, "selected": $0.rawValue == a.role] }]
            },
            "audit": audit.map { ["at": Views.time($0.at), "actor": $0.actor, "action": $0.action, "account": $0.account, "note": $0.note ?? ""] },
        ]
        if let message { values["message"] = message }
        values.merge(Views.who(who, nav: "Accounts")) { a, _ in a }
        return views.render("accounts", values)
    }
}

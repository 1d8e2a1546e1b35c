import Foundation
import HNOutput
import HNReport
import HNStore
import HTTPTypes
import Hummingbird
import HummingbirdCore
import NIOCore

/// `PATCH /api/v1/incidents/ID`: any of these; `reported` only as true.
struct IncidentPatch: Decodable {
    var status: String?
    var assignee: String?
    var note: String?
    var reported: Bool?
}

struct APILogin: Decodable {
    var username: String
    var password: String
}

extension Console {
    func json(_ text: String, status: HTTPResponse.Status = .ok) -> Response {
        Response(status: status, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: text)))
    }

    func decode<T: Decodable>(_ type: T.Type, _ request: Request, _ context: ConsoleContext) async throws -> T {
        let buffer = try await request.body.collect(upTo: context.maxUploadSize)
        do { return try JSONDecoder().decode(T.self, from: Data(buffer: buffer)) } catch let DecodingError.keyNotFound(key, _) {
            throw ConsoleError(status: .badRequest, message: "missing field '\(key.stringValue)'", api: true)
        } catch let DecodingError.typeMismatch(_, c) {
            throw ConsoleError(status: .badRequest, message: "field '\(c.codingPath.map(\.stringValue).joined(separator: "."))': wrong type", api: true)
        } catch {
            throw ConsoleError(status: .badRequest, message: "the body is not the JSON object expected", api: true)
        }
    }

    func addAPI(to router: Router<ConsoleContext>) {
        let api = router.group("/api/v1")
        api.get("/openapi.json") { _, _ in self.json(OpenAPI.document) }
        api.post("/login") { request, context in
            let body = try await self.decode(APILogin.self, request, context)
            let session = try await self.signIn(name: body.username, password: body.password, context: context, api: true)
            let account = try await self.blocking { [store = self.store] in try store.account(session.account) }
            return self.json(Views.json(["csrf_token": session.csrf, "username": session.account, "role": account?.role ?? ""]))
        }
        api.post("/logout") { request, context in
            let who = try self.require(request, context, api: true)
            try self.checkCSRF(who, token: request.headers[HTTPField.Name("X-CSRF-Token")!], api: true)
            self.signOut(context: context)
            return Response(status: .noContent)
        }
        api.get("/incidents") { request, context in
            _ = try self.require(request, context, api: true)
            let query = try QueueQuery(request.uri, api: true, pageSize: self.settings.pageSize)
            let (incidents, sensors) = try await self.blocking { [store = self.store] in
                self.refreshStatisticsIfDue()
                let incidents = try store.incidents(query.filter)
                return (incidents, try store.sensors(incidents: incidents.map(\.id)))
            }
            return self.json(IncidentJSON.array(incidents, sensors: sensors))
        }
        api.get("/incidents/:id") { request, context in
            _ = try self.require(request, context, api: true)
            let (m, _) = try await self.material(try self.incidentID(context, api: true), api: true)
            return self.json(IncidentView.json(m))
        }
        api.patch("/incidents/:id") { request, context in
            let who = try self.require(request, context, api: true)
            try self.checkCSRF(who, token: request.headers[HTTPField.Name("X-CSRF-Token")!], api: true)
            let id = try self.incidentID(context, api: true)
            let patch = try await self.decode(IncidentPatch.self, request, context)
            if patch.reported == false { throw ConsoleError(status: .badRequest, message: "reported: only true (a report is not taken back)", api: true) }
            let updated = try await self.apply(id, who: who, status: patch.status, assignee: patch.assignee, note: patch.note,
                                               reported: patch.reported == true, api: true)
            return self.json(IncidentJSON.object(updated))
        }
        api.get("/incidents/:id/export") { request, context in
            let who = try self.require(request, context, api: true)
            guard who.role.exports else { throw self.refuse(who, "export incidents", api: true) }
            let (m, _) = try await self.material(try self.incidentID(context, api: true), api: true)
            return try Console.export(m, format: request.uri.queryParameters["format"].map(String.init) ?? "", api: true)
        }
        api.get("/sensors") { request, context in
            _ = try self.require(request, context, api: true)
            let sensors = try await self.blocking { [store = self.store] in try store.sensors() }
            return self.json(Views.json(sensors.map { s -> [String: Any] in
                var o: [String: Any] = ["name": s.name, "version": s.version, "started_at": EVETime.format(s.startedAt), "rules": s.rules,
                                        "indicators": s.indicators, "correlation_rules": s.correlationRules, "alerts": s.alerts]
                if let l = s.lastAlert { o["last_alert"] = EVETime.format(l) }
                return o
            }))
        }
    }
}

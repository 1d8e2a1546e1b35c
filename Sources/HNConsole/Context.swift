import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdCore
import HummingbirdAuth
import NIOCore

/// What a console session holds (in the server's memory, behind an HttpOnly cookie).
public struct ConsoleSession: Codable, Sendable, Equatable {
    public var account: String
    /// The token every state-changing request sends back (form field or X-CSRF-Token).
    public var csrf: String
    /// Nanoseconds (the console's clock): login, and the last request seen.
    public var created: Int64
    public var lastSeen: Int64
}

/// The signed-in account of a request.
public struct SignedIn: Sendable {
    public var name: String
    public var role: Role
    public var csrf: String
}

public struct ConsoleContext: RequestContext, SessionRequestContext, RemoteAddressRequestContext {
    public typealias Session = ConsoleSession
    public var coreContext: CoreRequestContextStorage
    public let sessions: SessionContext<ConsoleSession>
    public let remoteAddress: SocketAddress?
    public var signedIn: SignedIn? = nil

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        sessions = .init()
        remoteAddress = source.channel.remoteAddress
    }

    /// The client's address for rate limiting and logs ("local" when there is none, as in
    /// in-process tests).
    public var clientAddress: String { remoteAddress?.ipAddress ?? "local" }

    /// Bodies of up to 64 KiB (forms and API calls are small).
    public var maxUploadSize: Int { 64 * 1024 }
}

/// A refusal or redirect, as an HTML page or a JSON object depending on where it happened.
struct ConsoleError: HTTPResponseError {
    var status: HTTPResponse.Status
    var message: String
    var api: Bool
    var location: String? = nil
    var allowed: [String]? = nil
    var retryAfter: Int? = nil

    static func redirect(_ location: String) -> ConsoleError {
        ConsoleError(status: .seeOther, message: "", api: false, location: location)
    }

    func response(from request: Request, context: some RequestContext) throws -> Response {
        var headers: HTTPFields = [:]
        if let location { headers[.location] = location }
        if let retryAfter { headers[.retryAfter] = String(retryAfter) }
        let body: String
        if api {
            headers[.contentType] = "application/json"
            var object: [String: Any] = ["error": message]
            if let allowed { object["allowed"] = allowed }
            body = Views.json(object)
        } else if location != nil {
            body = ""
        } else {
            headers[.contentType] = "text/html; charset=utf-8"
            body = Views.errorPage(status: Int(status.code), reason: status.reasonPhrase, message: message)
        }
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(string: body)))
    }
}

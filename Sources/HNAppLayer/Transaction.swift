import HNDecode

/// Bytes owned by a transaction, at a stable address so inspection buffers can point into them.
public final class OwnedBytes: @unchecked Sendable {
    public let buffer: UnsafeMutableRawBufferPointer

    public init(_ bytes: [UInt8]) {
        let b = UnsafeMutableRawBufferPointer.allocate(byteCount: max(1, bytes.count), alignment: 1)
        bytes.withUnsafeBytes { if $0.count > 0 { b.copyMemory(from: $0) } }
        buffer = b
        count = bytes.count
    }

    public let count: Int

    deinit { buffer.deallocate() }

    /// A view of the bytes, valid while this object lives.
    public var view: ByteView { ByteView(base: UnsafeRawPointer(buffer.baseAddress), count: count) }
}

/// What an application-layer parser produced from one packet: an EVE record to write, and
/// the inspection buffers of the transaction, which stay valid until the next packet.
public struct AppEvent {
    /// EVE `event_type` ("http", "dns", "tls", "ssh", …).
    public var eventType: String
    /// The body of the record under the `event_type` key.
    public var record: JSONValue?
    /// Transaction number within the flow (EVE `tx_id`).
    public var transactionID: Int
    /// Buffers for detection, with their bytes.
    public var buffers: BufferBlock
    /// True when the transaction was produced by the client's side.
    public var toServer: Bool
    /// Facts for the behaviour detectors that EVE does not carry (credentials sent in
    /// clear, failed logins, the negotiated cipher). Empty for most events.
    public var notes: [AppNote] = []
    /// Objects EVE writes beside the record, at the top level (SMTP's `email`).
    public var siblings: [(String, JSONValue)] = []
    /// Objects an alert on the transaction carries beside its record, and its EVE record
    /// does not (the `files` of an SMTP message, as Suricata writes them in alerts).
    public var alertObjects: [(String, JSONValue)] = []
    /// The kind of transaction, where a protocol's log can be limited to some kinds (SMB's
    /// `negotiate`, `create`, `file`, `dcerpc`, …, as Suricata names them); nil: none.
    public var kind: String? = nil

    public init(eventType: String, record: JSONValue?, transactionID: Int, buffers: BufferBlock, toServer: Bool) {
        self.eventType = eventType
        self.record = record
        self.transactionID = transactionID
        self.buffers = buffers
        self.toServer = toServer
    }

    /// An event carrying only notes for the behaviour detectors: no record, no buffers.
    public static func notes(_ notes: [AppNote], eventType: String, transactionID: Int = 0, toServer: Bool) -> AppEvent {
        var event = AppEvent(eventType: eventType, record: nil, transactionID: transactionID, buffers: [], toServer: toServer)
        event.notes = notes
        return event
    }
}

/// What a parser noticed that matters to the behaviour detectors.
public enum AppNote: Sendable, Equatable {
    /// Credentials were sent in clear (the mechanism: "FTP PASS", "HTTP Basic", …). The
    /// credentials themselves are never kept.
    case credentialsInClear(String)
    /// The client started a login the protocol shows in clear (SMTP AUTH, FTP PASS, IMAP
    /// LOGIN/AUTHENTICATE, POP3 PASS/APOP/AUTH).
    case authAttempt
    /// The server accepted that login (SMTP 235, FTP 230, IMAP OK, POP3 +OK).
    case authSuccess
    /// The server refused a login (FTP 530, SMTP 535, IMAP NO, POP3 -ERR, HTTP 401).
    case authFailure
    /// An encrypted session reached the point where the client authenticates: SSH after its
    /// key exchange (user-authentication packets follow), RDP with CredSSP (NLA) selected,
    /// TLS with client application data after the handshake.
    case encryptedAuthPhase
    /// The cipher suite the server selected.
    case tlsCipher(UInt16)
}

/// State facts that rules test without a byte buffer (`tls.version`, …).
public struct AppFacts: Sendable {
    public var tlsVersion: UInt16? = nil
    public init() {}
}

/// The transaction an alert is about, as EVE writes it in the alert (Suricata's app-layer
/// metadata): its `tx_id` and its record (`http`, `ssh`, …) with any objects beside it.
public struct AlertApp {
    public var transactionID: Int
    public var objects: [(String, JSONValue)]
    public init(transactionID: Int, objects: [(String, JSONValue)]) {
        self.transactionID = transactionID
        self.objects = objects
    }
}

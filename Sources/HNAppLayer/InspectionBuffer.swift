import HNDecode

/// The byte buffers rules inspect. The packet payload is always there; each application-layer
/// parser fills the buffers of its transactions. The raw value is the sticky-buffer name in
/// Suricata's rule language, so the list of names lives in this enum alone.
public enum InspectionBuffer: String, CaseIterable, Sendable {
    case payload = "pkt_data"
    case httpURI = "http.uri"
    case httpURIRaw = "http.uri.raw"
    case httpMethod = "http.method"
    case httpProtocol = "http.protocol"
    case httpRequestLine = "http.request_line"
    case httpHost = "http.host"
    case httpHostRaw = "http.host.raw"
    case httpUserAgent = "http.user_agent"
    case httpHeader = "http.header"
    case httpHeaderRaw = "http.header.raw"
    case httpHeaderNames = "http.header_names"
    case httpCookie = "http.cookie"
    case httpReferer = "http.referer"
    case httpAccept = "http.accept"
    case httpAcceptLanguage = "http.accept_lang"
    case httpAcceptEncoding = "http.accept_enc"
    case httpConnection = "http.connection"
    case httpContentType = "http.content_type"
    case httpContentLength = "http.content_len"
    case httpRequestBody = "http.request_body"
    case httpStart = "http.start"
    case httpStatCode = "http.stat_code"
    case httpStatMsg = "http.stat_msg"
    case httpResponseLine = "http.response_line"
    case httpServer = "http.server"
    case httpLocation = "http.location"
    case httpResponseBody = "http.response_body"
    case fileData = "file.data"
    case dnsQuery = "dns.query"
    case dnsAnswerName = "dns.answer.name"
    case tlsSNI = "tls.sni"
    case tlsCertSubject = "tls.cert_subject"
    case tlsCertIssuer = "tls.cert_issuer"
    case tlsCertSerial = "tls.cert_serial"
    case tlsCertFingerprint = "tls.cert_fingerprint"
    case tlsCerts = "tls.certs"
    case tlsSubjectAltName = "tls.subjectaltname"
    case ja3Hash = "ja3.hash"
    case ja3String = "ja3.string"
    case ja3sHash = "ja3s.hash"
    case ja3sString = "ja3s.string"
    case ja4Hash = "ja4.hash"
    case sshProto = "ssh.proto"
    case sshSoftware = "ssh.software"
    case sshHassh = "ssh.hassh"
    case sshHasshString = "ssh.hassh.string"
    case sshHasshServer = "ssh.hassh.server"
    case sshHasshServerString = "ssh.hassh.server.string"
    case smtpHelo = "smtp.helo"
    case smtpMailFrom = "smtp.mail_from"
    case smtpRcptTo = "smtp.rcpt_to"
    case ftpCommand = "ftp.command"
    case ftpCommandData = "ftp.command_data"
    case smbNamedPipe = "smb.named_pipe"
    case smbShare = "smb.share"
    case base64Data = "base64_data"

    @inlinable public var slot: Int { Int(unsafeBitCast(self, to: UInt8.self)) }

    /// The buffer at `slot` (a table index from `slot`; `slot` must be one of theirs).
    @inlinable public init(slot: Int) { self = unsafeBitCast(UInt8(truncatingIfNeeded: slot), to: InspectionBuffer.self) }

    /// Sticky-buffer keywords in older spellings, as ET Open still writes many rules.
    public static let legacySticky: [String: InspectionBuffer] = [
        "file_data": .fileData, "dns_query": .dnsQuery, "tls_sni": .tlsSNI,
        "tls_cert_subject": .tlsCertSubject, "tls_cert_issuer": .tlsCertIssuer,
        "tls_cert_serial": .tlsCertSerial, "tls_cert_fingerprint": .tlsCertFingerprint,
        "ja3_hash": .ja3Hash, "ja3_string": .ja3String, "ja3s_hash": .ja3sHash, "ja3s_string": .ja3sString,
        "http_request_line": .httpRequestLine, "http_response_line": .httpResponseLine,
        "http_accept": .httpAccept, "http_accept_lang": .httpAcceptLanguage, "http_accept_enc": .httpAcceptEncoding,
        "http_referer": .httpReferer, "http_connection": .httpConnection, "http_content_type": .httpContentType,
        "http_content_len": .httpContentLength, "http_start": .httpStart, "http_protocol": .httpProtocol,
        "http_header_names": .httpHeaderNames, "http_location": .httpLocation, "http_server": .httpServer,
        "ssh_proto": .sshProto, "ssh_software": .sshSoftware, "ssh.protoversion": .sshProto,
        "ssh.softwareversion": .sshSoftware, "http.response_body": .httpResponseBody, "file.data": .fileData,
        "http.server_body": .httpResponseBody, "http.request_header": .httpHeader, "http.response_header": .httpHeader,
        "tls.cert_serial": .tlsCertSerial, "tls.certs": .tlsCerts, "tls.subjectaltname": .tlsSubjectAltName,
        "smb.named_pipe": .smbNamedPipe, "smb.share": .smbShare, "base64_data": .base64Data,
        "smtp.helo": .smtpHelo, "smtp.mail_from": .smtpMailFrom, "smtp.rcpt_to": .smtpRcptTo,
    ]

    /// Content modifiers that move the preceding content into a buffer (Snort 2 style).
    public static let contentModifiers: [String: InspectionBuffer] = [
        "http_uri": .httpURI, "http_raw_uri": .httpURIRaw, "http_method": .httpMethod,
        "http_header": .httpHeader, "http_raw_header": .httpHeaderRaw, "http_cookie": .httpCookie,
        "http_client_body": .httpRequestBody, "http_server_body": .httpResponseBody,
        "http_stat_code": .httpStatCode, "http_stat_msg": .httpStatMsg, "http_user_agent": .httpUserAgent,
        "http_host": .httpHost, "http_raw_host": .httpHostRaw,
    ]

    /// PCRE buffer flags (Suricata's `/…/U` and friends).
    public static let pcreFlags: [Character: InspectionBuffer] = [
        "U": .httpURI, "I": .httpURIRaw, "M": .httpMethod, "H": .httpHeader, "D": .httpHeaderRaw,
        "C": .httpCookie, "P": .httpRequestBody, "Q": .fileData, "S": .httpStatCode, "Y": .httpStatMsg,
        "V": .httpUserAgent, "W": .httpHost, "Z": .httpHostRaw,
    ]

    /// Looks a sticky-buffer keyword up by its current or legacy name.
    public static func sticky(_ name: String) -> InspectionBuffer? {
        if let b = InspectionBuffer(rawValue: name), b != .payload { return b }
        if name == "pkt_data" { return .payload }
        return legacySticky[name]
    }
}

/// The buffers available for one inspection: the packet payload plus whatever the
/// application-layer parser registered for the current transaction. A fixed array of views,
/// reset per packet without allocation.
public struct InspectionBuffers {
    @usableFromInline var views: [ByteView]
    @usableFromInline var present: UInt64 = 0
    @usableFromInline var presentHigh: UInt64 = 0

    public init() {
        views = [ByteView](repeating: .empty, count: InspectionBuffer.allCases.count)
    }

    /// Registers a buffer for this inspection (called by parsers).
    @inlinable
    public mutating func set(_ buffer: InspectionBuffer, _ view: ByteView) {
        let slot = buffer.slot
        views[slot] = view
        if slot < 64 { present |= 1 << UInt64(slot) } else { presentHigh |= 1 << UInt64(slot - 64) }
    }

    @inlinable
    public func get(_ buffer: InspectionBuffer) -> ByteView? {
        let slot = buffer.slot
        let isSet = slot < 64 ? present & (1 << UInt64(slot)) != 0 : presentHigh & (1 << UInt64(slot - 64)) != 0
        return isSet ? views[slot] : nil
    }

    @inlinable
    public mutating func clear() {
        present = 0
        presentHigh = 0
    }
}

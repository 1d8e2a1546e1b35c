/// What the EVE file holds, under Suricata's eve-log names: which event types, and each
/// type's options. The defaults are Suricata's default configuration, except payloads (off:
/// on HealthNet a payload may carry health data).
public struct EVESettings: Sendable, Equatable {
    /// The event types written (`types:`); nil: every type hnsensor writes.
    public var types: Set<String>? = nil
    /// Alerts: the packet payload (`payload`, base64), its printable form
    /// (`payload-printable`), the whole packet (`packet`), and the transaction's app-layer
    /// object with the flow (`metadata`, on by default as in Suricata).
    public var alertPayload = false
    public var alertPayloadPrintable = false
    public var alertPacket = false
    public var alertMetadata = true
    /// HTTP records with the extended fields (method, protocol, status, content type,
    /// referer, redirect, length), as Suricata's default configuration has them; a `types:`
    /// list naming `http` without `extended: yes` logs the basic ones (host, URL, user agent).
    public var httpExtended = true
    /// HTTP records with every header of the request, the response or both
    /// (`dump-all-headers`: `request_headers`, `response_headers`).
    public var httpRequestHeaders = false
    public var httpResponseHeaders = false
    /// TLS records with exactly these fields (`custom:`, Suricata's names); nil: the default.
    public var tlsCustom: [String]? = nil
    public static let tlsCustomFields: [String] = ["subject", "issuer", "session_resumed", "serial", "fingerprint", "sni", "version", "not_before",
                                                   "not_after", "certificate", "chain", "ja3", "ja3s", "ja4", "subjectaltname", "client",
                                                   "client_certificate", "client_chain", "client_alpns", "server_alpns", "client_handshake",
                                                   "server_handshake"]
    /// The fields of a basic (not extended) HTTP record.
    public static let basicHTTPFields: Set<String> = ["hostname", "http_port", "url", "http_user_agent", "xff", "request_headers", "response_headers"]
    /// DNS records: the layout version (2 or 3), requests and responses, the record types
    /// logged (nil: all), and for version 2 the answer formats (`detailed`, `grouped`).
    public var dnsVersion = 3
    public var dnsRequests = true
    public var dnsResponses = true
    public var dnsTypes: Set<String>? = nil
    public var dnsFormats: Set<String> = ["detailed", "grouped"]
    /// SMB records: the transaction kinds logged (`types:` under `smb`, Suricata's names:
    /// negotiate, session_setup, tree_connect, create, file, rename, set_file_path_info,
    /// dcerpc, ioctl, generic); nil: all.
    public var smbTypes: Set<String>? = nil
    public static let smbKinds: [String] = ["negotiate", "session_setup", "tree_connect", "create", "file", "rename", "set_file_path_info",
                                            "dcerpc", "ioctl", "generic"]
    /// Ethernet addresses on records (`ethernet`): `ether` with the MACs of each side.
    public var ethernet = false
    /// IPv6 addresses in their compressed form (`ipv6-compress`); Suricata writes them in full.
    public var ipv6Compress = false
    /// DNS records are written as parsed (version 3, every message, type and format).
    public var dnsAsParsed: Bool {
        dnsVersion == 3 && dnsRequests && dnsResponses && dnsTypes == nil && dnsFormats.count == 2
    }
    /// `community_id` on every record with a flow tuple, with this seed; nil: off.
    public var communityIDSeed: UInt16? = nil

    public init() {}

    /// The event types hnsensor writes, by their EVE names.
    public static let writtenTypes: [String] = ["alert", "dns", "flow", "ftp", "http", "imap", "pop3", "rdp", "smb", "smtp", "ssh", "stats", "tls"]
    /// Suricata's other eve-log types: accepted in `types:` (a suricata.yaml's list can be
    /// copied as it is) and never written.
    public static let otherSuricataTypes: [String] = ["anomaly", "arp", "bittorrent-dht", "dcerpc", "dhcp", "dnp3", "doh2", "drop", "enip", "files", "frame",
                                                      "http2", "ike", "krb5", "ldap", "mdns", "metadata", "modbus", "mqtt", "netflow", "nfs", "pgsql",
                                                      "quic", "rfb", "sdp", "sip", "snmp", "tftp", "websocket"]

    /// The options `types:` takes for each type, in the order they are listed in errors
    /// (the other types take `enabled` only).
    public static let typeOptions: [String: [String]] = [
        "alert": ["enabled", "payload", "payload-printable", "packet", "metadata"],
        "http": ["enabled", "extended", "dump-all-headers"],
        "dns": ["enabled", "version", "requests", "responses", "types", "formats"],
        "smb": ["enabled", "types"],
        "tls": ["enabled", "extended", "custom", "ja4", "session-resumption"],
    ]

    /// The options of one type.
    public static func options(of type: String) -> [String] { typeOptions[type] ?? ["enabled"] }

    /// Does the file hold records of this type?
    @inline(__always) public func writes(_ type: String) -> Bool { types?.contains(type) ?? true }
}

/// The Ethernet addresses seen on a flow, on its client's side and its server's, in the order
/// first seen (at most `limit` each), for EVE's `ether` objects.
public struct FlowMACs: Sendable, Equatable {
    public static let limit = 8
    public var client: [UInt64] = []
    public var server: [UInt64] = []
    public init() {}

    public mutating func add(source: UInt64, destination: UInt64, toServer: Bool) {
        let (c, s) = toServer ? (source, destination) : (destination, source)
        if !client.contains(c), client.count < FlowMACs.limit { client.append(c) }
        if !server.contains(s), server.count < FlowMACs.limit { server.append(s) }
    }

    /// `00:15:17:0d:06:f7`
    public static func text(_ mac: UInt64) -> String {
        let digits = JSONWriter.hexDigits
        var out: [UInt8] = []
        for i in stride(from: 40, through: 0, by: -8) {
            if i < 40 { out.append(UInt8(ascii: ":")) }
            let b = Int(mac >> UInt64(i) & 0xFF)
            out.append(digits[b >> 4])
            out.append(digits[b & 0xF])
        }
        return String(decoding: out, as: UTF8.self)
    }
}

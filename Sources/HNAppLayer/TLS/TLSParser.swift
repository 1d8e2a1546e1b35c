import Crypto
import HNDecode

/// TLS handshake parser for one flow: ClientHello (SNI, versions, ALPN, JA3), ServerHello
/// (negotiated version, JA3S) and the server certificate of TLS 1.2 and earlier. Records are
/// reassembled from the stream and handshake messages across records, each within a bound.
final class TLSParser {
    /// Largest TLS record (2^14 plus the expansion RFC 8446 allows).
    static let maxRecord = (1 << 14) + 2048
    /// Largest handshake message kept (certificate chains are the big ones).
    static let maxHandshake = 128 << 10

    var recordBuffer = Both<[UInt8]>([])
    var handshakeBuffer = Both<[UInt8]>([])
    var failed = Both(false)
    var sni: [UInt8]? = nil
    var clientVersion: UInt16 = 0
    var serverVersion: UInt16? = nil
    var serverCipher: UInt16? = nil
    var ja3: String? = nil
    var ja3Hash: String? = nil
    var ja4: String? = nil
    /// The session id the client offered, and whether the server took it up (a resumed
    /// session, RFC 5246 §7.4.1.3).
    var clientSessionID: [UInt8] = []
    var sessionResumed = false
    /// The protocols the client offered (ALPN, RFC 7301), in its order.
    var clientALPNs: [[UInt8]] = []
    var ja3s: String? = nil
    var ja3sHash: String? = nil
    var certificate: X509Summary? = nil
    var fingerprint: String? = nil
    /// The server's chain (DER) when a custom record logs it, and the client's certificate
    /// (sent when the server asked for one: CertificateRequest).
    var chain: [[UInt8]] = []
    var clientCertificate: X509Summary? = nil
    var clientFingerprint: String? = nil
    var clientChain: [[UInt8]] = []
    var clientCertificateRequested = false
    /// The server hello's extensions, in order (for `server_handshake`).
    var serverExtensions: [UInt16] = []
    var logged = false
    var encrypted = false
    /// The client sent application data after the server's handshake (noted once).
    var clientDataNoted = false
    /// Whether that is noted as the session's login phase: not on a flow that became TLS on
    /// the way (STARTTLS, a CONNECT tunnel), whose login, if any, is not this session's.
    var notesLoginPhase = true
    /// The protocol the session upgraded from, when Suricata names it (`from_proto`: LDAP).
    var fromProto: String? = nil
    var facts = AppFacts()
    /// The pipeline's parser scratch (the block builder).
    let scratch: ParserScratch

    init(scratch: ParserScratch = ParserScratch()) { self.scratch = scratch }

    static func looksLikeTLS(_ d: ByteView) -> Bool {
        guard let t = d.u8(0), let major = d.u8(1), let minor = d.u8(2) else { return false }
        return (t == 0x16 || t == 0x15) && major == 3 && minor <= 4
    }

    func receive(_ data: ByteView, toServer: Bool, events: inout [AppEvent]) {
        let d = toServer ? 0 : 1
        guard !failed[d] else { return }
        if recordBuffer[d].isEmpty {
            // Whole records in this chunk are read in place; only a partial one is kept.
            guard let consumed = records(data.rawBuffer, d, toServer: toServer, events: &events) else { return }
            if consumed < data.count { recordBuffer[d].append(contentsOf: data.rawBuffer[consumed...]) }
            return
        }
        // Moved out while its records are read (not copied), then put back without them.
        var buffer: [UInt8] = []
        swap(&buffer, &recordBuffer[d])
        buffer.append(contentsOf: data.rawBuffer)
        guard let consumed = buffer.withUnsafeBytes({ records($0, d, toServer: toServer, events: &events) }) else { return }
        buffer.removeFirst(min(consumed, buffer.count))
        swap(&buffer, &recordBuffer[d])
    }

    /// Reads the complete records at the start of `b`; returns the bytes they took, or nil
    /// when the direction is not TLS after all (it stops).
    func records(_ b: UnsafeRawBufferPointer, _ d: Int, toServer: Bool, events: inout [AppEvent]) -> Int? {
        var consumed = 0
        while b.count - consumed >= 5 {
            let type = b[consumed]
            let length = Int(b[consumed + 3]) << 8 | Int(b[consumed + 4])
            guard b[consumed + 1] == 3 || b[consumed + 1] == 2, length <= TLSParser.maxRecord, type >= 20, type <= 24 else {
                failed[d] = true
                recordBuffer[d] = []
                return nil
            }
            guard b.count - consumed >= 5 + length else { break }
            let body = ByteView(UnsafeRawBufferPointer(rebasing: b[(consumed + 5)..<(consumed + 5 + length)]))
            consumed += 5 + length
            switch type {
            case 22 where !(encrypted && serverVersion == 0x0304):
                handshake(body, d, toServer: toServer, events: &events)
            case 20, 23:
                if !toServer || type == 23 { encrypted = true }
                if !toServer && serverVersion != nil && !logged { events.append(logEvent()) }
                if toServer && type == 23 && serverVersion != nil && notesLoginPhase && !clientDataNoted {
                    // What a login portal's client sends first after the handshake: its credentials.
                    clientDataNoted = true
                    events.append(.notes([.encryptedAuthPhase], eventType: "tls", toServer: true))
                }
            default:
                break
            }
        }
        return consumed
    }

    func handshake(_ body: ByteView, _ d: Int, toServer: Bool, events: inout [AppEvent]) {
        if handshakeBuffer[d].isEmpty {
            // Whole messages in this record are read in place; only a partial one is kept.
            var offset = 0
            while body.count - offset >= 4, let type = body.u8(offset), let l0 = body.u8(offset + 1),
                  let l1 = body.u8(offset + 2), let l2 = body.u8(offset + 3) {
                let length = Int(l0) << 16 | Int(l1) << 8 | Int(l2)
                guard length <= TLSParser.maxHandshake else { failed[d] = true; handshakeBuffer[d] = []; return }
                guard let m = body.slice(offset + 4, length) else { break }
                offset += 4 + length
                message(type, m, toServer: toServer, events: &events)
            }
            if offset < body.count { handshakeBuffer[d].append(contentsOf: body.rawBuffer[offset...]) }
            return
        }
        handshakeBuffer[d].append(contentsOf: body.rawBuffer)
        while handshakeBuffer[d].count >= 4 {
            let type = handshakeBuffer[d][0]
            let length = Int(handshakeBuffer[d][1]) << 16 | Int(handshakeBuffer[d][2]) << 8 | Int(handshakeBuffer[d][3])
            guard length <= TLSParser.maxHandshake else { failed[d] = true; handshakeBuffer[d] = []; return }
            guard handshakeBuffer[d].count >= 4 + length else { return }
            let m = Array(handshakeBuffer[d][4..<(4 + length)])
            handshakeBuffer[d].removeFirst(4 + length)
            m.withUnsafeBytes { message(type, ByteView($0), toServer: toServer, events: &events) }
        }
    }

    func message(_ type: UInt8, _ m: ByteView, toServer: Bool, events: inout [AppEvent]) {
        switch type {
        case 1: clientHello(m, events: &events)
        case 2: serverHello(m, events: &events)
        case 11:
            if toServer {
                clientCertificateMessage(m, events: &events)
                if clientCertificateRequested && !logged { events.append(logEvent()) }
            } else {
                certificateMessage(m, events: &events)
            }
        case 13 where !toServer:  // CertificateRequest: the client's certificate follows
            clientCertificateRequested = true
        case 14:  // ServerHelloDone: the handshake is as complete as a passive observer sees it
            if !logged && !clientCertificateRequested { events.append(logEvent()) }
        default: break
        }
    }

    /// The DER certificates of a Certificate message (TLS 1.2: list length, then length and
    /// DER per certificate), at most 16.
    static func certificates(_ m: ByteView) -> [ByteView] {
        guard let l0 = m.u8(0), let l1 = m.u8(1), let l2 = m.u8(2) else { return [] }
        let total = Int(l0) << 16 | Int(l1) << 8 | Int(l2)
        var out: [ByteView] = []
        var offset = 3
        while offset < min(3 + total, m.count), out.count < 16, let a = m.u8(offset), let b = m.u8(offset + 1), let c = m.u8(offset + 2) {
            let length = Int(a) << 16 | Int(b) << 8 | Int(c)
            guard let der = m.slice(offset + 3, length) else { break }
            out.append(der)
            offset += 3 + length
        }
        return out
    }

    /// Whether the custom record logs this field.
    func custom(_ field: String) -> Bool { scratch.tlsCustom?.contains(field) ?? false }

    /// The client's certificate: its buffers for the rules (tls.cert_* of the client's side).
    func clientCertificateMessage(_ m: ByteView, events: inout [AppEvent]) {
        let certs = TLSParser.certificates(m)
        guard clientCertificate == nil, let der = certs.first, let summary = X509Summary.parse(der) else { return }
        clientCertificate = summary
        clientFingerprint = ASCIIText.digest(Insecure.SHA1.hash(data: der.rawBuffer), separator: UInt8(ascii: ":"))
        if custom("client_certificate") || custom("client_chain") { clientChain = certs.map { $0.toArray() } }
        var buffers: [(InspectionBuffer, [UInt8])] = [
            (.tlsCertSubject, Array(summary.subject.utf8)), (.tlsCertIssuer, Array(summary.issuer.utf8)),
            (.tlsCertSerial, Array(summary.serial.utf8)), (.tlsCerts, der.toArray()),
        ]
        if let clientFingerprint { buffers.append((.tlsCertFingerprint, Array(clientFingerprint.utf8))) }
        events.append(AppEvent(eventType: "tls", record: nil, transactionID: 0, buffers: BufferBlock(buffers), toServer: true))
    }

    static func isGREASE(_ v: UInt16) -> Bool { v & 0x0F0F == 0x0A0A && v >> 8 == v & 0xFF }

    /// The value lists of a hello and the fingerprint texts, reused from hello to hello (kept
    /// in the pipeline's parser scratch).
    struct HelloLists {
        var ciphers: [UInt16] = []
        var extensions: [UInt16] = []
        var groups: [UInt16] = []
        var formats: [UInt8] = []
        var signatureAlgorithms: [UInt16] = []
        var versions: [UInt16] = []
        var sorted: [UInt16] = []
        var text = ASCIIText(capacity: 0)
        var hashed = ASCIIText(capacity: 0)

        mutating func clear() {
            ciphers.removeAll(keepingCapacity: true)
            extensions.removeAll(keepingCapacity: true)
            groups.removeAll(keepingCapacity: true)
            formats.removeAll(keepingCapacity: true)
            signatureAlgorithms.removeAll(keepingCapacity: true)
            versions.removeAll(keepingCapacity: true)
            text.bytes.removeAll(keepingCapacity: true)
        }
    }

    func clientHello(_ m: ByteView, events: inout [AppEvent]) {
        guard let version = m.u16(0), let sidLength = m.u8(34) else { return }
        clientVersion = version
        clientSessionID = m.slice(35, Int(sidLength))?.toArray() ?? []
        var offset = 35 + Int(sidLength)
        guard let cipherLength = m.u16(offset), let ciphers = m.slice(offset + 2, Int(cipherLength)) else { return }
        offset += 2 + Int(cipherLength)
        guard let compLength = m.u8(offset) else { return }
        offset += 1 + Int(compLength)
        var l = HelloLists()
        swap(&l, &scratch.hello)
        defer {
            l.clear()
            swap(&l, &scratch.hello)
        }
        var i = 0
        while let c = ciphers.u16(i) { if !TLSParser.isGREASE(c) { l.ciphers.append(c) }; i += 2 }
        var alpn: ByteView? = nil
        if let extLength = m.u16(offset), let exts = m.slice(offset + 2, Int(extLength)) {
            var e = 0
            while let type = exts.u16(e), let length = exts.u16(e + 2), let body = exts.slice(e + 4, Int(length)) {
                if !TLSParser.isGREASE(type) { l.extensions.append(type) }
                switch type {
                case 0:  // server_name: list length, type 0, name length, name
                    if let nameLength = body.u16(3), let name = body.slice(5, Int(nameLength)) { sni = name.toArray() }
                case 10:
                    var g = 2
                    while g < Int(body.u16(0) ?? 0) + 2, let v = body.u16(g) { if !TLSParser.isGREASE(v) { l.groups.append(v) }; g += 2 }
                case 11:
                    if let n = body.u8(0) { for k in 0..<Int(n) { if let f = body.u8(1 + k) { l.formats.append(f) } } }
                case 13:  // signature_algorithms, in the client's order
                    var g = 2
                    while g < Int(body.u16(0) ?? 0) + 2, let v = body.u16(g) { l.signatureAlgorithms.append(v); g += 2 }
                case 16:  // ALPN: list length, then length-prefixed names; the first one counts
                    if let n = body.u8(2), let first = body.slice(3, Int(n)) { alpn = first }
                    var a = 2
                    clientALPNs.removeAll()
                    while clientALPNs.count < 16, let n = body.u8(a), let name = body.slice(a + 1, Int(n)) {
                        clientALPNs.append(name.toArray())
                        a += 1 + Int(n)
                    }
                case 43:  // supported_versions
                    var g = 1
                    while g < Int(body.u8(0) ?? 0) + 1, let v = body.u16(g) { if !TLSParser.isGREASE(v) { l.versions.append(v) }; g += 2 }
                default: break
                }
                e += 4 + Int(length)
            }
        }
        l.text.decimal(UInt32(version))
        l.text.byte(UInt8(ascii: ","))
        l.text.decimals(l.ciphers, separator: UInt8(ascii: "-"))
        l.text.byte(UInt8(ascii: ","))
        l.text.decimals(l.extensions, separator: UInt8(ascii: "-"))
        l.text.byte(UInt8(ascii: ","))
        l.text.decimals(l.groups, separator: UInt8(ascii: "-"))
        l.text.byte(UInt8(ascii: ","))
        l.text.decimals(l.formats, separator: UInt8(ascii: "-"))
        let hash = ASCIIText.md5(l.text.bytes)
        ja3 = l.text.string
        ja3Hash = hash
        let fingerprint = TLSParser.ja4(version: l.versions.max() ?? version, sni: sni != nil, alpn: alpn, lists: &l)
        ja4 = fingerprint
        scratch.builder.add(.ja3String, l.text.bytes)
        scratch.builder.add(.ja3Hash, hash)
        if let sni { scratch.builder.add(.tlsSNI, sni) }
        scratch.builder.add(.ja4Hash, fingerprint)
        events.append(AppEvent(eventType: "tls", record: nil, transactionID: 0, buffers: scratch.builder.build(), toServer: true))
    }

    /// The JA4 client fingerprint (FoxIO's JA4 specification): `t13d1516h2_<ciphers>_<extensions>`,
    /// GREASE values left out, the hashes SHA-256 truncated to 12 hex digits.
    static func ja4(version: UInt16, sni: Bool, ciphers: [UInt16], extensions: [UInt16], alpn: [UInt8]?,
                    signatureAlgorithms: [UInt16]) -> String {
        var l = HelloLists()
        l.ciphers = ciphers
        l.extensions = extensions
        l.signatureAlgorithms = signatureAlgorithms
        return alpn.map { a in a.withUnsafeBytes { ja4(version: version, sni: sni, alpn: ByteView($0), lists: &l) } }
            ?? ja4(version: version, sni: sni, alpn: nil, lists: &l)
    }

    /// JA4 from the lists of a hello (`ciphers`, `extensions`, `signatureAlgorithms`); the
    /// other arrays of `lists` are work space.
    static func ja4(version: UInt16, sni: Bool, alpn: ByteView?, lists l: inout HelloLists) -> String {
        var out = ASCIIText(capacity: 40)
        out.byte(UInt8(ascii: "t"))
        switch version {
        case 0x0304: out.text("13")
        case 0x0303: out.text("12")
        case 0x0302: out.text("11")
        case 0x0301: out.text("10")
        case 0x0300: out.text("s3")
        case 0x0200: out.text("s2")
        case 0xFEFF: out.text("d1")
        case 0xFEFD: out.text("d2")
        case 0xFEFC: out.text("d3")
        default: out.text("00")
        }
        out.byte(UInt8(ascii: sni ? "d" : "i"))
        func twoDigits(_ count: Int) {
            out.byte(UInt8(ascii: "0") + UInt8(count / 10))
            out.byte(UInt8(ascii: "0") + UInt8(count % 10))
        }
        twoDigits(min(l.ciphers.count, 99))
        twoDigits(min(l.extensions.count, 99))
        if let a = alpn, a.count > 0, let first = a.u8(0), let last = a.u8(a.count - 1) {
            let isAlnum: (UInt8) -> Bool = { ($0 >= 48 && $0 <= 57) || ($0 >= 65 && $0 <= 90) || ($0 >= 97 && $0 <= 122) }
            if isAlnum(first) && isAlnum(last) {
                out.byte(first)
                out.byte(last)
            } else {
                out.byte(ASCIIText.hexDigits[Int(first >> 4)])
                out.byte(ASCIIText.hexDigits[Int(last & 0xF)])
            }
        } else {
            out.text("00")
        }
        func truncatedHash() {
            out.byte(UInt8(ascii: "_"))
            out.hexBytes(SHA256.hash(data: l.hashed.bytes), limit: 6)
        }
        if l.ciphers.isEmpty {
            out.text("_000000000000")
        } else {
            l.sorted.removeAll(keepingCapacity: true)
            l.sorted.append(contentsOf: l.ciphers)
            l.sorted.sort()
            l.hashed.bytes.removeAll(keepingCapacity: true)
            l.hashed.hex4s(l.sorted, separator: UInt8(ascii: ","))
            truncatedHash()
        }
        if l.extensions.isEmpty {
            out.text("_000000000000")
        } else {
            l.sorted.removeAll(keepingCapacity: true)
            for e in l.extensions where e != 0x0000 && e != 0x0010 { l.sorted.append(e) }
            l.sorted.sort()
            l.hashed.bytes.removeAll(keepingCapacity: true)
            l.hashed.hex4s(l.sorted, separator: UInt8(ascii: ","))
            if !l.signatureAlgorithms.isEmpty {
                l.hashed.byte(UInt8(ascii: "_"))
                l.hashed.hex4s(l.signatureAlgorithms, separator: UInt8(ascii: ","))
            }
            truncatedHash()
        }
        return out.string
    }

    func serverHello(_ m: ByteView, events: inout [AppEvent]) {
        guard var version = m.u16(0), let sidLength = m.u8(34) else { return }
        if sidLength > 0, let sid = m.slice(35, Int(sidLength)), sid.toArray() == clientSessionID { sessionResumed = true }
        var offset = 35 + Int(sidLength)
        guard let cipher = m.u16(offset) else { return }
        offset += 3
        var l = HelloLists()
        swap(&l, &scratch.hello)
        defer {
            l.clear()
            swap(&l, &scratch.hello)
        }
        if let extLength = m.u16(offset), let exts = m.slice(offset + 2, Int(extLength)) {
            var e = 0
            while let type = exts.u16(e), let length = exts.u16(e + 2), let body = exts.slice(e + 4, Int(length)) {
                l.extensions.append(type)
                if serverExtensions.count < 64 { serverExtensions.append(type) }
                if type == 43, let v = body.u16(0) { version = v }  // supported_versions: the real version
                e += 4 + Int(length)
            }
        }
        serverVersion = version
        serverCipher = cipher
        facts.tlsVersion = version
        defer { if version == 0x0304 && !logged { events.append(logEvent()) } }  // the rest of a 1.3 handshake is encrypted
        l.text.decimal(UInt32(m.u16(0) ?? 0))
        l.text.byte(UInt8(ascii: ","))
        l.text.decimal(UInt32(cipher))
        l.text.byte(UInt8(ascii: ","))
        l.text.decimals(l.extensions, separator: UInt8(ascii: "-"))
        let hash = ASCIIText.md5(l.text.bytes)
        ja3s = l.text.string
        ja3sHash = hash
        scratch.builder.add(.ja3sString, l.text.bytes)
        scratch.builder.add(.ja3sHash, hash)
        events.append(AppEvent(eventType: "tls", record: nil, transactionID: 0, buffers: scratch.builder.build(), toServer: false))
    }

    func certificateMessage(_ m: ByteView, events: inout [AppEvent]) {
        // TLS 1.2: certificate_list length (3), then length (3) + DER per certificate.
        let certs = TLSParser.certificates(m)
        guard certificate == nil, let der = certs.first, let summary = X509Summary.parse(der) else { return }
        certificate = summary
        if custom("certificate") || custom("chain") { chain = certs.map { $0.toArray() } }
        fingerprint = ASCIIText.digest(Insecure.SHA1.hash(data: der.rawBuffer), separator: UInt8(ascii: ":"))
        var buffers: [(InspectionBuffer, [UInt8])] = [
            (.tlsCertSubject, (Array(summary.subject.utf8))), (.tlsCertIssuer, (Array(summary.issuer.utf8))),
            (.tlsCertSerial, (Array(summary.serial.utf8))), (.tlsCerts, (der.toArray())),
        ]
        if let fingerprint { buffers.append((.tlsCertFingerprint, (Array(fingerprint.utf8)))) }
        events.append(AppEvent(eventType: "tls", record: nil, transactionID: 0, buffers: BufferBlock(buffers), toServer: false))
    }

    static func versionName(_ v: UInt16) -> String {
        switch v {
        case 0x0200: "SSLv2"
        case 0x0300: "SSLv3"
        case 0x0301: "TLSv1"
        case 0x0302: "TLS 1.1"
        case 0x0303: "TLS 1.2"
        case 0x0304: "TLS 1.3"
        default: "UNDETERMINED"
        }
    }

    /// The EVE `tls` record, in Suricata's field order.
    func logEvent() -> AppEvent {
        logged = true
        if scratch.tlsCustom != nil { return customLogEvent() }
        var fields: [(String, JSONValue)] = []
        fields.reserveCapacity(11)
        if let c = certificate {
            fields.append(("subject", .string(c.subject)))
            fields.append(("issuerdn", .string(c.issuer)))
            fields.append(("serial", .string(c.serial)))
        }
        if let fingerprint { fields.append(("fingerprint", .string(fingerprint))) }
        if let sni { fields.append(("sni", .string(printable(sni)))) }
        fields.append(("version", .string(TLSParser.versionName(serverVersion ?? clientVersion))))
        if let c = certificate {
            fields.append(("notbefore", .string(c.notBefore)))
            fields.append(("notafter", .string(c.notAfter)))
        }
        if let ja3, let ja3Hash { fields.append(("ja3", .object([("hash", .string(ja3Hash)), ("string", .string(ja3))]))) }
        if let ja4 { fields.append(("ja4", .string(ja4))) }
        if let ja3s, let ja3sHash { fields.append(("ja3s", .object([("hash", .string(ja3sHash)), ("string", .string(ja3s))]))) }
        // TLS 1.3 echoes the session id for middleboxes: no resumption is told by it.
        if sessionResumed && certificate == nil && serverVersion != 0x0304 { fields.append(("session_resumed", .bool(true))) }
        if !clientALPNs.isEmpty { fields.append(("client_alpns", .array(clientALPNs.map { .string(printable($0)) }))) }
        if let fromProto { fields.append(("from_proto", .string(fromProto))) }
        var event = AppEvent(eventType: "tls", record: .object(fields), transactionID: 0, buffers: [], toServer: false)
        if let serverCipher { event.notes.append(.tlsCipher(serverCipher)) }
        return event
    }

    /// The `tls` record with the fields of the `custom:` list, in Suricata's order.
    func customLogEvent() -> AppEvent {
        var fields: [(String, JSONValue)] = []
        func base64(_ der: [UInt8]) -> JSONValue { .string(der.withUnsafeBytes { Base64.encode($0) }) }
        if custom("subject"), let c = certificate { fields.append(("subject", .string(c.subject))) }
        if custom("issuer"), let c = certificate { fields.append(("issuerdn", .string(c.issuer))) }
        if custom("session_resumed"), sessionResumed && certificate == nil && serverVersion != 0x0304 { fields.append(("session_resumed", .bool(true))) }
        if custom("serial"), let c = certificate { fields.append(("serial", .string(c.serial))) }
        if custom("fingerprint"), let fingerprint { fields.append(("fingerprint", .string(fingerprint))) }
        if custom("sni"), let sni { fields.append(("sni", .string(printable(sni)))) }
        if custom("version") { fields.append(("version", .string(TLSParser.versionName(serverVersion ?? clientVersion)))) }
        if custom("not_before"), let c = certificate { fields.append(("notbefore", .string(c.notBefore))) }
        if custom("not_after"), let c = certificate { fields.append(("notafter", .string(c.notAfter))) }
        if custom("certificate"), let first = chain.first { fields.append(("certificate", base64(first))) }
        if custom("chain"), !chain.isEmpty { fields.append(("chain", .array(chain.map(base64)))) }
        if custom("ja3"), let ja3, let ja3Hash { fields.append(("ja3", .object([("hash", .string(ja3Hash)), ("string", .string(ja3))]))) }
        if custom("ja3s"), let ja3s, let ja3sHash { fields.append(("ja3s", .object([("hash", .string(ja3sHash)), ("string", .string(ja3s))]))) }
        if custom("ja4"), let ja4 { fields.append(("ja4", .string(ja4))) }
        if custom("subjectaltname"), let c = certificate, !c.subjectAltNames.isEmpty {
            fields.append(("subjectaltname", .array(c.subjectAltNames.map { .string($0) })))
        }
        if custom("client"), let c = clientCertificate {
            var client: [(String, JSONValue)] = [("subject", .string(c.subject)), ("issuerdn", .string(c.issuer)), ("serial", .string(c.serial))]
            if let clientFingerprint { client.append(("fingerprint", .string(clientFingerprint))) }
            client += [("notbefore", .string(c.notBefore)), ("notafter", .string(c.notAfter))]
            if custom("client_certificate"), let first = clientChain.first { client.append(("certificate", base64(first))) }
            if custom("client_chain"), !clientChain.isEmpty { client.append(("chain", .array(clientChain.map(base64)))) }
            fields.append(("client", .object(client)))
        }
        if custom("client_alpns"), !clientALPNs.isEmpty { fields.append(("client_alpns", .array(clientALPNs.map { .string(printable($0)) }))) }
        if custom("server_handshake"), let serverVersion, let serverCipher {
            fields.append(("server_handshake", .object([("version", .string(TLSParser.versionName(serverVersion))),
                                                        ("cipher", .int(Int64(serverCipher))),
                                                        ("exts", .array(serverExtensions.map { .int(Int64($0)) }))])))
        }
        var event = AppEvent(eventType: "tls", record: .object(fields), transactionID: 0, buffers: [], toServer: false)
        if let serverCipher { event.notes.append(.tlsCipher(serverCipher)) }
        return event
    }
}

import HNDecode
import HNFlow

/// Application-layer protocol detection and parsing for one worker. Detection is by content,
/// not port: the first bytes of a stream (or datagram) decide the protocol, which is then set
/// on the flow (`Flow.appProto`). Each packet's parsing produces `AppEvent`s: EVE records to
/// write and inspection buffers for detection.
public final class AppLayer {
    /// Bytes of unrecognised data per direction after which detection gives up (Suricata
    /// marks such flows `failed`).
    static let detectionLimit = 4096

    enum Parser {
        case http(HTTPParser)
        case tls(TLSParser)
        case ssh(SSHParser)
        case dnsTCP(DNSStream)
        case smtp(SMTPParser)
        case ftp(FTPParser)
        case rdp(RDPParser)
        case smb(SMBParser)
        case imap(IMAPParser)
        case pop3(POP3Parser)
        case ldap(LDAPParser)
        /// A "220" greeting was seen: SMTP or FTP, decided by the client's first command.
        case greeting([UInt8])
        case none
    }

    final class FlowState {
        var parser = Parser.none
        /// Bytes seen before the protocol was recognised (both directions: one number, no
        /// per-flow array).
        var seen = 0
        var failed = false
        var dnsTransactions = 0
        /// The connection closed: the parser's open transactions were logged then.
        var closed = false
        /// The server's first data was seen.
        var serverSpoke = false
        /// A first chunk too short to tell its protocol, per direction, kept for the next.
        var held = Both<[UInt8]>([])

        /// Back to a new flow's state (for reuse from the pool).
        func reset() {
            parser = .none
            seen = 0
            failed = false
            dnsTransactions = 0
            closed = false
            serverSpoke = false
            held = Both([])
        }
    }

    /// States of ended flows, reset, for the next flows (bounded).
    var spareStates: [FlowState] = []
    static let maxSpareStates = 1024

    /// DNS over TCP: 2-byte length framing of messages in the stream.
    final class DNSStream {
        var buffers = Both<[UInt8]>([])
        var transactions = 0
    }

    public struct Stats: Sendable {
        /// Flows recognised, by protocol id.
        var detectedByID = [UInt64](repeating: 0, count: AppProtocol.names.count)
        /// Flows recognised, by protocol name (those seen at least once).
        public var detected: [String: UInt64] {
            var out: [String: UInt64] = [:]
            for (id, n) in detectedByID.enumerated() where n > 0 { out[AppProtocol.names[id]] = n }
            return out
        }

        mutating func count(_ id: UInt8) { detectedByID[Int(id)] += 1 }
        public var failed: UInt64 = 0
        public var transactions: UInt64 = 0
        /// Flows that changed protocol on the way: STARTTLS and the like, CONNECT tunnels.
        public var upgrades: UInt64 = 0
    }

    /// Per flow, at its slot in the flow table (`Flow.slot`); cleared when the flow ends.
    var states: [FlowState?] = []

    /// The state of `flow`, made on first use.
    func state(_ flow: Flow) -> FlowState {
        let slot = Int(flow.slot)
        if slot >= states.count { states.append(contentsOf: repeatElement(nil, count: slot + 1 - states.count)) }
        if let s = states[slot] { return s }
        let s = spareStates.popLast() ?? FlowState()
        states[slot] = s
        return s
    }
    /// Data connections announced on FTP control flows: server endpoint → control flow id.
    struct Endpoint: Hashable { var address: IPAddress; var port: UInt16 }
    var expectedFTPData: [Endpoint: UInt64] = [:]
    /// Announcements kept at most (a hostile control connection cannot grow this).
    static let maxExpectedFTPData = 4096
    public private(set) var stats = Stats()

    /// Working memory shared by this pipeline's parsers.
    let scratch = ParserScratch()

    public init() {}

    /// Whether the HTTP parser keeps bodies for the detection engine (the pipeline turns it
    /// off when no rule reads them: nothing else does).
    public var keepBodies: Bool {
        get { scratch.keepBodies }
        set { scratch.keepBodies = newValue }
    }

    /// HTTP records list every header of the request and of the response.
    public func dumpHTTPHeaders(request: Bool, response: Bool) {
        scratch.httpRequestHeaders = request
        scratch.httpResponseHeaders = response
    }

    /// TLS records with exactly the fields of Suricata's `custom:` list (nil: the default).
    public func tlsCustomFields(_ fields: Set<String>?) { scratch.tlsCustom = fields }

    /// SSH records carry HASSH (logged after both KEXINITs) rather than the banners alone.
    public var sshHassh: Bool {
        get { scratch.hassh }
        set { scratch.hassh = newValue }
    }

    public func flowEnded(_ flow: inout Flow, events: inout [AppEvent]) {
        let slot = Int(flow.slot)
        guard slot < states.count, let state = states[slot] else { return }
        states[slot] = nil
        // A CONNECT tunnel whose protocol was never recognised: detection failed inside it.
        if case .none = state.parser, flow.appProtoOrig != 0, flow.appProto == flow.appProtoOrig { flow.appProto = AppProtocol.failed }
        if !state.closed { finish(state.parser, events: &events) }
        // Kept until the next flow ends: alerts raised at this flow's end take its records.
        if let (_, previous) = lastEnded, spareStates.count < AppLayer.maxSpareStates {
            previous.reset()
            spareStates.append(previous)
        }
        lastEnded = (flow.id, state)
    }

    /// The state of the flow that ended last, and its flow id.
    var lastEnded: (UInt64, FlowState)? = nil

    /// The TCP connection closed (the last FIN acknowledged, or a reset): the stream's end,
    /// where Suricata's parsers see EOF and log their open transactions, on this packet.
    public func connectionClosed(_ flow: Flow, events: inout [AppEvent]) {
        let slot = Int(flow.slot)
        guard slot < states.count, let state = states[slot], !state.closed else { return }
        state.closed = true
        finish(state.parser, events: &events)
    }

    /// A parser's open transactions, logged at the stream's end.
    func finish(_ parser: Parser, events: inout [AppEvent]) {
        switch parser {
        case .http(let p): p.flush(&events)
        case .tls(let p): if !p.logged && (p.sni != nil || p.serverVersion != nil || p.clientVersion != 0) { events.append(p.logEvent()) }
        case .ssh(let p): if !p.logged && (p.banner[0] != nil || p.banner[1] != nil) { events.append(p.logEvent()) }
        case .smtp(let p): p.flush(&events)
        case .ftp(let p): p.flush(&events)
        case .smb(let p): p.flush(&events)
        default: break
        }
    }

    /// A new TCP flow to an endpoint an FTP control connection announced is FTP data.
    public func flowStarted(_ flow: inout Flow) {
        guard !expectedFTPData.isEmpty, flow.proto == IPProto.tcp else { return }
        let keys = [Endpoint(address: flow.server, port: flow.serverPort), Endpoint(address: flow.client, port: flow.clientPort)]
        for key in keys where expectedFTPData.removeValue(forKey: key) != nil {
            flow.appProto = AppProtocol.ftpData
            stats.count(AppProtocol.ftpData)
            return
        }
    }

    /// Facts about the flow's protocol state that rules test directly.
    /// The record of transaction `tx` of a flow for an alert on it: from this packet's
    /// events when one logged it, else from the parser's state (HTTP, SSH).
    public func alertMetadata(_ flow: Flow, eventType: String, tx: Int, events: [AppEvent]) -> AlertApp? {
        if let e = events.last(where: { $0.eventType == eventType && $0.transactionID == tx && $0.record != nil }), let record = e.record {
            return AlertApp(transactionID: tx, objects: [(eventType, record)] + e.siblings + e.alertObjects)
        }
        if let e = events.last(where: { $0.eventType == eventType && $0.transactionID == tx && !$0.alertObjects.isEmpty }) {
            return AlertApp(transactionID: tx, objects: e.alertObjects)
        }
        let slot = Int(flow.slot)
        guard let state = slot < states.count ? states[slot] ?? (lastEnded?.0 == flow.id ? lastEnded?.1 : nil) : nil else { return nil }
        switch state.parser {
        case .http(let p): return p.snapshot(tx).map { AlertApp(transactionID: tx, objects: [("http", $0)]) }
        case .ssh(let p): return AlertApp(transactionID: tx, objects: [("ssh", p.record)])
        default: return nil
        }
    }

    public func facts(_ flow: Flow) -> AppFacts? {
        let slot = Int(flow.slot)
        guard slot < states.count, let state = states[slot], case .tls(let p) = state.parser else { return nil }
        return p.facts
    }

    static let smtpPorts: Set<UInt16> = [25, 587, 2525]
    /// A first chunk shorter than this may be a protocol's start cut short: it is kept and
    /// detection tried again with the next one.
    static let shortChunk = 16
    /// RFC 5321 §4.1 commands (and RFC 3207, 4954).
    static let smtpVerbs: Set<String> = ["MAIL", "RCPT", "DATA", "RSET", "NOOP", "QUIT", "VRFY", "EXPN", "STARTTLS", "AUTH", "BDAT"]
    /// RFC 959 and later FTP commands.
    static let ftpVerbs: Set<String> = ["PASS", "ACCT", "CWD", "CDUP", "QUIT", "PORT", "PASV", "EPRT", "EPSV", "TYPE", "RETR",
                                        "STOR", "LIST", "NLST", "PWD", "MKD", "RMD", "DELE", "NOOP", "HELP", "SITE", "OPTS", "REST"]

    /// The first word of a command line, upper-cased, when the data starts with 3 to 8 letters
    /// ended by a space or the line's end; "" otherwise.
    static func commandVerb(_ data: ByteView) -> String {
        var letters: [UInt8] = []
        for i in 0..<min(data.count, 9) {
            guard let b = data.u8(i) else { break }
            if b == 0x20 || b == 0x0D || b == 0x0A { break }
            guard (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A) else { return "" }
            letters.append(b & 0xDF)
        }
        guard letters.count >= 3, letters.count <= 8, letters.count < data.count else { return "" }
        return String(decoding: letters, as: UTF8.self)
    }

    func detect(_ data: ByteView, toServer: Bool, flow: Flow) -> (Parser, UInt8)? {
        if HTTPParser.looksLikeRequest(data) && toServer || HTTPParser.looksLikeResponse(data) && !toServer {
            return (.http(HTTPParser(scratch: scratch)), AppProtocol.http)
        }
        if TLSParser.looksLikeTLS(data) { return (.tls(TLSParser(scratch: scratch)), AppProtocol.tls) }
        if SSHParser.looksLikeSSH(data) { return (.ssh(SSHParser(scratch: scratch)), AppProtocol.ssh) }
        if toServer && RDPParser.looksLikeRDP(data) { return (.rdp(RDPParser()), AppProtocol.rdp) }
        if toServer && LDAPParser.looksLikeLDAP(data, port: flow.serverPort) { return (.ldap(LDAPParser()), AppProtocol.ldap) }
        if SMBParser.looksLikeSMB(data) { return (.smb(SMBParser(fileData: scratch.keepBodies)), AppProtocol.smb) }
        if toServer, let verb = Optional(AppLayer.commandVerb(data)) {
            if ["EHLO", "HELO"].contains(verb) { return (.smtp(SMTPParser(files: scratch.keepBodies)), AppProtocol.smtp) }
            if ["USER", "FEAT", "SYST", "AUTH"].contains(verb) && flow.serverPort == 21 { return (.ftp(FTPParser()), AppProtocol.ftp) }
            // Picked up without the greeting (or the server said nothing): a command of the
            // protocol on its own port, as Suricata's probing parsers decide.
            if AppLayer.smtpPorts.contains(flow.serverPort) && AppLayer.smtpVerbs.contains(verb) { return (.smtp(SMTPParser(files: scratch.keepBodies)), AppProtocol.smtp) }
            if flow.serverPort == 21 && AppLayer.ftpVerbs.contains(verb) { return (.ftp(FTPParser()), AppProtocol.ftp) }
        }
        if let length = data.u16(0), length >= 12, let message = data.slice(2, min(Int(length), data.count - 2)) {
            // Port 53: any parseable message; elsewhere only a query that passes the strict test.
            let onPort53 = flow.serverPort == 53 || flow.clientPort == 53
            if onPort53 && (DNSParser.parse(message) != nil || data.count < Int(length) + 2)
                || toServer && message.count == Int(length) && DNSParser.looksLikeQuery(message) {
                return (.dnsTCP(DNSStream()), AppProtocol.dns)
            }
        }
        return nil
    }

    /// In-order stream data of a TCP flow.
    public func stream(_ chunk: StreamReassembler.Chunk, toServer: Bool, flow: inout Flow, events: inout [AppEvent]) {
        let state = state(flow)
        guard let data = chunk.bytes else {
            if case .http(let p) = state.parser, case .gap(let size) = chunk { p.gap(toServer: toServer, size: size, events: &events) }
            return
        }
        if !toServer && !state.serverSpoke {
            state.serverSpoke = true
            // A TLS ClientHello answered with a mail server's greeting: the server's side is
            // SMTP (Suricata's protocol per direction, EVE's app_proto_tc).
            if case .tls = state.parser, flow.appProto == AppProtocol.tls, flow.appProtoOrig == 0, data.count >= 4,
               data.u8(0) == UInt8(ascii: "2"), data.u8(1) == UInt8(ascii: "2"), data.u8(2) == UInt8(ascii: "0"),
               data.u8(3) == 0x20 || data.u8(3) == UInt8(ascii: "-"),
               AppLayer.smtpPorts.contains(flow.serverPort) || flow.serverPort == 465 || data.prefix(512).toArray().contains(Array("SMTP".utf8)) {
                flow.appProtoToClient = AppProtocol.smtp
            }
        }
        if case .greeting(let banner) = state.parser {
            guard toServer else { return }
            // The client's first command tells SMTP from FTP; the parser gets the greeting too.
            let verb = data.prefix(16).toArray().commandAndArgument.0
            if TLSParser.looksLikeTLS(data) {
                // Implicit TLS after the greeting: the client's side is TLS, the server's
                // stays what its greeting was (SMTP on a mail port).
                state.parser = .tls(TLSParser(scratch: scratch))
                flow.appProto = AppProtocol.tls
                if AppLayer.smtpPorts.contains(flow.serverPort) { flow.appProtoToClient = AppProtocol.smtp }
                stats.count(AppProtocol.tls)
            } else if ["EHLO", "HELO"].contains(verb) {
                state.parser = .smtp(SMTPParser(files: scratch.keepBodies))
                flow.appProto = AppProtocol.smtp
                stats.count(AppProtocol.smtp)
            } else {
                let p = FTPParser()
                banner.withUnsafeBytes { p.receive(ByteView($0), toServer: false, events: &events) }
                state.parser = .ftp(p)
                flow.appProto = AppProtocol.ftp
                stats.count(AppProtocol.ftp)
            }
        }
        if case .none = state.parser {
            guard !state.failed else { return }
            if !toServer, data.count >= 4, data.u8(0) == UInt8(ascii: "2"), data.u8(1) == UInt8(ascii: "2"),
               data.u8(2) == UInt8(ascii: "0"), data.u8(3) == 0x20 || data.u8(3) == UInt8(ascii: "-") {
                state.parser = .greeting(data.prefix(1024).toArray())
                return
            }
            // Mail access protocols greet first too (RFC 9051 §7.1.1, RFC 1939 §4).
            if !toServer, IMAPParser.looksLikeGreeting(data) || POP3Parser.looksLikeGreeting(data) {
                let imap = IMAPParser.looksLikeGreeting(data)
                state.parser = imap ? .imap(IMAPParser()) : .pop3(POP3Parser())
                flow.appProto = imap ? AppProtocol.imap : AppProtocol.pop3
                stats.count(flow.appProto)
                return
            }
            let d = toServer ? 0 : 1
            // Line ends before a protocol's first bytes (left over from a tunnel's request
            // head) are not its start.
            var lead = 0
            while let b = data.u8(lead), b == 0x0D || b == 0x0A { lead += 1 }
            if lead > 0 {
                state.seen += lead
                if let rest = data.suffix(from: lead), rest.count > 0 { stream(.data(rest), toServer: toServer, flow: &flow, events: &events) }
                return
            }
            if !state.held[d].isEmpty {
                // The short chunk kept before, with this one, tried again as one.
                var joined = state.held[d]
                state.held[d] = []
                joined.append(contentsOf: data.rawBuffer)
                joined.withUnsafeBytes { stream(.data(ByteView($0)), toServer: toServer, flow: &flow, events: &events) }
                return
            }
            if let (parser, id) = detect(data, toServer: toServer, flow: flow) {
                if case .tls(let p) = parser, flow.appProtoOrig != 0 { p.notesLoginPhase = false }  // inside a tunnel
                state.parser = parser
                flow.appProto = id
                stats.count(id)
            } else if data.count < AppLayer.shortChunk && state.seen == 0 {
                // Too short to tell (a request line cut after "GE"): kept for the next chunk.
                state.held[d] = data.toArray()
                return
            } else {
                state.seen += data.count
                if state.seen >= AppLayer.detectionLimit {
                    state.failed = true
                    flow.appProto = AppProtocol.failed
                    stats.failed += 1
                }
                return
            }
        }
        // STARTTLS and the like: a TLS record from the client once TLS was asked for is the
        // upgrade, even when the server's agreement has not been read yet.
        if toServer, let tls = startTLS(state.parser), tls.pending, TLSParser.looksLikeTLS(data) {
            upgradeToTLS(state, flow: &flow, events: &events)
        }
        let before = events.count
        switch state.parser {
        case .http(let p): p.receive(data, toServer: toServer, events: &events)
        case .tls(let p): p.receive(data, toServer: toServer, events: &events)
        case .ssh(let p): p.receive(data, toServer: toServer, events: &events)
        case .dnsTCP(let s): dnsStream(s, data, toServer: toServer, events: &events)
        case .smtp(let p): p.receive(data, toServer: toServer, events: &events)
        case .ftp(let p):
            p.receive(data, toServer: toServer, events: &events)
            for a in p.announcedData where expectedFTPData.count < AppLayer.maxExpectedFTPData {
                // Passive: the server listens (on its own address unless told otherwise);
                // active: the client does.
                let address = a.address ?? (a.passive ? flow.server : flow.client)
                expectedFTPData[Endpoint(address: address, port: a.port)] = flow.id
            }
            p.announcedData.removeAll()
        case .rdp(let p): p.receive(data, toServer: toServer, events: &events)
        case .smb(let p): p.receive(data, toServer: toServer, events: &events)
        case .imap(let p): p.receive(data, toServer: toServer, events: &events)
        case .pop3(let p): p.receive(data, toServer: toServer, events: &events)
        case .ldap(let p): p.receive(data, toServer: toServer)
        case .greeting, .none: break
        }
        for i in before..<events.count where events[i].record != nil { stats.transactions += 1 }
        if let tls = startTLS(state.parser), tls.agreed {
            upgradeToTLS(state, flow: &flow, events: &events)
        } else if case .http(let p) = state.parser, p.tunnelOpen {
            openTunnel(p, state, flow: &flow, events: &events)
        }
    }

    /// The STARTTLS state of a line protocol's parser (SMTP STARTTLS, FTP AUTH TLS, IMAP
    /// STARTTLS, POP3 STLS): whether TLS was asked for, and whether the server agreed.
    func startTLS(_ parser: Parser) -> (pending: Bool, agreed: Bool)? {
        switch parser {
        case .smtp(let p): (p.tlsPending, p.tlsAgreed)
        case .ftp(let p): (p.tlsPending, p.tlsAgreed)
        case .imap(let p): (p.tlsPending, p.tlsAgreed)
        case .pop3(let p): (p.tlsPending, p.tlsAgreed)
        case .ldap(let p): (p.tlsPending, p.tlsAgreed)
        default: nil
        }
    }

    /// Hands the flow to a TLS parser, as Suricata changes the flow's protocol on STARTTLS:
    /// `tls` records, `tls.*` buffers and the TLS detectors apply from here, and EVE's flow
    /// record keeps the first protocol as `app_proto_orig`.
    func upgradeToTLS(_ state: FlowState, flow: inout Flow, events: inout [AppEvent]) {
        if case .smtp(let p) = state.parser { p.flush(&events) }  // the envelope seen so far is logged now
        if case .ftp(let p) = state.parser { p.flush(&events) }
        let tls = TLSParser(scratch: scratch)
        tls.notesLoginPhase = false
        // Suricata names the protocol an LDAP session upgraded from in its TLS record.
        if case .ldap = state.parser { tls.fromProto = "ldap" }
        state.parser = .tls(tls)
        if flow.appProtoOrig == 0 { flow.appProtoOrig = flow.appProto }
        flow.appProto = AppProtocol.tls
        stats.count(AppProtocol.tls)
        stats.upgrades += 1
    }

    /// An HTTP CONNECT answered 2xx: the protocol inside the tunnel is detected anew from its
    /// first bytes (those the HTTP parser held after the two heads are handed on first).
    func openTunnel(_ http: HTTPParser, _ state: FlowState, flow: inout Flow, events: inout [AppEvent]) {
        let held = [http.requestBuffer, http.responseBuffer]
        state.parser = .none
        state.seen = 0
        if flow.appProtoOrig == 0 { flow.appProtoOrig = flow.appProto }
        stats.upgrades += 1
        for (d, bytes) in [(0, held[0]), (1, held[1])] where !bytes.isEmpty {
            bytes.withUnsafeBytes { stream(.data(ByteView($0)), toServer: d == 0, flow: &flow, events: &events) }
        }
    }

    func dnsStream(_ s: DNSStream, _ data: ByteView, toServer: Bool, events: inout [AppEvent]) {
        let d = toServer ? 0 : 1
        s.buffers[d].append(contentsOf: data.rawBuffer)
        while s.buffers[d].count >= 2 {
            let length = Int(s.buffers[d][0]) << 8 | Int(s.buffers[d][1])
            guard s.buffers[d].count >= 2 + length else { return }
            let message = Array(s.buffers[d][2..<(2 + length)])
            s.buffers[d].removeFirst(2 + length)
            message.withUnsafeBytes { raw in
                if let m = DNSParser.parse(ByteView(raw)) {
                    // As Suricata: each message, request or response, is a transaction.
                    events.append(DNSParser.event(m, transactionID: s.transactions))
                    s.transactions += 1
                }
            }
        }
    }

    /// A UDP datagram: DNS is recognised by its structure, on port 53 or, with the strict
    /// query test, on any port when a flow starts with it.
    public func datagram(_ packet: Packet, toServer: Bool, flow: inout Flow, events: inout [AppEvent]) {
        // DHCP (RFC 2131): BOOTP between ports 67 and 68 with the options' magic cookie.
        if flow.appProto == 0 || flow.appProto == AppProtocol.dhcp,
           [67, 68].contains(flow.serverPort) && [67, 68].contains(flow.clientPort), packet.payload.u32(236) == 0x6382_5363 {
            if flow.appProto == 0 {
                flow.appProto = AppProtocol.dhcp
                stats.count(AppProtocol.dhcp)
            }
            return
        }
        let isDNS = flow.appProto == AppProtocol.dns
        // NetBIOS name service (137) borrows DNS's layout but is not DNS.
        let netbios = flow.serverPort == 137 || flow.clientPort == 137
        guard isDNS || flow.serverPort == 53 || flow.clientPort == 53
            || (flow.appProto == 0 && !netbios && toServer && flow.packetsToClient == 0 && DNSParser.looksLikeQuery(packet.payload)),
              let m = DNSParser.parse(packet.payload) else {
            // As Suricata: a datagram whose protocol is not recognised fails detection (on
            // DNS's port, detection goes on with the next one).
            if flow.appProto == 0 && packet.payload.count > 0 && flow.serverPort != 53 && flow.clientPort != 53 { flow.appProto = AppProtocol.failed }
            return
        }
        let state = state(flow)
        if flow.appProto == 0 {
            flow.appProto = AppProtocol.dns
            stats.count(AppProtocol.dns)
        }
        // As Suricata: each message, request or response, is a transaction.
        events.append(DNSParser.event(m, transactionID: state.dnsTransactions))
        state.dnsTransactions += 1
        stats.transactions += 1
    }
}

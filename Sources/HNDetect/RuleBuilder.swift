import HNAppLayer
import HNDecode

/// Why an option was refused.
struct OptionProblem: Error, ExpressibleByStringInterpolation {
    var text: String
    var unsupported = false

    init(text: String, unsupported: Bool = false) {
        self.text = text
        self.unsupported = unsupported
    }

    init(stringLiteral value: String) { self.text = value }
}

/// Applies rule options in order, tracking the sticky buffer and the item that modifiers such
/// as `nocase` or `within` refer to.
struct Builder {
    var rule: Rule
    /// Index into `rule.buffers` of the buffer content goes to now.
    var currentBuffer: InspectionBuffer = .payload
    /// Where the last content/pcre/byte item sits: (buffer list index, item index).
    var lastItem: (list: Int, item: Int)? = nil
    /// Where the last content sits: modifiers such as nocase and fast_pattern apply to it
    /// even after a bsize or isdataat.
    var lastContent: (list: Int, item: Int)? = nil
    /// A transform named before any item of the current buffer.
    var pendingDotPrefix = false

    init(rule: Rule) { self.rule = rule }

    static func problem(_ text: String) -> OptionProblem { OptionProblem(text: text) }

    /// Keywords accepted and ignored: they change neither matching nor the alert record here.
    static let ignored: Set<String> = ["rawbytes", "tag", "dce_iface", "dce_opnum", "dce_stub_data", "prefilter", "filestore", "noalert-legacy", "requires", "config"]

    /// Keywords known from Suricata that this engine does not implement; a rule using one is
    /// reported as unsupported (with the keyword) and not loaded.
    static let unsupported: Set<String> = [
        "byte_extract", "byte_math", "base64_decode", "asn1", "stream_size", "app-layer-event", "lua", "luajit",
        "iprep", "datarep", "dataset", "file.name", "filename", "fileext", "filemagic", "filemd5", "filesha1", "filesha256",
        "filesize", "fileext", "file.magic", "entropy", "transform", "to_lowercase", "to_uppercase", "pcrexform",
        "url_decode", "strip_whitespace", "compress_whitespace", "to_md5", "to_sha1", "to_sha256",
        "xor", "header_lowercase", "strip_pseudo_headers", "ftpbounce", "ftpdata_command", "icmp_id-range", "ipopts",
        "tos", "tcp.mss", "tcp.hdr", "udp.hdr", "ipv4.hdr", "ipv6.hdr", "icmpv4.hdr", "icmpv6.hdr", "target-legacy",
        "cip_service", "enip_command", "modbus", "dnp3_func", "dnp3_ind", "dnp3_obj", "dnp3_data", "krb5_msg_type",
        "krb5_err_code", "krb5.cname", "krb5.sname", "snmp.version", "snmp.community", "snmp.pdu_type", "ike.init_spi",
        "mqtt.type", "rfb.name", "sip.method", "http2.frametype", "dns.opcode", "tls.cert_notbefore", "tls.cert_notafter",
        "tls_cert_notbefore", "tls_cert_notafter", "tls.store", "tls_store", "smb.ntlmssp_user", "smb.ntlmssp_domain",
        "ssh.hassh.server", "ssh.hasshserver", "bypass", "replace", "stream_size-legacy", "frame", "app-layer-state",
    ]

    mutating func listIndex(_ buffer: InspectionBuffer) -> Int {
        if let i = rule.buffers.firstIndex(where: { $0.buffer == buffer }) { return i }
        rule.buffers.append(BufferMatch(buffer: buffer, items: []))
        return rule.buffers.count - 1
    }

    mutating func append(_ item: MatchItem, to buffer: InspectionBuffer) {
        let l = listIndex(buffer)
        if pendingDotPrefix && buffer == currentBuffer {
            rule.buffers[l].dotPrefix = true
            pendingDotPrefix = false
        }
        rule.buffers[l].items.append(item)
        lastItem = (l, rule.buffers[l].items.count - 1)
        if case .content = item { lastContent = lastItem }
    }

    /// The last content, for modifiers.
    mutating func withLastContent(_ keyword: String, _ body: (inout ContentMatch) -> String?) -> OptionProblem? {
        guard let last = lastContent, case .content(var c) = rule.buffers[last.list].items[last.item] else {
            return Builder.problem("must follow a content")
        }
        if let message = body(&c) { return Builder.problem(message) }
        rule.buffers[last.list].items[last.item] = .content(c)
        return nil
    }

    func unquote(_ value: String) -> String {
        var v = value
        if v.hasPrefix("\""), v.hasSuffix("\""), v.count >= 2 { v = String(v.dropFirst().dropLast()) }
        // Undo the rule language's escapes.
        var out = "", escaped = false
        for c in v {
            if escaped { out.append(c); escaped = false } else if c == "\\" { escaped = true } else { out.append(c) }
        }
        return out
    }

    static func integer(_ v: String?) -> Int? {
        guard let v = v?.trimmingSpaces, let n = Int(v) else { return nil }
        return n
    }

    mutating func apply(_ option: RuleParser.Option) -> OptionProblem? {
        let name = option.name
        let value = option.value
        switch name {
        // MARK: Metadata
        case "msg":
            guard let v = value else { return Builder.problem("needs a value") }
            rule.message = unquote(v)
        case "sid":
            guard let v = Builder.integer(value), v > 0, v <= Int(UInt32.max) else { return Builder.problem("must be a positive number") }
            rule.sid = UInt32(v)
        case "rev":
            guard let v = Builder.integer(value), v >= 0, v <= Int(UInt32.max) else { return Builder.problem("must be a number") }
            rule.rev = UInt32(v)
        case "gid":
            guard let v = Builder.integer(value), v >= 0, v <= Int(UInt32.max) else { return Builder.problem("must be a number") }
            rule.gid = UInt32(v)
        case "classtype":
            guard let v = value, !v.isEmpty else { return Builder.problem("needs a value") }
            rule.classtype = v
        case "priority":
            guard let v = Builder.integer(value), v >= 1, v <= 255 else { return Builder.problem("must be a number from 1 to 255") }
            rule.priority = v
        case "reference":
            guard let v = value else { return Builder.problem("needs a value") }
            rule.references.append(v)
        case "metadata":
            guard let v = value else { return Builder.problem("needs a value") }
            for pair in v.split(separator: ",") {
                let t = pair.trimmingSpaces
                if let space = t.firstIndex(of: " ") {
                    rule.metadata.append((String(t[..<space]), String(t[t.index(after: space)...]).trimmingSpaces))
                } else if !t.isEmpty {
                    rule.metadata.append((String(t), ""))
                }
            }
        case "target":
            guard let v = value, v == "src_ip" || v == "dest_ip" else { return Builder.problem("must be src_ip or dest_ip") }
            rule.target = v
        case "noalert":
            rule.noalert = true

        // MARK: Payload
        case "content", "uricontent":
            guard var v = value?.trimmingSpaces else { return Builder.problem("needs a value") }
            var negated = false
            if v.hasPrefix("!") { negated = true; v = String(v.dropFirst()).trimmingSpaces }
            guard v.hasPrefix("\""), v.hasSuffix("\""), v.count >= 2 else { return Builder.problem("the pattern must be in double quotes") }
            switch ContentMatch.decode(String(v.dropFirst().dropLast())) {
            case .failure(let m): return m
            case .success(let bytes):
                var c = ContentMatch(pattern: bytes)
                c.negated = negated
                append(.content(c), to: name == "uricontent" ? .httpURI : currentBuffer)
            }
        case "nocase":
            return withLastContent(name) { $0.nocase = true; return nil }
        case "depth", "offset", "distance", "within":
            guard let n = Builder.integer(value) else {
                if value.map({ $0.first?.isLetter ?? false }) == true { return OptionProblem(text: "byte_extract variables are not supported", unsupported: true) }
                return Builder.problem("must be a number")
            }
            return withLastContent(name) { c in
                switch name {
                case "depth":
                    guard n >= 1 else { return "must be at least 1" }
                    guard c.distance == nil && c.within == nil else { return "cannot be combined with distance/within" }
                    c.depth = n
                case "offset":
                    guard n >= 0 else { return "must not be negative" }
                    guard c.distance == nil && c.within == nil else { return "cannot be combined with distance/within" }
                    c.offset = n
                case "distance":
                    guard c.depth == nil && c.offset == nil else { return "cannot be combined with depth/offset" }
                    c.distance = n
                default:
                    guard n >= c.pattern.count else { return "within (\(n)) is shorter than the content (\(c.pattern.count))" }
                    guard c.depth == nil && c.offset == nil else { return "cannot be combined with depth/offset" }
                    c.within = n
                }
                return nil
            }
        case "startswith":
            return withLastContent(name) { c in
                guard c.depth == nil && c.offset == nil && !c.isRelative else { return "cannot be combined with depth, offset, distance or within" }
                c.startsWith = true
                return nil
            }
        case "endswith":
            return withLastContent(name) { $0.endsWith = true; return nil }
        case "fast_pattern":
            return withLastContent(name) { c in
                guard !c.negated || value == nil else { return "cannot be used on a negated content with options" }
                c.fastPattern = true
                return nil
            }
        case "pcre":
            guard var v = value?.trimmingSpaces else { return Builder.problem("needs a value") }
            var negated = false
            if v.hasPrefix("!") { negated = true; v = String(v.dropFirst()).trimmingSpaces }
            // Suricata also accepts an unquoted /…/flags.
            if v.hasPrefix("/") { v = "\"" + v + "\"" }
            guard v.hasPrefix("\""), v.hasSuffix("\""), v.count >= 2 else { return Builder.problem("the expression must be in double quotes") }
            switch PCREMatch.parse(String(v.dropFirst().dropLast()), negated: negated) {
            case .failure(let m): return m
            case .success(let (p, buffer)): append(.pcre(p), to: buffer ?? currentBuffer)
            }
        case "isdataat":
            guard let v = value else { return Builder.problem("needs a value") }
            let parts = v.split(separator: ",").map { $0.trimmingSpaces }
            var n = parts.first ?? ""
            var check = IsDataAt(offset: 0)
            if n.hasPrefix("!") { check.negated = true; n = n.dropFirst() }
            guard let offset = Int(n) else { return Builder.problem("needs a number") }
            check.offset = offset
            for p in parts.dropFirst() {
                if p == "relative" { check.relative = true } else if p != "rawbytes" { return Builder.problem("unknown option '\(p)'") }
            }
            append(.isDataAt(check), to: currentBuffer)
        case "bsize":
            guard let v = value, let r = NumberRange.parse(v) else { return Builder.problem("expected N, <N, >N or N<>M") }
            append(.size(SizeCheck(range: r)), to: currentBuffer)
        case "urilen":
            guard let v = value?.split(separator: ",").first.map(String.init), let r = NumberRange.parse(v) else { return Builder.problem("expected N, <N, >N or N<>M") }
            let l = listIndex(.httpURI)
            rule.buffers[l].items.append(.size(SizeCheck(range: r)))
        case "byte_test":
            switch parseByteTest(value ?? "") {
            case .failure(let m): return m
            case .success(let t): append(.byteTest(t), to: currentBuffer)
            }
        case "byte_jump":
            switch parseByteJump(value ?? "") {
            case .failure(let m): return m
            case .success(let j): append(.byteJump(j), to: currentBuffer)
            }

        // MARK: Packet header
        case "dsize":
            guard let v = value, let r = NumberRange.parse(v) else { return Builder.problem("expected N, <N, >N or N<>M") }
            rule.packetChecks.append(.dsize(r))
        case "flags":
            guard let v = value, let f = TCPFlagsCheck.parse(v) else { return Builder.problem("expected flags such as S, SA+, !R or S,CE") }
            rule.packetChecks.append(.flags(f))
        case "ttl":
            guard let v = value, let r = NumberRange.parse(v, allowDash: true) else { return Builder.problem("expected N, <N, >N or N-M") }
            rule.packetChecks.append(.ttl(r))
        case "itype", "icode":
            guard let v = value, let r = NumberRange.parse(v) else { return Builder.problem("expected N, <N, >N or N<>M") }
            rule.packetChecks.append(name == "itype" ? .itype(r) : .icode(r))
        case "ip_proto":
            guard let v = value?.trimmingSpaces else { return Builder.problem("needs a value") }
            let names: [String: Int] = ["tcp": 6, "udp": 17, "icmp": 1, "ipv6-icmp": 58, "igmp": 2, "gre": 47, "esp": 50, "ah": 51, "sctp": 132, "ipip": 4, "ospf": 89, "pim": 103, "vrrp": 112]
            let negated = v.hasPrefix("!")
            let body = negated ? String(v.dropFirst()) : v
            if let n = names[body.lowercased()] {
                rule.packetChecks.append(.ipProto(NumberRange(op: negated ? .ne : .eq, a: n, b: 0)))
            } else if let r = NumberRange.parse(v) {
                rule.packetChecks.append(.ipProto(r))
            } else {
                return Builder.problem("expected a protocol number or name")
            }
        case "window":
            guard let v = value, let r = NumberRange.parse(v) else { return Builder.problem("expected a number") }
            rule.packetChecks.append(.window(r))
        case "seq", "ack":
            guard let v = value.flatMap({ UInt32($0.trimmingSpaces) }) else { return Builder.problem("expected a number") }
            rule.packetChecks.append(name == "seq" ? .seq(v) : .ack(v))
        case "id":
            guard let v = value, let r = NumberRange.parse(v) else { return Builder.problem("expected a number") }
            rule.packetChecks.append(.ipID(r))
        case "icmp_id", "icmp_seq":
            guard let v = value.flatMap({ UInt16($0.trimmingSpaces) }) else { return Builder.problem("expected a number from 0 to 65535") }
            rule.packetChecks.append(name == "icmp_id" ? .icmpID(v) : .icmpSeq(v))
        case "sameip":
            rule.packetChecks.append(.sameIP)
        case "fragbits":
            guard let v = value, let f = FragBitsCheck.parse(v) else { return Builder.problem("expected M, D, R with +, * or !") }
            rule.packetChecks.append(.fragbits(f))

        // MARK: Flow
        case "flow":
            guard let v = value else { return Builder.problem("needs a value") }
            var f = rule.flow ?? FlowOptions()
            for word in v.split(separator: ",").map({ $0.trimmingSpaces }) {
                switch word {
                case "established": f.established = true
                case "not_established": f.notEstablished = true
                case "stateless": f.stateless = true
                case "to_server", "from_client": f.toServer = true
                case "to_client", "from_server": f.toClient = true
                case "only_stream": f.onlyStream = true
                case "no_stream": f.noStream = true
                case "only_frag": f.onlyFragment = true
                case "no_frag": f.noFragment = true
                default: return Builder.problem("unknown flow option '\(word)'")
                }
            }
            if f.toServer && f.toClient { return Builder.problem("to_server and to_client together never match") }
            if f.established && f.notEstablished { return Builder.problem("established and not_established together never match") }
            rule.flow = f
        case "flowbits":
            guard let v = value else { return Builder.problem("needs a value") }
            let parts = v.split(separator: ",", maxSplits: 1).map { $0.trimmingSpaces }
            guard let kind = FlowbitOperation.Kind(rawValue: String(parts[0])) else { return Builder.problem("unknown operation '\(parts[0])'") }
            if kind == .noalert { rule.noalert = true; return nil }
            guard parts.count == 2, !parts[1].isEmpty else { return Builder.problem("\(kind.rawValue) needs a name") }
            let any = parts[1].contains("|")
            let names = parts[1].split(whereSeparator: { $0 == "|" || $0 == "&" }).map { String($0.trimmingSpaces) }
            rule.flowbits.append(FlowbitOperation(kind: kind, names: names, any: any))
        case "xbits":
            guard let v = value else { return Builder.problem("needs a value") }
            let parts = v.split(separator: ",").map { String($0.trimmingSpaces) }
            guard parts.count >= 3, let kind = FlowbitOperation.Kind(rawValue: parts[0]) else { return Builder.problem("expected operation,name,track ip_src|ip_dst|ip_pair") }
            var x = XbitOperation(kind: kind, name: parts[1], track: .source)
            for p in parts.dropFirst(2) {
                let w = p.split(separator: " ")
                if w.count == 2 && w[0] == "track", let t = XbitOperation.Track(rawValue: String(w[1])) { x.track = t }
                else if w.count == 2 && w[0] == "expire", let e = Int64(w[1]) { x.expireSeconds = e }
                else { return Builder.problem("unknown xbits option '\(p)'") }
            }
            rule.xbits.append(x)
        case "flowint":
            guard let v = value else { return Builder.problem("needs a value") }
            let parts = v.split(separator: ",").map { String($0.trimmingSpaces) }
            guard parts.count >= 2, let op = FlowintOperation.Op(rawValue: parts[1]) else { return Builder.problem("expected name,operator[,value]") }
            var f = FlowintOperation(name: parts[0], op: op)
            if op != .isSet && op != .notSet && op != .isNotSet {
                guard parts.count == 3 else { return Builder.problem("\(op.rawValue) needs a value") }
                if let n = Int64(parts[2]) { f.value = n } else { f.valueName = parts[2] }
            }
            rule.flowints.append(f)
        case "threshold", "detection_filter":
            guard let v = value else { return Builder.problem("needs a value") }
            switch ThresholdSpec.parse(v, detectionFilter: name == "detection_filter") {
            case .failure(let m): return m
            case .success(let t): if name == "threshold" { rule.threshold = t } else { rule.detectionFilter = t }
            }

        // MARK: Application layer (state checks)
        case "tls.version":
            guard let v = value?.trimmingSpaces else { return Builder.problem("needs a version") }
            let versions: [String: UInt16] = ["1.0": 0x0301, "1.1": 0x0302, "1.2": 0x0303, "1.3": 0x0304, "3.0": 0x0300]
            guard let ver = versions[v] ?? (v.hasPrefix("0x") ? UInt16(v.dropFirst(2), radix: 16) : nil) else { return Builder.problem("unknown TLS version '\(v)'") }
            rule.appChecks.append(.tlsVersion(ver))
        case "ssl_version":
            guard let v = value else { return Builder.problem("needs a value") }
            let map: [String: UInt16] = ["sslv2": 0x0200, "sslv3": 0x0300, "tls1.0": 0x0301, "tls1.1": 0x0302, "tls1.2": 0x0303, "tls1.3": 0x0304]
            var list: [UInt16] = []
            for w in v.split(separator: ",") {
                guard let x = map[w.trimmingSpaces.lowercased()] else { return Builder.problem("unknown version '\(w)'") }
                list.append(x)
            }
            rule.appChecks.append(.sslVersion(list))
        case "ssl_state":
            guard let v = value else { return Builder.problem("needs a value") }
            rule.appChecks.append(.sslState(v))
        case "tls.cert_expired", "tls_cert_expired":
            rule.appChecks.append(.tlsCertExpired)
        case "tls.cert_valid", "tls_cert_valid":
            rule.appChecks.append(.tlsCertValid)
        case "app-layer-protocol":
            guard var v = value?.trimmingSpaces else { return Builder.problem("needs a protocol") }
            let negated = v.hasPrefix("!")
            if negated { v = String(v.dropFirst()) }
            rule.appChecks.append(.appLayerProtocol(v, negated: negated))

        default:
            if let buffer = InspectionBuffer.contentModifiers[name] {
                // A modifier moves the preceding content into its buffer.
                guard let last = lastContent, case .content = rule.buffers[last.list].items[last.item] else {
                    return Builder.problem("must follow a content")
                }
                let item = rule.buffers[last.list].items.remove(at: last.item)
                if rule.buffers[last.list].items.isEmpty && rule.buffers[last.list].buffer != buffer {
                    rule.buffers.remove(at: last.list)
                }
                append(item, to: buffer)
                return nil
            }
            if let buffer = InspectionBuffer.sticky(name) {
                currentBuffer = buffer
                lastItem = nil
                lastContent = nil
                pendingDotPrefix = false
                return nil
            }
            if name == "dotprefix" {
                guard rule.buffers.first(where: { $0.buffer == currentBuffer })?.items.isEmpty ?? true else {
                    return Builder.problem("must come before the buffer's first content")
                }
                pendingDotPrefix = true
                return nil
            }
            if Builder.ignored.contains(name) {
                rule.ignoredKeywords.append(name)
                return nil
            }
            if Builder.unsupported.contains(name) {
                return OptionProblem(text: "keyword not supported by hnsensor", unsupported: true)
            }
            return OptionProblem(text: "unknown keyword", unsupported: true)
        }
        return nil
    }

    /// Checks that need the whole rule.
    mutating func finish() -> String? {
        if rule.sid == 0 { return "missing sid" }
        return nil
    }

    func parseReader(_ parts: [String], countIndex: Int) -> Result<ByteReader, OptionProblem> {
        let isString = parts.contains("string")
        // With `string`, a count of 0 reads the whole buffer (Suricata 7, for http.content_len).
        guard let count = Int(parts[countIndex]), count >= (isString ? 0 : 1), count <= (isString ? 20 : 10) else {
            return .failure(Builder.problem("the byte count must be 1 to 10"))
        }
        var reader = ByteReader(count: count)
        var i = 0
        while i < parts.count {
            let p = parts[i]
            switch p {
            case "little": reader.littleEndian = true
            case "big": reader.littleEndian = false
            case "string": if reader.stringBase == nil { reader.stringBase = 10 }
            case "dec": reader.stringBase = 10
            case "hex": reader.stringBase = 16
            case "oct": reader.stringBase = 8
            default:
                if p.hasPrefix("bitmask") {
                    let v = p.dropFirst("bitmask".count).trimmingSpaces
                    guard let m = v.hasPrefix("0x") ? UInt64(v.dropFirst(2), radix: 16) : UInt64(v) else {
                        return .failure(Builder.problem("bad bitmask"))
                    }
                    reader.bitmask = m
                }
            }
            i += 1
        }
        if reader.stringBase == nil && ![1, 2, 3, 4, 8].contains(count) && count > 8 {
            return .failure(Builder.problem("binary reads take at most 8 bytes"))
        }
        return .success(reader)
    }

    func parseByteTest(_ value: String) -> Result<ByteTest, OptionProblem> {
        let parts = value.split(separator: ",").map { String($0.trimmingSpaces) }
        guard parts.count >= 4 else { return .failure(Builder.problem("expected bytes,operator,value,offset[,options]")) }
        let reader: ByteReader
        switch parseReader(parts, countIndex: 0) {
        case .failure(let e): return .failure(e)
        case .success(let r): reader = r
        }
        var opText = Substring(parts[1])
        var negated = false
        if opText.hasPrefix("!") { negated = true; opText = opText.dropFirst() }
        let op: ByteTest.Op
        switch opText {
        case "<": op = .lt
        case ">": op = .gt
        case "=", "": op = .eq
        case "<=": op = .le
        case ">=": op = .ge
        case "&": op = .and
        case "^": op = .xor
        default: return .failure(Builder.problem("unknown operator '\(parts[1])'"))
        }
        let v = parts[2]
        guard let value = v.hasPrefix("0x") ? UInt64(v.dropFirst(2), radix: 16) : UInt64(v) else {
            if v.first?.isLetter == true { return .failure(OptionProblem(text: "byte_extract variables are not supported", unsupported: true)) }
            return .failure(Builder.problem("value must be a number"))
        }
        guard let offset = Int(parts[3]) else {
            if parts[3].first?.isLetter == true { return .failure(OptionProblem(text: "byte_extract variables are not supported", unsupported: true)) }
            return .failure(Builder.problem("offset must be a number"))
        }
        var t = ByteTest(reader: reader, op: op, negated: negated, value: value, offset: offset)
        t.relative = parts.dropFirst(4).contains("relative")
        return .success(t)
    }

    func parseByteJump(_ value: String) -> Result<ByteJump, OptionProblem> {
        let parts = value.split(separator: ",").map { String($0.trimmingSpaces) }
        guard parts.count >= 2 else { return .failure(Builder.problem("expected bytes,offset[,options]")) }
        let reader: ByteReader
        switch parseReader(parts, countIndex: 0) {
        case .failure(let e): return .failure(e)
        case .success(let r): reader = r
        }
        guard let offset = Int(parts[1]) else { return .failure(Builder.problem("offset must be a number")) }
        var j = ByteJump(reader: reader, offset: offset)
        for p in parts.dropFirst(2) {
            let w = p.split(separator: " ").map(String.init)
            switch w[0] {
            case "relative": j.relative = true
            case "align": j.align = true
            case "from_beginning": j.fromBeginning = true
            case "from_end": j.fromEnd = true
            case "multiplier":
                guard w.count == 2, let m = UInt64(w[1]), m > 0 else { return .failure(Builder.problem("multiplier needs a number")) }
                j.multiplier = m
            case "post_offset":
                guard w.count == 2, let m = Int(w[1]) else { return .failure(Builder.problem("post_offset needs a number")) }
                j.postOffset = m
            case "little", "big", "string", "dec", "hex", "oct", "dce", "bitmask": break
            default: return .failure(Builder.problem("unknown option '\(p)'"))
            }
        }
        return .success(j)
    }
}

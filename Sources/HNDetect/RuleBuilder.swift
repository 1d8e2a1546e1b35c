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

    /// Where a relative item goes (isdataat, byte_test, byte_jump with `relative`): the
    /// buffer of the item before it, as Suricata places it (after `uricontent`, the URI).
    var relativeBuffer: InspectionBuffer {
        guard let last = lastItem, last.list < rule.buffers.count else { return currentBuffer }
        return rule.buffers[last.list].buffer
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
        if let keyword = Builder.keywordsByName[name] { return keyword.apply(&self, name, value) }
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

    /// Checks that need the whole rule.
    mutating func finish() -> String? {
        if rule.sid == 0 { return "missing sid" }
        return nil
    }
}

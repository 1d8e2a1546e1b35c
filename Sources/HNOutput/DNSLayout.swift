import HNAppLayer

/// The `dns` records EVE writes for one DNS message, under the eve-log `dns` settings: the
/// parser gives Suricata's version 3 layout; requests or responses may be off, record types
/// may be limited (`types`), the answer formats chosen (`formats`), and version 2 writes a
/// request as one `query` record per question and a response as one `answer` record.
enum DNSLayout {
    static func records(_ v3: JSONValue, settings: EVESettings) -> [JSONValue] {
        guard case .object(let fields) = v3 else { return [] }
        let isResponse = v3["type"].flatMap(text) == "response"
        guard isResponse ? settings.dnsResponses : settings.dnsRequests else { return [] }
        var queries: [JSONValue] = []
        if case .array(let q)? = v3["queries"] { queries = q }
        if let types = settings.dnsTypes {
            // A message is logged when one of its questions has a type logged.
            queries = queries.filter { ($0["rrtype"].flatMap(text)?.lowercased()).map(types.contains) ?? false }
            guard !queries.isEmpty else { return [] }
        }
        let enabled: (JSONValue) -> Bool = { record in
            guard let types = settings.dnsTypes else { return true }
            return (record["rrtype"].flatMap(text)?.lowercased()).map(types.contains) ?? false
        }
        let detailed = settings.dnsFormats.contains("detailed"), grouped = settings.dnsFormats.contains("grouped")
        if settings.dnsVersion == 3 {
            var out: [(String, JSONValue)] = []
            for (key, value) in fields {
                switch (key, value) {
                case ("queries", _): if !queries.isEmpty { out.append((key, .array(queries))) }
                case ("answers", .array(let a)):
                    let kept = a.filter(enabled)
                    if detailed && !kept.isEmpty { out.append((key, .array(kept))) }
                case ("grouped", .object(let g)):
                    let kept = g.filter { settings.dnsTypes?.contains($0.0.lowercased()) ?? true }
                    if grouped && !kept.isEmpty { out.append((key, .object(kept))) }
                default: out.append((key, value))
                }
            }
            return [.object(out)]
        }
        // Version 2.
        let header = fields.filter { ["id", "flags", "qr", "aa", "tc", "rd", "ra", "opcode", "rcode", "tx_id"].contains($0.0) }
        func value(_ key: String) -> JSONValue? { header.first { $0.0 == key }?.1 }
        if !isResponse {
            return queries.map { q in
                var o: [(String, JSONValue)] = [("type", .string("query"))]
                if let id = value("id") { o.append(("id", id)) }
                if let n = q["rrname"] { o.append(("rrname", n)) }
                if let t = q["rrtype"] { o.append(("rrtype", t)) }
                if let tx = value("tx_id") { o.append(("tx_id", tx)) }
                if let op = value("opcode") { o.append(("opcode", op)) }
                return .object(o)
            }
        }
        var o: [(String, JSONValue)] = [("version", .int(2)), ("type", .string("answer"))]
        for key in ["id", "flags", "qr", "aa", "tc", "rd", "ra", "opcode"] { if let v = value(key) { o.append((key, v)) } }
        if let q = queries.first {
            if let n = q["rrname"] { o.append(("rrname", n)) }
            if let t = q["rrtype"] { o.append(("rrtype", t)) }
        }
        if let r = value("rcode") { o.append(("rcode", r)) }
        if detailed, case .array(let a)? = v3["answers"] {
            let kept = a.filter(enabled)
            if !kept.isEmpty { o.append(("answers", .array(kept))) }
        }
        if grouped, case .object(let g)? = v3["grouped"] {
            let kept = g.filter { settings.dnsTypes?.contains($0.0.lowercased()) ?? true }
            if !kept.isEmpty { o.append(("grouped", .object(kept))) }
        }
        if let a = v3["authorities"] { o.append(("authorities", a)) }
        return [.object(o)]
    }

    static func text(_ v: JSONValue) -> String? {
        if case .string(let s) = v { return s }
        return nil
    }
}

import Foundation

/// MISP exports: the CSV export (`uuid,event_id,category,type,value,comment,to_ids,date,…`) and
/// JSON events (`{"Event": {…}}`, `{"response": [{"Event": …}]}` or an array of those).
enum MISPFormat {
    /// The indicator values of a MISP attribute, with their types; nil when hnsensor does not
    /// match attributes of this MISP type.
    static func values(type: String, value: String) -> [(Substring, IndicatorType)]? {
        let parts = value.split(separator: "|", maxSplits: 1, omittingEmptySubsequences: false)
        let first = parts.first ?? Substring(value)
        switch type {
        case "ip-dst", "ip-src", "ip-dst|port", "ip-src|port": return [(first, .address)]
        case "domain", "hostname": return [(Substring(value), .domain)]
        case "domain|ip", "hostname|port":
            var result: [(Substring, IndicatorType)] = [(first, .domain)]
            if type == "domain|ip", parts.count == 2 { result.append((parts[1], .address)) }
            return result
        case "url": return [(Substring(value), .url)]
        case "email", "email-src", "email-dst": return [(Substring(value), .email)]
        case "user-agent": return [(Substring(value), .software)]
        case "x509-fingerprint-sha1", "x509-fingerprint-sha256", "x509-fingerprint-md5": return [(Substring(value), .certHash)]
        case "ja3-fingerprint-md5": return [(Substring(value), .ja3)]
        default:
            if type.hasPrefix("ja4") { return [(Substring(value), .ja4)] }
            return nil
        }
    }

    static func add(type: String, value: String, description: String, place: String, line: Int, file: String,
                    source: Int32, into set: inout IndicatorSet) {
        guard let pairs = values(type: type, value: value) else {
            set.unsupported[file, default: 0] += 1
            return
        }
        for (v, t) in pairs where !set.add(v, type: t, source: source, description: description) {
            set.errors.append(IndicatorError(file: file, line: line, place: line == 0 ? place : nil,
                                             message: "'\(v.prefix(80))' is not a valid \(t.rawValue) (MISP type \(type))"))
        }
    }

    static func loadCSV(_ text: String, file: String, source name: String, into set: inout IndicatorSet, severities: SourceSeverities) {
        let source = set.source(named: name, severity: severities.severity(name))
        var columns: [String: Int] = [:]
        var lineNumber = 0
        for raw in text.split(separator: "\n", omittingEmptySubsequences: false) {
            lineNumber += 1
            let line = raw.hasSuffix("\r") ? raw.dropLast() : raw
            if line.trimmingCharacters(in: " \t").isEmpty { continue }
            guard let fields = splitCSV(line) else {
                set.errors.append(IndicatorError(file: file, line: lineNumber, place: nil, message: "unterminated quoted field"))
                continue
            }
            if columns.isEmpty {
                for (i, f) in fields.enumerated() { columns[f.lowercased()] = i }
                if columns["type"] == nil || columns["value"] == nil {
                    set.errors.append(IndicatorError(file: file, line: lineNumber, place: nil,
                                                     message: "the header must name the columns type and value (MISP CSV export)"))
                    return
                }
                continue
            }
            func field(_ name: String) -> String? {
                guard let i = columns[name], i < fields.count else { return nil }
                return fields[i]
            }
            guard let type = field("type"), let value = field("value") else {
                set.errors.append(IndicatorError(file: file, line: lineNumber, place: nil, message: "missing type or value field"))
                continue
            }
            if field("to_ids").map({ $0 == "0" || $0.lowercased() == "false" }) ?? false { continue }
            let description = [field("category"), field("comment")].compactMap { $0 }.filter { !$0.isEmpty }.joined(separator: ": ")
            add(type: type, value: value, description: description, place: "", line: lineNumber, file: file, source: source, into: &set)
        }
    }

    /// RFC 4180 fields of one line; nil when a quote is left open.
    static func splitCSV(_ line: Substring) -> [String]? {
        var fields: [String] = []
        var current = ""
        var quoted = false
        var iterator = line.makeIterator()
        var pending: Character? = nil
        while let c = pending ?? iterator.next() {
            pending = nil
            if quoted {
                if c == "\"" {
                    if let next = iterator.next() {
                        if next == "\"" { current.append("\"") } else { quoted = false; pending = next }
                    } else {
                        quoted = false
                    }
                } else {
                    current.append(c)
                }
            } else if c == "\"" && current.isEmpty {
                quoted = true
            } else if c == "," {
                fields.append(current)
                current = ""
            } else {
                current.append(c)
            }
        }
        if quoted { return nil }
        fields.append(current)
        return fields
    }

    static func loadJSON(_ object: Any, file: String, source name: String, into set: inout IndicatorSet, severities: SourceSeverities) {
        var events: [[String: Any]] = []
        func collect(_ o: Any) {
            if let array = o as? [Any] { array.forEach(collect); return }
            guard let dict = o as? [String: Any] else { return }
            if let event = dict["Event"] as? [String: Any] { events.append(event) } else if let response = dict["response"] { collect(response) }
        }
        collect(object)
        guard !events.isEmpty else {
            set.errors.append(IndicatorError(file: file, line: 0, place: nil, message: "neither a MISP event ({\"Event\": …}) nor a STIX 2.1 bundle"))
            return
        }
        let source = set.source(named: name, severity: severities.severity(name))
        for (e, event) in events.enumerated() {
            let info = event["info"] as? String ?? ""
            var attributes = (event["Attribute"] as? [[String: Any]]) ?? []
            for object in (event["Object"] as? [[String: Any]]) ?? [] {
                attributes += (object["Attribute"] as? [[String: Any]]) ?? []
            }
            for (a, attribute) in attributes.enumerated() {
                let place = "Event[\(e)].Attribute[\(a)]"
                guard let type = attribute["type"] as? String, let value = attribute["value"] as? String else {
                    set.errors.append(IndicatorError(file: file, line: 0, place: place, message: "attribute without type or value"))
                    continue
                }
                if let toIDS = attribute["to_ids"] as? Bool, !toIDS { continue }
                let comment = attribute["comment"] as? String ?? ""
                let description = [info, comment].filter { !$0.isEmpty }.joined(separator: ": ")
                add(type: type, value: value, description: description, place: place, line: 0, file: file, source: source, into: &set)
            }
        }
    }
}

/// STIX 2.1 bundles: `indicator` objects with `pattern_type: stix` and patterns that are
/// comparisons with `=` joined by OR (`[ipv4-addr:value = '198.51.100.7']`,
/// `[domain-name:value = 'x.example' OR url:value = 'http://…']`). Other patterns are
/// reported and skipped.
enum STIXFormat {
    static let paths: [String: IndicatorType] = [
        "ipv4-addr:value": .subnet, "ipv6-addr:value": .subnet, "domain-name:value": .domain, "url:value": .url,
        "email-addr:value": .email, "x509-certificate:hashes.'SHA-1'": .certHash, "x509-certificate:hashes.'SHA-256'": .certHash,
        "x509-certificate:hashes.'MD5'": .certHash, "x509-certificate:hashes.SHA-1": .certHash,
        "x509-certificate:hashes.SHA-256": .certHash, "software:name": .software,
    ]

    static func load(_ bundle: [String: Any], file: String, source name: String, into set: inout IndicatorSet, severities: SourceSeverities) {
        let source = set.source(named: name, severity: severities.severity(name))
        let objects = bundle["objects"] as? [[String: Any]] ?? []
        for (i, object) in objects.enumerated() where object["type"] as? String == "indicator" {
            let place = "objects[\(i)]" + ((object["id"] as? String).map { " (\($0))" } ?? "")
            if let patternType = object["pattern_type"] as? String, patternType != "stix" {
                set.unsupported[file, default: 0] += 1
                continue
            }
            guard let pattern = object["pattern"] as? String else {
                set.errors.append(IndicatorError(file: file, line: 0, place: place, message: "indicator without a pattern"))
                continue
            }
            guard let comparisons = parse(pattern) else {
                set.errors.append(IndicatorError(file: file, line: 0, place: place,
                                                 message: "pattern '\(pattern.prefix(80))' is not a simple comparison (path = 'value', joined by OR)"))
                continue
            }
            let description = (object["name"] as? String) ?? (object["description"] as? String) ?? ""
            for (path, value) in comparisons {
                guard let type = paths[path] else {
                    set.unsupported[file, default: 0] += 1
                    continue
                }
                if !set.add(Substring(value), type: type, source: source, description: description) {
                    set.errors.append(IndicatorError(file: file, line: 0, place: place, message: "'\(value.prefix(80))' is not a valid \(type.rawValue)"))
                }
            }
        }
    }

    /// `[a:b = 'v' OR c:d = 'w']` (also several bracketed groups joined by OR) into pairs;
    /// nil for anything else (AND, FOLLOWEDBY, other operators).
    static func parse(_ pattern: String) -> [(String, String)]? {
        var result: [(String, String)] = []
        var s = Substring(pattern)
        func skipSpaces() { while let c = s.first, c == " " || c == "\n" || c == "\t" { s = s.dropFirst() } }
        var groups = 0
        skipSpaces()
        while !s.isEmpty {
            var opened = false
            if s.first == "[" { s = s.dropFirst(); opened = true; groups += 1 }
            skipSpaces()
            // path up to whitespace or '='
            var path = ""
            var quotedPath = false
            while let c = s.first, quotedPath || (c != " " && c != "=") {
                if c == "'" { quotedPath.toggle() }
                path.append(c)
                s = s.dropFirst()
            }
            skipSpaces()
            guard s.first == "=" else { return nil }
            s = s.dropFirst()
            skipSpaces()
            guard s.first == "'" else { return nil }
            s = s.dropFirst()
            var value = ""
            var closed = false
            while let c = s.first {
                s = s.dropFirst()
                if c == "\\", let next = s.first { value.append(next); s = s.dropFirst(); continue }
                if c == "'" { closed = true; break }
                value.append(c)
            }
            guard closed, !path.isEmpty else { return nil }
            result.append((path, value))
            skipSpaces()
            if opened || groups > 0, s.first == "]" { s = s.dropFirst(); groups -= 1; skipSpaces() }
            if s.isEmpty { break }
            guard s.hasPrefix("OR") else { return nil }
            s = s.dropFirst(2)
            skipSpaces()
        }
        return result.isEmpty || groups != 0 ? nil : result
    }
}

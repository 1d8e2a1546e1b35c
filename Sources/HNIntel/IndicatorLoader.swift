import Foundation
import HNDecode
import Yams

/// Reads an indicators folder (or one file) in the formats CSIRTs exchange:
/// - Zeek Intel framework files (`#fields indicator indicator_type meta.source meta.desc …`),
/// - MISP exports, CSV (`uuid,event_id,category,type,value,comment,…`) or JSON events,
/// - STIX 2.1 bundles whose indicator patterns are simple comparisons joined by OR,
/// - plain lists, one value per line, the type inferred (address, subnet, URL, e-mail, hash,
///   domain).
/// `sources.yaml` in the folder sets the alert severity per source. A bad line or object is
/// recorded as an error naming its place and skipped; the rest loads.
public enum IndicatorLoader {
    public static let defaultSeverity = 2

    public static func load(path: String) throws(IndicatorError) -> IndicatorSet {
        var set = IndicatorSet()
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw IndicatorError(file: path, line: 0, place: nil, message: "no such file or directory")
        }
        var files: [String] = []
        var severities = SourceSeverities()
        if isDirectory.boolValue {
            let names: [String]
            do {
                names = try FileManager.default.contentsOfDirectory(atPath: path).sorted()
            } catch {
                throw IndicatorError(file: path, line: 0, place: nil, message: "cannot list the folder")
            }
            for name in names where !name.hasPrefix(".") && name != "README.md" {
                let full = path + "/" + name
                if name == "sources.yaml" || name == "sources.yml" {
                    severities = try SourceSeverities.load(full)
                    continue
                }
                var dir: ObjCBool = false
                if FileManager.default.fileExists(atPath: full, isDirectory: &dir), !dir.boolValue { files.append(full) }
            }
        } else {
            files = [path]
        }
        for file in files {
            let data: Data
            do {
                data = try Data(contentsOf: URL(fileURLWithPath: file))
            } catch {
                set.errors.append(IndicatorError(file: file, line: 0, place: nil, message: "cannot read the file"))
                continue
            }
            set.noteFile(file)
            load(data, file: file, into: &set, severities: severities)
        }
        return set
    }

    /// Loads one file's bytes, choosing the format by name and content.
    public static func load(_ data: Data, file: String, into set: inout IndicatorSet, severities: SourceSeverities = SourceSeverities()) {
        let base = sourceName(file)
        let lower = file.lowercased()
        let head = String(decoding: data.prefix(4096), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        var text: String { String(decoding: data, as: UTF8.self) }
        if lower.hasSuffix(".json") || head.hasPrefix("{") || head.hasPrefix("[") {
            let object: Any
            do {
                object = try JSONSerialization.jsonObject(with: data)
            } catch {
                set.errors.append(IndicatorError(file: file, line: 0, place: nil, message: "not valid JSON"))
                return
            }
            if let dict = object as? [String: Any], dict["type"] as? String == "bundle" {
                STIXFormat.load(dict, file: file, source: base, into: &set, severities: severities)
            } else {
                MISPFormat.loadJSON(object, file: file, source: base, into: &set, severities: severities)
            }
        } else if head.hasPrefix("#separator") || head.hasPrefix("#fields") || lower.hasSuffix(".intel") || lower.hasSuffix(".dat") {
            ZeekIntelFormat.load([UInt8](data), file: file, defaultSource: base, into: &set, severities: severities)
        } else if lower.hasSuffix(".csv") {
            MISPFormat.loadCSV(text, file: file, source: base, into: &set, severities: severities)
        } else {
            PlainListFormat.load(text, file: file, source: base, into: &set, severities: severities)
        }
    }

    /// The file name without folder and extension: the source of indicators that do not
    /// name one.
    static func sourceName(_ file: String) -> String {
        let name = file.split(separator: "/").last.map(String.init) ?? file
        if let dot = name.lastIndex(of: "."), dot != name.startIndex { return String(name[..<dot]) }
        return name
    }
}

/// `sources.yaml`: `default_severity: N` and `sources: {name: N}` (1 highest … 4).
public struct SourceSeverities: Sendable {
    public var defaultSeverity = IndicatorLoader.defaultSeverity
    public var bySource: [String: Int] = [:]

    public init() {}

    public func severity(_ source: String) -> Int { bySource[source] ?? defaultSeverity }

    static func load(_ file: String) throws(IndicatorError) -> SourceSeverities {
        var result = SourceSeverities()
        let text: String
        do {
            text = try String(contentsOfFile: file, encoding: .utf8)
        } catch {
            throw IndicatorError(file: file, line: 0, place: nil, message: "cannot read the file")
        }
        let root: Node?
        do {
            root = try Yams.compose(yaml: text)
        } catch {
            throw IndicatorError(file: file, line: 0, place: nil, message: "YAML syntax: \("\(error)".split(separator: "\n").first ?? "")")
        }
        guard let root else { return result }
        func fail(_ node: Node, _ message: String) -> IndicatorError {
            IndicatorError(file: file, line: node.mark?.line ?? 0, place: nil, message: message)
        }
        guard case .mapping(let top) = root else { throw fail(root, "expected a mapping with default_severity and sources") }
        for (k, v) in top {
            switch k.string {
            case "default_severity":
                guard let n = v.int, (1...4).contains(n) else { throw fail(v, "default_severity: expected 1 to 4") }
                result.defaultSeverity = n
            case "sources":
                guard case .mapping(let m) = v else { throw fail(v, "sources: expected a mapping of source name to severity") }
                for (name, value) in m {
                    guard let s = name.string, let n = value.int, (1...4).contains(n) else {
                        throw fail(value, "sources.\(name.string ?? "?"): expected a severity from 1 to 4")
                    }
                    result.bySource[s] = n
                }
            default:
                throw fail(k, "\(k.string ?? "?"): unknown key (expected default_severity, sources)")
            }
        }
        return result
    }
}

enum ZeekIntelFormat {
    static let typeNames: [([UInt8], IndicatorType)] = IndicatorType.allCases.map { (Array($0.rawValue.utf8), $0) }

    /// Reads the file as bytes: lines and fields are found by byte search and text is made only
    /// for the values kept (a million-line feed loads in about a second). Source and
    /// description strings repeat from line to line and are shared.
    static func load(_ bytes: [UInt8], file: String, defaultSource: String, into set: inout IndicatorSet, severities: SourceSeverities) {
        var columns: [String: Int] = [:]
        var separator = UInt8(ascii: "\t")
        var valueColumn = -1, typeColumn = -1, sourceColumn = -1, descColumn = -1
        var lineNumber = 0
        var fields: [Range<Int>] = []
        var lastSource: ([UInt8], Int32)? = nil
        var descriptions: [[UInt8]: String] = [:]
        bytes.withUnsafeBufferPointer { buf in
            let n = buf.count
            var start = 0
            while start < n {
                lineNumber += 1
                var end = start
                while end < n && buf[end] != 0x0A { end += 1 }
                defer { start = end + 1 }
                var lineEnd = end
                if lineEnd > start && buf[lineEnd - 1] == 0x0D { lineEnd -= 1 }
                if lineEnd == start { continue }
                func text(_ r: Range<Int>) -> String { String(decoding: UnsafeBufferPointer(rebasing: buf[r]), as: UTF8.self) }
                if buf[start] == UInt8(ascii: "#") {
                    let line = text(start..<lineEnd)
                    if line.hasPrefix("#separator") {
                        let value = Substring(line.dropFirst("#separator".count)).trimmingCharacters(in: " ")
                        if value == "\\x09" { separator = UInt8(ascii: "\t") } else if value.utf8.count == 1 { separator = value.utf8.first! }
                    } else if line.hasPrefix("#fields") {
                        let names = line.split(separator: Character(UnicodeScalar(separator))).dropFirst()
                        columns = [:]
                        for (i, name) in names.enumerated() { columns[String(name.trimmingCharacters(in: " "))] = i }
                        valueColumn = columns["indicator"] ?? -1
                        typeColumn = columns["indicator_type"] ?? -1
                        sourceColumn = columns["meta.source"] ?? -1
                        descColumn = columns["meta.desc"] ?? -1
                        if valueColumn < 0 || typeColumn < 0 {
                            set.errors.append(IndicatorError(file: file, line: lineNumber, place: nil,
                                                             message: "#fields must name indicator and indicator_type"))
                            columns = [:]
                        }
                    }
                    continue
                }
                guard !columns.isEmpty else {
                    set.errors.append(IndicatorError(file: file, line: lineNumber, place: nil, message: "data before a #fields header"))
                    continue
                }
                fields.removeAll(keepingCapacity: true)
                var f = start
                for i in start..<lineEnd where buf[i] == separator {
                    fields.append(f..<i)
                    f = i + 1
                }
                fields.append(f..<lineEnd)
                guard valueColumn < fields.count, typeColumn < fields.count else {
                    set.errors.append(IndicatorError(file: file, line: lineNumber, place: nil,
                                                     message: "\(fields.count) fields, the #fields header names \(columns.count)"))
                    continue
                }
                func present(_ c: Int) -> Range<Int>? {
                    guard c >= 0, c < fields.count, !fields[c].isEmpty else { return nil }
                    let r = fields[c]
                    if r.count == 1 && buf[r.lowerBound] == UInt8(ascii: "-") { return nil }
                    return r
                }
                let typeRange = fields[typeColumn]
                let typeBytes = UnsafeBufferPointer(rebasing: buf[typeRange])
                guard let type = typeNames.first(where: { $0.0.elementsEqual(typeBytes) })?.1 else {
                    let name = text(typeRange)
                    if name.hasPrefix("Intel::") {
                        set.unsupported[file, default: 0] += 1
                    } else {
                        set.errors.append(IndicatorError(file: file, line: lineNumber, place: nil, message: "unknown indicator_type '\(name)'"))
                    }
                    continue
                }
                let source: Int32
                if let r = present(sourceColumn) {
                    let raw = UnsafeBufferPointer(rebasing: buf[r])
                    if let last = lastSource, last.0.elementsEqual(raw) {
                        source = last.1
                    } else {
                        let name = text(r)
                        source = set.source(named: name, severity: severities.severity(name))
                        lastSource = (Array(raw), source)
                    }
                } else {
                    source = set.source(named: defaultSource, severity: severities.severity(defaultSource))
                }
                var description = ""
                if let r = present(descColumn) {
                    let raw = Array(UnsafeBufferPointer(rebasing: buf[r]))
                    if let known = descriptions[raw] {
                        description = known
                    } else {
                        description = String(decoding: raw, as: UTF8.self)
                        if descriptions.count < 10_000 { descriptions[raw] = description }
                    }
                }
                let value = text(fields[valueColumn])
                if !set.add(Substring(value), type: type, source: source, description: description) {
                    set.errors.append(IndicatorError(file: file, line: lineNumber, place: nil, message: "'\(value)' is not a valid \(type.rawValue)"))
                }
            }
        }
    }
}

enum PlainListFormat {
    /// Infers the type of a bare value.
    static func infer(_ value: Substring) -> IndicatorType? {
        if value.contains("/") {
            if CIDR(String(value)) != nil { return .subnet }
            return .url
        }
        if IPAddress(value) != nil { return .address }
        if value.contains("@") { return .email }
        let hex = value.filter { $0 != ":" }
        if [40, 64].contains(hex.count), hex.allSatisfy(\.isHexDigit) { return .certHash }
        if hex.count == 32, hex.allSatisfy(\.isHexDigit) { return .ja3 }
        if value.hasPrefix("t") || value.hasPrefix("q"), value.split(separator: "_").count == 3 { return .ja4 }
        if value.contains("."), !value.contains(" ") { return .domain }
        return nil
    }

    static func load(_ text: String, file: String, source name: String, into set: inout IndicatorSet, severities: SourceSeverities) {
        let source = set.source(named: name, severity: severities.severity(name))
        var lineNumber = 0
        for raw in text.split(separator: "\n", omittingEmptySubsequences: false) {
            lineNumber += 1
            var line = raw.trimmingCharacters(in: " \t\r")
            if let hash = line.firstIndex(of: "#") { line = line[..<hash].trimmingCharacters(in: " \t") }
            if line.isEmpty { continue }
            guard let type = infer(line) else {
                set.errors.append(IndicatorError(file: file, line: lineNumber, place: nil,
                                                 message: "'\(line.prefix(80))' is not an address, subnet, URL, e-mail, hash or domain"))
                continue
            }
            if !set.add(line, type: type, source: source, description: "") {
                set.errors.append(IndicatorError(file: file, line: lineNumber, place: nil, message: "'\(line.prefix(80))' is not a valid \(type.rawValue)"))
            }
        }
    }
}

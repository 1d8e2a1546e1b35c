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
        let text = String(decoding: data, as: UTF8.self)
        let head = text.prefix(4096).trimmingCharacters(in: .whitespacesAndNewlines)
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
            ZeekIntelFormat.load(text, file: file, defaultSource: base, into: &set, severities: severities)
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
    static func load(_ text: String, file: String, defaultSource: String, into set: inout IndicatorSet, severities: SourceSeverities) {
        var columns: [String: Int] = [:]
        var separator: Character = "\t"
        var lineNumber = 0
        for raw in text.split(separator: "\n", omittingEmptySubsequences: false) {
            lineNumber += 1
            let line = raw.hasSuffix("\r") ? raw.dropLast() : raw
            if line.isEmpty { continue }
            if line.hasPrefix("#") {
                if line.hasPrefix("#separator") {
                    let value = line.dropFirst("#separator".count).trimmingCharacters(in: " ")
                    if value == "\\x09" { separator = "\t" } else if let c = value.first, value.count == 1 { separator = c }
                } else if line.hasPrefix("#fields") {
                    let names = line.split(separator: separator).dropFirst()
                    columns = [:]
                    for (i, name) in names.enumerated() { columns[String(name.trimmingCharacters(in: " "))] = i }
                    if columns["indicator"] == nil || columns["indicator_type"] == nil {
                        set.errors.append(IndicatorError(file: file, line: lineNumber, place: nil,
                                                         message: "#fields must name indicator and indicator_type"))
                        columns = [:]
                    }
                }
                continue
            }
            guard let valueColumn = columns["indicator"], let typeColumn = columns["indicator_type"] else {
                set.errors.append(IndicatorError(file: file, line: lineNumber, place: nil, message: "data before a #fields header"))
                continue
            }
            let fields = line.split(separator: separator, omittingEmptySubsequences: false)
            func field(_ name: String) -> Substring? {
                guard let i = columns[name], i < fields.count, fields[i] != "-", !fields[i].isEmpty else { return nil }
                return fields[i]
            }
            guard valueColumn < fields.count, typeColumn < fields.count else {
                set.errors.append(IndicatorError(file: file, line: lineNumber, place: nil,
                                                 message: "\(fields.count) fields, the #fields header names \(columns.count)"))
                continue
            }
            let typeName = fields[typeColumn]
            guard let type = IndicatorType(zeek: typeName) else {
                if typeName.hasPrefix("Intel::") {
                    set.unsupported[file, default: 0] += 1
                } else {
                    set.errors.append(IndicatorError(file: file, line: lineNumber, place: nil, message: "unknown indicator_type '\(typeName)'"))
                }
                continue
            }
            let sourceName = field("meta.source").map(String.init) ?? defaultSource
            let source = set.source(named: sourceName, severity: severities.severity(sourceName))
            let description = field("meta.desc").map(String.init) ?? ""
            if !set.add(fields[valueColumn], type: type, source: source, description: description) {
                set.errors.append(IndicatorError(file: file, line: lineNumber, place: nil,
                                                 message: "'\(fields[valueColumn])' is not a valid \(type.rawValue)"))
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

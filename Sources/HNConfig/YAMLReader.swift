import Foundation
import HNDecode
import Yams

/// A configuration error, one line: `FILE:LINE:COLUMN: KEY.PATH: what is wrong`.
public struct ConfigError: Error, CustomStringConvertible, Equatable, Sendable {
    public let description: String
    public init(description: String) { self.description = description }
}

/// Walks a YAML tree, checking each key against what the schema allows; every error names
/// FILE:LINE:COLUMN and the key path.
public struct YAMLReader: Sendable {
    public let file: String

    public init(file: String) { self.file = file }

    public func fail(_ node: Node?, _ path: String, _ message: String) -> ConfigError {
        let place = node?.mark.map { "\(file):\($0.line):\($0.column)" } ?? file
        return ConfigError(description: "\(place): \(path): \(message)")
    }

    public func mapping(_ node: Node, _ path: String, allowed: [String]) throws(ConfigError) -> [(String, Node, Node)] {
        guard case .mapping(let m) = node else { throw fail(node, path, "expected a mapping") }
        var result: [(String, Node, Node)] = []
        for (k, v) in m {
            guard let key = k.string else { throw fail(k, path, "keys must be text") }
            let full = path.isEmpty ? key : "\(path).\(key)"
            guard allowed.contains(key) else {
                throw fail(k, full, "unknown key (expected one of: \(allowed.joined(separator: ", ")))")
            }
            result.append((key, k, v))
        }
        return result
    }

    public func string(_ node: Node, _ path: String) throws(ConfigError) -> String {
        guard case .scalar(let s) = node else { throw fail(node, path, "expected a value") }
        return s.string
    }

    public func sequence(_ node: Node, _ path: String) throws(ConfigError) -> [Node] {
        guard case .sequence(let s) = node else { throw fail(node, path, "expected a list") }
        return Array(s)
    }

    public func bool(_ node: Node, _ path: String) throws(ConfigError) -> Bool {
        switch try string(node, path).lowercased() {
        case "true", "yes", "on": return true
        case "false", "no", "off": return false
        default: throw fail(node, path, "expected true or false")
        }
    }

    public func seconds(_ node: Node, _ path: String) throws(ConfigError) -> Int64 {
        guard let v = Int64(try string(node, path)), v >= 0, v <= 86_400 * 7 else {
            throw fail(node, path, "expected a number of seconds from 0 to 604800")
        }
        return v
    }

    /// A byte size: a plain number or one with kb/mb/gb (Suricata's memcap syntax).
    public func size(_ node: Node, _ path: String) throws(ConfigError) -> Int {
        let text = try string(node, path).lowercased().filter { $0 != " " }
        let units: [(String, Int)] = [("gb", 1 << 30), ("mb", 1 << 20), ("kb", 1 << 10), ("b", 1)]
        for (suffix, factor) in units where text.hasSuffix(suffix) {
            if let v = Int(text.dropLast(suffix.count)), v > 0, v <= (1 << 40) / factor { return v * factor }
            throw fail(node, path, "expected a size such as 64mb or 1gb")
        }
        guard let v = Int(text), v > 0 else { throw fail(node, path, "expected a size such as 64mb or 1gb") }
        return v
    }

    public func cidrs(_ node: Node, _ path: String) throws(ConfigError) -> [CIDR] {
        var result: [CIDR] = []
        for (i, item) in try sequence(node, path).enumerated() {
            let text = try string(item, "\(path)[\(i)]")
            guard let c = CIDR(text) else { throw fail(item, "\(path)[\(i)]", "invalid CIDR '\(text)'") }
            result.append(c)
        }
        return result
    }

    public func keys(_ node: Node, _ path: String) throws(ConfigError) -> [String] {
        guard case .mapping(let m) = node else { throw fail(node, path, "expected a mapping") }
        return m.keys.compactMap(\.string)
    }

    /// Parses YAML text into a node tree, with syntax errors as one line naming the place.
    public static func compose(_ text: String, file: String) throws(ConfigError) -> Node? {
        do {
            return try Yams.compose(yaml: text)
        } catch let error as YamlError {
            throw ConfigError(description: describe(error, file: file))
        } catch {
            throw ConfigError(description: "\(file): \(error)")
        }
    }

    public static func describe(_ error: YamlError, file: String) -> String {
        switch error {
        case .scanner(_, let problem, let mark, _), .parser(_, let problem, let mark, _):
            return "\(file):\(mark.line):\(mark.column): YAML syntax: \(problem)"
        case .composer(_, let problem, let mark, _):
            return "\(file):\(mark.line):\(mark.column): YAML: \(problem)"
        default:
            let first = "\(error)".split(separator: "\n").first.map(String.init) ?? "invalid YAML"
            return "\(file): YAML: \(first)"
        }
    }
}

extension YAMLReader {
    public func int(_ node: Node, _ path: String, _ range: ClosedRange<Int>) throws(ConfigError) -> Int {
        guard let v = Int(try string(node, path)), range.contains(v) else {
            throw fail(node, path, "expected a whole number from \(range.lowerBound) to \(range.upperBound)")
        }
        return v
    }

    public func double(_ node: Node, _ path: String, _ range: ClosedRange<Double>) throws(ConfigError) -> Double {
        guard let v = Double(try string(node, path)), range.contains(v) else {
            throw fail(node, path, "expected a number from \(range.lowerBound) to \(range.upperBound)")
        }
        return v
    }

    /// A duration: seconds, or a number with s, m, h or d (`90s`, `10m`, `2h`, `1d`), as Sigma
    /// writes timespans. Returned in nanoseconds.
    public func duration(_ node: Node, _ path: String) throws(ConfigError) -> Int64 {
        let text = try string(node, path).lowercased().filter { $0 != " " }
        let units: [(String, Int64)] = [("ms", 1_000_000), ("s", 1_000_000_000), ("m", 60_000_000_000), ("h", 3_600_000_000_000), ("d", 86_400_000_000_000)]
        for (suffix, factor) in units where text.hasSuffix(suffix) {
            if let v = Int64(text.dropLast(suffix.count)), v > 0, v <= 366 * 86_400_000_000_000 / factor { return v * factor }
            throw fail(node, path, "expected a duration such as 30s, 10m, 2h or 1d")
        }
        guard let v = Int64(text), v > 0, v <= 366 * 86_400 else { throw fail(node, path, "expected a duration such as 30s, 10m, 2h or 1d") }
        return v * 1_000_000_000
    }

    /// A list of strings, or one string taken as a list of one.
    public func strings(_ node: Node, _ path: String) throws(ConfigError) -> [String] {
        if case .scalar(let s) = node { return [s.string] }
        var result: [String] = []
        for (i, item) in try sequence(node, path).enumerated() { result.append(try string(item, "\(path)[\(i)]")) }
        return result
    }

    public func ports(_ node: Node, _ path: String) throws(ConfigError) -> [UInt16] {
        var result: [UInt16] = []
        let items: [Node]
        if case .scalar = node { items = [node] } else { items = try sequence(node, path) }
        for (i, item) in items.enumerated() {
            result.append(UInt16(try int(item, "\(path)[\(i)]", 1...65535)))
        }
        return result
    }
}

extension YAMLReader {
    /// The `*.yaml` and `*.yml` files of a folder, in name order, with their text; a file that
    /// cannot be read is an error naming it.
    public static func folder(_ path: String) throws(ConfigError) -> [(file: String, text: String)] {
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: path)) ?? [])
            .filter { $0.hasSuffix(".yaml") || $0.hasSuffix(".yml") }.sorted()
        var result: [(String, String)] = []
        for name in names {
            let file = path + "/" + name
            guard let data = FileManager.default.contents(atPath: file) else { throw ConfigError(description: "\(file): cannot read the file") }
            result.append((file, String(decoding: data, as: UTF8.self)))
        }
        return result
    }
}

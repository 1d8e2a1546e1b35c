import Foundation
import HNDetect
import HNOutput
import Testing
import Yams
@testable import HNSensor

/// The suricata-verify cases in ../shared/conformance: each case's pcap is replayed with its
/// rules, its options and its own suricata.yaml's EVE settings, and every check of its
/// expected.json is compared with the EVE output, with suricata-verify's matching rules
/// (paths, `__len`, `__contains`, `__gt`…, `has-key`, `not-has-key`, exact equality).
///
/// Every check counts: a field hnsensor does not write fails the check. A case is skipped only
/// when its rules use a keyword hnsensor does not have (the summary prints it by name).
enum Conformance {
    /// Features not built yet, by the name the summary prints.
    static func unsupportedFeatures(rules: RuleSet) -> [String] {
        var reasons: Set<String> = []
        for e in rules.errors where e.unsupported { reasons.insert("keyword \(e.keyword ?? "?")") }
        return reasons.sorted()
    }

    /// The value at a suricata-verify path (`a.b[2].c`, `x.__len`), or nil when absent.
    static func value(_ record: Any, _ path: String) -> Any? {
        var node: Any? = record
        for part in path.split(separator: ".", omittingEmptySubsequences: false) {
            if part == "__len" {
                switch node {
                case let s as String: node = s.count
                case let a as [Any]: node = a.count
                case let d as [String: Any]: node = d.count
                default: return nil
                }
                continue
            }
            var key = String(part)
            var index: Int? = nil
            if let open = key.firstIndex(of: "["), key.hasSuffix("]") {
                index = Int(key[key.index(after: open)..<key.index(before: key.endIndex)])
                key = String(key[..<open])
            }
            guard let object = node as? [String: Any], let child = object[key] else { return nil }
            node = child
            if let index {
                guard let array = node as? [Any], index >= 0, index < array.count else { return nil }
                node = array[index]
            }
        }
        return node
    }

    /// Python's `==` on JSON values: numbers by value (a boolean is 0 or 1), text, lists
    /// element by element, objects key by key (the same keys).
    static func equal(_ a: Any?, _ b: Any?) -> Bool {
        switch (a, b) {
        case (nil, nil), (is NSNull, is NSNull): return true
        case (let x as NSNumber, let y as NSNumber): return x == y
        case (let x as String, let y as String): return x == y
        case (let x as [String: Any], let y as [String: Any]):
            return x.count == y.count && y.allSatisfy { k, v in x[k] != nil && equal(x[k], v) }
        case (let x as [Any], let y as [Any]):
            return x.count == y.count && zip(x, y).allSatisfy { equal($0, $1) }
        default: return false
        }
    }

    static let operators = ["__contains", "__find", "__startswith", "__endswith", "__gte", "__gt", "__lte", "__lt"]

    /// Does one key of a filter hold for `record`?
    static func holds(_ record: [String: Any], _ key: String, _ expected: Any) -> Bool {
        if key == "has-key" || key == "not-has-key" {
            let paths = (expected as? [String]) ?? [(expected as? String) ?? ""]
            let present = paths.map { value(record, $0) != nil }
            return key == "has-key" ? present.allSatisfy { $0 } : present.allSatisfy { !$0 }
        }
        for op in operators where key.hasSuffix(op) {
            guard let got = value(record, String(key.dropLast(op.count))) else { return false }
            switch op {
            case "__contains":
                if let s = got as? String, let e = expected as? String { return s.contains(e) }
                if let a = got as? [Any] { return a.contains { equal($0, expected) } }
                return false
            case "__find":
                guard let s = got as? String, let e = expected as? String else { return false }
                return s.contains(e)
            case "__startswith": return (got as? String).map { $0.hasPrefix(expected as? String ?? "\u{0}") } ?? false
            case "__endswith": return (got as? String).map { $0.hasSuffix(expected as? String ?? "\u{0}") } ?? false
            default:
                guard let g = (got as? NSNumber)?.doubleValue, let e = (expected as? NSNumber)?.doubleValue else { return false }
                switch op {
                case "__gt": return g > e
                case "__gte": return g >= e
                case "__lt": return g < e
                default: return g <= e
                }
            }
        }
        guard let got = value(record, key) else { return false }
        return equal(got, expected)
    }

    /// The first key of `filter` that `record` fails, for the report.
    static func firstFailing(_ record: [String: Any], _ filter: [(String, Any)]) -> String? {
        filter.first { !holds(record, $0.0, $0.1) }.map { k, v in
            let got = value(record, k).map { "\($0)" } ?? "absent"
            return "\(k): \(got.prefix(60)), expected \("\(v)".prefix(60))"
        }
    }

    enum Outcome { case passed, failed(String), skipped(String) }

    /// A case's own suricata.yaml (Suricata writes `%YAML 1.1` and `---` first), as a tree.
    static func suricataYAML(_ file: URL) -> [String: Any]? {
        guard var text = try? String(contentsOf: file, encoding: .utf8) else { return nil }
        if text.hasPrefix("%YAML") { text = String(text.drop { $0 != "\n" }) }
        return (try? Yams.load(yaml: text)) as? [String: Any]
    }

    /// The eve-log settings of a case's suricata.yaml that hnsensor has, as hnsensor's own
    /// `eve:` section (same names): `types` with the options hnsensor knows, `community-id`
    /// and its seed. Suricata-only keys (file names, xff, tagged packets, …) are left out.
    static func eveSection(_ yaml: [String: Any]) -> [String: Any]? {
        for output in yaml["outputs"] as? [Any] ?? [] {
            guard let eve = (output as? [String: Any])?["eve-log"] as? [String: Any] else { continue }
            var section: [String: Any] = [:]
            for key in ["community-id", "community-id-seed", "ipv6-compress", "ethernet"] { if let v = eve[key] { section[key] = v } }
            if let types = eve["types"] as? [Any] {
                section["types"] = types.map { item -> Any in
                    guard let m = item as? [String: Any], let (name, options) = m.first else { return item }
                    guard let o = options as? [String: Any] else { return name }
                    let allowed = Set(EVESettings.options(of: name))
                    let filtered = o.filter { allowed.contains($0.key) }
                    return filtered.isEmpty ? name as Any : [name: filtered] as Any
                }
            }
            return section
        }
        return nil
    }

    /// A configuration with a case's EVE settings, read through hnsensor's own config parser.
    static func config(suricataYAML file: URL) throws -> SensorConfig {
        guard let yaml = suricataYAML(file), let eve = eveSection(yaml) else { return SensorConfig() }
        let text = try Yams.dump(object: ["eve": eve])
        return try SensorConfig.parse(text, file: file.path)
    }

    static func run(caseFolder: URL) -> (category: String, outcome: Outcome) {
        guard let data = try? Data(contentsOf: caseFolder.appendingPathComponent("expected.json")),
              let expected = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            return ("?", .failed("expected.json unreadable"))
        }
        let category = expected["category"] as? String ?? "?"
        let pcap = caseFolder.appendingPathComponent(expected["pcap"] as? String ?? "").path
        let rulesName = expected["rules"] as? String
        let options = expected["options"] as? [String: Any] ?? [:]
        var config: SensorConfig
        do { config = try self.config(suricataYAML: caseFolder.appendingPathComponent("original-suricata.yaml")) } catch {
            return (category, .failed("suricata.yaml: \(error)"))
        }
        config.streamMidstream = options["stream_midstream"] as? Bool ?? false
        config.streamInline = options["stream_inline"] as? Bool ?? false
        if let depth = options["stream_reassembly_depth"] as? Int, depth > 0 { config.streamDepth = depth }
        if let vars = expected["vars"] as? [String: Any] {
            config.addressGroups = vars["address-groups"] as? [String: String] ?? [:]
            config.portGroups = vars["port-groups"] as? [String: String] ?? [:]
            if config.addressGroups["HOME_NET"] != nil { config.homeNet = [] }
        }
        var rulesPath: String? = nil
        if let rulesName {
            rulesPath = caseFolder.appendingPathComponent(rulesName).path
            let ruleSet = (try? RulesLoading.load(path: rulesPath!, config: config)) ?? RuleSet()
            let missing = unsupportedFeatures(rules: ruleSet)
            if !missing.isEmpty { return (category, .skipped(missing.joined(separator: "; "))) }
        }

        let eve = FileManager.default.temporaryDirectory.appendingPathComponent("conformance-\(getpid())-\(caseFolder.lastPathComponent).json").path
        // CONFORMANCE_KEEP=1 keeps each case's EVE output (the path is printed) for a look.
        defer {
            if ProcessInfo.processInfo.environment["CONFORMANCE_KEEP"] != nil { print("EVE of \(caseFolder.lastPathComponent): \(eve)") } else {
                try? FileManager.default.removeItem(atPath: eve)
            }
        }
        do {
            _ = try Replay.run(files: [pcap], config: config, evePath: eve, rulesPath: rulesPath,
                               simulateIPS: options["ips_mode"] as? Bool ?? false)
        } catch {
            return (category, .failed("replay: \(error)"))
        }
        guard let text = try? String(contentsOfFile: eve, encoding: .utf8) else { return (category, .failed("no EVE output")) }
        let records = text.split(separator: "\n").compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
        let alerts = records.filter { $0["event_type"] as? String == "alert" }
        var problems: [String] = []
        for check in expected["alerts"] as? [[String: Any]] ?? [] {
            let want = check["count"] as? Int ?? 0
            var filter: [(String, Any)] = []
            if let sid = check["sid"] as? Int { filter.append(("alert.signature_id", sid)) }
            for key in ["src_ip", "dest_ip", "src_port", "dest_port", "proto"] { if let v = check[key] { filter.append((key, v)) } }
            for (k, v) in (check["match"] as? [String: Any] ?? [:]).sorted(by: { $0.key < $1.key }) { filter.append((k, v)) }
            problems += verdict("alert", filter, want: want, records: alerts)
        }
        for check in expected["other_checks"] as? [[String: Any]] ?? [] {
            guard let match = check["match"] as? [String: Any], let want = check["count"] as? Int else { continue }
            let filter = match.sorted { ($0.key == "event_type" ? "" : $0.key) < ($1.key == "event_type" ? "" : $1.key) }.map { ($0.key, $0.value) }
            problems += verdict(match["event_type"] as? String ?? "any", filter, want: want, records: records)
        }
        return (category, problems.isEmpty ? .passed : .failed(problems.joined(separator: "\n      ")))
    }

    /// One check: how many records meet every key of `filter`, against the count expected;
    /// when too few, the first key where the nearest record differs.
    static func verdict(_ kind: String, _ filter: [(String, Any)], want: Int, records: [[String: Any]]) -> [String] {
        let got = records.filter { r in filter.allSatisfy { holds(r, $0.0, $0.1) } }.count
        guard got != want else { return [] }
        let label = filter.filter { $0.0 != "event_type" }.prefix(4).map { "\($0.0)=\("\($0.1)".prefix(40))" }.joined(separator: ",")
        var line = "\(kind) [\(label)]: \(got), expected \(want)"
        if got < want {
            // The record that meets the most keys, and the first key it fails.
            let sameType = records.filter { r in filter.first { $0.0 == "event_type" }.map { holds(r, $0.0, $0.1) } ?? true }
            let best = sameType.max { a, b in
                filter.prefix { holds(a, $0.0, $0.1) }.count < filter.prefix { holds(b, $0.0, $0.1) }.count
            }
            if let best, let why = firstFailing(best, filter) { line += "; nearest differs at \(why)" } else { line += "; no such record" }
        }
        return [line]
    }
}

@Suite struct ConformanceTests {
    /// The number of cases that must pass: raised as features land, never lowered.
    static let minimumPassing = 304

    @Test func suricataVerifyCases() throws {
        let folder = sharedFolder.appendingPathComponent("conformance/suricata-verify")
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: folder.path) else {
            print("skipped suricataVerifyCases: \(folder.path) is missing")
            return
        }
        let only = ProcessInfo.processInfo.environment["CONFORMANCE_CASES"].map { Set($0.split(separator: ",").map(String.init)) }
        var passed: [String] = [], failed: [(String, String)] = [], skipped: [(String, String)] = []
        var byCategory: [String: (passed: Int, failed: Int, skipped: Int)] = [:]
        for name in names.sorted() where only?.contains(name) ?? true {
            let dir = folder.appendingPathComponent(name)
            guard FileManager.default.fileExists(atPath: dir.appendingPathComponent("expected.json").path) else { continue }
            let (category, outcome) = Conformance.run(caseFolder: dir)
            switch outcome {
            case .passed: passed.append(name); byCategory[category, default: (0, 0, 0)].passed += 1
            case .failed(let why): failed.append((name, why)); byCategory[category, default: (0, 0, 0)].failed += 1
            case .skipped(let why): skipped.append((name, why)); byCategory[category, default: (0, 0, 0)].skipped += 1
            }
        }
        let total = passed.count + failed.count + skipped.count
        var lines = ["suricata-verify conformance, every check counted: \(passed.count) passed, \(failed.count) failed, \(skipped.count) skipped of \(total) cases"]
        for (category, c) in byCategory.sorted(by: { $0.key < $1.key }) {
            lines.append("  \(category): \(c.passed) passed, \(c.failed) failed\(c.skipped > 0 ? ", \(c.skipped) skipped" : "")")
        }
        for (n, why) in failed { lines.append("  FAIL \(n): \(why)") }
        for (n, why) in skipped { lines.append("  SKIP \(n): \(why)") }
        print(lines.joined(separator: "\n"))
        if let report = ProcessInfo.processInfo.environment["CONFORMANCE_REPORT"] {
            try lines.joined(separator: "\n").write(toFile: report, atomically: true, encoding: .utf8)
        }
        if only == nil { #expect(passed.count >= ConformanceTests.minimumPassing) }
    }
}

import Foundation
import Testing
@testable import HNDetect

@Suite struct RuleSetTests {
    func folder(_ files: [String: String]) throws -> String {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("rules-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: dir.appendingPathComponent("signatures"), withIntermediateDirectories: true)
        for (name, text) in files { try text.write(to: dir.appendingPathComponent(name), atomically: true, encoding: .utf8) }
        return dir.path
    }

    @Test func folderLayoutLoadsRulesClassificationsAndThresholds() throws {
        let path = try folder([
            "signatures/a.rules": #"alert tcp any any -> any any (msg:"a"; content:"x"; classtype:web-application-attack; sid:1;)"# + "\n",
            "signatures/b.rules": "# only a comment\nalert tcp any any -> any any (bogus; sid:2;)\n",
            "classification.config": "# c\nconfig classification: web-application-attack,Web Application Attack,1\nconfig classification: broken\n",
            "threshold.config": "suppress gen_id 1, sig_id 1, track by_src, ip 10.0.0.0/8\nthreshold gen_id 1, sig_id 1, type limit, track by_dst, count 2, seconds 60\nrate_filter gen_id 1, sig_id 1, track by_src, count 1, seconds 1, new_action drop, timeout 10\n",
        ])
        let set = try RuleSet.load(path: path, variables: RuleVariables())
        #expect(set.rules.map(\.sid) == [1])
        #expect(set.classifications["web-application-attack"]?.priority == 1)
        #expect(set.thresholds.count == 2)
        // The bad rule, the bad classification line and the unsupported rate_filter are reported with their lines.
        let places = set.errors.map { "\(($0.file as NSString).lastPathComponent):\($0.line)" }.sorted()
        #expect(places == ["b.rules:2", "classification.config:3", "threshold.config:3"])
        let engine = try DetectionEngine(ruleSet: set)
        #expect(engine.severity(0) == 1)
        #expect(engine.category(0) == "Web Application Attack")
    }

    @Test func singleFileGetsStandardClassifications() throws {
        let path = try folder(["one.rules": #"alert tcp any any -> any any (content:"x"; classtype:trojan-activity; sid:9;)"# + "\n"])
        let set = try RuleSet.load(path: path + "/one.rules", variables: RuleVariables())
        let engine = try DetectionEngine(ruleSet: set)
        #expect(engine.category(0) == "A Network Trojan was detected")
        #expect(engine.severity(0) == 1)
    }

    @Test func missingPathIsAnError() {
        #expect(throws: RuleLoadError.self) { _ = try RuleSet.load(path: "/nonexistent/rules", variables: RuleVariables()) }
    }
}

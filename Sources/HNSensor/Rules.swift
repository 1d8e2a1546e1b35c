import HNDetect

/// Loading the rules folder named by the CLI or the configuration.
public enum RulesLoading {
    /// The default rules folder: `Rules/` next to the working directory when present,
    /// else the installed `/etc/hnsensor/rules`.
    public static func defaultPath(config: SensorConfig) -> String? {
        if let p = config.rulesPath { return p }
        if RuleSet.isDirectory("Rules/signatures") { return "Rules" }
        if RuleSet.isDirectory("/etc/hnsensor/rules") { return "/etc/hnsensor/rules" }
        return nil
    }

    public static func variables(config: SensorConfig) -> RuleVariables {
        RuleVariables(homeNet: config.homeNet, addressGroups: config.addressGroups, portGroups: config.portGroups)
    }

    public static func load(path: String, config: SensorConfig) throws(RuleLoadError) -> RuleSet {
        try RuleSet.load(path: path, variables: variables(config: config))
    }

    /// The `rules check` report: every error on its own line, then a summary with the
    /// keywords that failed most.
    public static func report(_ set: RuleSet) -> String {
        var lines = set.errors.map { error -> String in
            error.keyword.map { "\(error.description) [\($0)]" } ?? error.description
        }
        let failed = set.errors.count
        let total = set.rules.count + failed
        let percent = total == 0 ? 100.0 : Double(set.rules.count) * 100 / Double(total)
        lines.append("\(set.rules.count) of \(total) rules loaded (\(Report.fixed(percent, 2))%), \(failed) failed, from \(set.files.count) files; \(set.classifications.count) classifications, \(set.thresholds.count) threshold entries")
        var byKeyword: [String: Int] = [:]
        for e in set.errors { byKeyword[e.keyword ?? "(syntax)", default: 0] += 1 }
        if !byKeyword.isEmpty {
            let top = byKeyword.sorted { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }.prefix(15)
            lines.append("failures by keyword: " + top.map { "\($0.key) \($0.value)" }.joined(separator: ", "))
        }
        return lines.joined(separator: "\n")
    }
}

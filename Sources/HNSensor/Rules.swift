import Foundation
import HNAnomaly
import HNCorrelate
import HNIntel
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

/// Everything a rules folder holds beyond the signatures: indicators, detector settings
/// (and correlation rules), loaded together so a reload swaps them as one.
public struct SensorRules: Sendable {
    public var signatures: RuleSet
    public var indicators: IndicatorSet?
    public var anomalies: AnomalySettings?
    public var correlation: [CorrelationRule] = []
    /// Bad indicator lines and other skipped items, one line each.
    public var warnings: [String] = []

    /// `classtype -> (description, priority)` from the loaded classifications.
    public var classify: @Sendable (String) -> (String, Int)? {
        let table = signatures.classifications
        return { name in table[name].map { ($0.description, $0.priority) } }
    }
}

extension RulesLoading {
    /// Loads a rules folder (or a single .rules file): signatures, then `indicators/` and
    /// `anomalies/*.yaml` when present. A broken detector file is an error (nothing is
    /// half-configured); a bad indicator line is a warning and skipped.
    public static func loadAll(path: String, config: SensorConfig) throws(ReplayError) -> SensorRules {
        let set: RuleSet
        do {
            set = try load(path: path, config: config)
        } catch {
            throw ReplayError(description: error.description)
        }
        var rules = SensorRules(signatures: set)
        guard RuleSet.isDirectory(path) else { return rules }
        let indicatorFolder = path + "/indicators"
        if RuleSet.isDirectory(indicatorFolder) {
            do {
                let indicators = try IndicatorLoader.load(path: indicatorFolder)
                rules.warnings += indicators.errors.map { "indicator skipped: \($0.description)" }
                for (file, count) in indicators.unsupported.sorted(by: { $0.key < $1.key }) {
                    rules.warnings.append("\(file): \(count) indicators of types hnsensor does not match (file hashes, user names, …) skipped")
                }
                if !indicators.isEmpty { rules.indicators = indicators }
            } catch {
                throw ReplayError(description: error.description)
            }
        }
        let correlationFolder = path + "/correlation"
        if RuleSet.isDirectory(correlationFolder) {
            do {
                rules.correlation = try CorrelationRuleLoader.load(folder: correlationFolder)
            } catch {
                throw ReplayError(description: error.description)
            }
        }
        let anomalyFolder = path + "/anomalies"
        if RuleSet.isDirectory(anomalyFolder) {
            do {
                rules.anomalies = try AnomalySettings.load(folder: anomalyFolder)
            } catch {
                throw ReplayError(description: error.description)
            }
        }
        return rules
    }
}

/// The engines a rules folder gives: built together at start and on reload.
public struct SensorEngines: @unchecked Sendable {
    public var detection: DetectionEngine?
    public var intel: IntelMatcher?
    public var anomalies: AnomalyEngine?
    public var correlation: [CorrelationRule] = []
    /// Signature lines that did not load (the others run).
    public var ruleErrors: [String] = []
    /// Skipped indicator lines and the like.
    public var warnings: [String] = []

    public init() {}

    /// Loads `path` and builds every engine; a folder that cannot be loaded, or a detector,
    /// correlation or indicator-sources file with an error, throws.
    public static func build(rulesPath: String, config: SensorConfig, simulateIPS: Bool = false) throws(ReplayError) -> SensorEngines {
        let rules = try RulesLoading.loadAll(path: rulesPath, config: config)
        var engines = SensorEngines()
        engines.ruleErrors = rules.signatures.errors.map(\.description)
        engines.warnings = rules.warnings
        if !ScanPath.selected.verified { engines.warnings.append(ScanPath.selected.summary) }
        do {
            engines.detection = try DetectionEngine(ruleSet: rules.signatures, simulateIPS: simulateIPS)
        } catch {
            throw ReplayError(description: "\(rulesPath): \(error.description)")
        }
        if let indicators = rules.indicators { engines.intel = IntelMatcher(set: indicators, classify: rules.classify) }
        if let settings = rules.anomalies {
            engines.anomalies = AnomalyEngine(settings: settings, homeNet: config.homeNet, segmentNames: config.segments.map(\.name),
                                              classify: rules.classify)
        }
        engines.correlation = rules.correlation
        return engines
    }
}

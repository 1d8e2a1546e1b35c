import HNAppLayer
import HNDecode

extension Builder {
    /// `threshold`, `detection_filter` (flow).
    mutating func applyThreshold(_ name: String, _ value: String?) -> OptionProblem? {
        guard let v = value else { return Builder.problem("needs a value") }
        switch ThresholdSpec.parse(v, detectionFilter: name == "detection_filter") {
        case .failure(let m): return m
        case .success(let t): if name == "threshold" { rule.threshold = t } else { rule.detectionFilter = t }
        }
        return nil
    }
}

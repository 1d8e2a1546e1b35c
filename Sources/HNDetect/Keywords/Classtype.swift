import HNAppLayer
import HNDecode

extension Builder {
    /// `classtype` (metadata).
    mutating func applyClasstype(_ name: String, _ value: String?) -> OptionProblem? {
        guard let v = value, !v.isEmpty else { return Builder.problem("needs a value") }
        rule.classtype = v
        return nil
    }
}

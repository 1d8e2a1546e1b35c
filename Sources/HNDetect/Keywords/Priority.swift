import HNAppLayer
import HNDecode

extension Builder {
    /// `priority` (metadata).
    mutating func applyPriority(_ name: String, _ value: String?) -> OptionProblem? {
        guard let v = Builder.integer(value), v >= 1, v <= 255 else { return Builder.problem("must be a number from 1 to 255") }
        rule.priority = v
        return nil
    }
}

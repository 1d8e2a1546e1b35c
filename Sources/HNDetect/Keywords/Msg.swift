import HNAppLayer
import HNDecode

extension Builder {
    /// `msg` (metadata).
    mutating func applyMsg(_ name: String, _ value: String?) -> OptionProblem? {
        guard let v = value else { return Builder.problem("needs a value") }
        rule.message = unquote(v)
        return nil
    }
}

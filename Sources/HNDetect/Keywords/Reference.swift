import HNAppLayer
import HNDecode

extension Builder {
    /// `reference` (metadata).
    mutating func applyReference(_ name: String, _ value: String?) -> OptionProblem? {
        guard let v = value else { return Builder.problem("needs a value") }
        rule.references.append(v)
        return nil
    }
}

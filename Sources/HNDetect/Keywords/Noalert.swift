import HNAppLayer
import HNDecode

extension Builder {
    /// `noalert` (metadata).
    mutating func applyNoalert(_ name: String, _ value: String?) -> OptionProblem? {
        rule.noalert = true
        return nil
    }
}

import HNAppLayer
import HNDecode

extension Builder {
    /// `sid` (metadata).
    mutating func applySid(_ name: String, _ value: String?) -> OptionProblem? {
        guard let v = Builder.integer(value), v > 0, v <= Int(UInt32.max) else { return Builder.problem("must be a positive number") }
        rule.sid = UInt32(v)
        return nil
    }
}

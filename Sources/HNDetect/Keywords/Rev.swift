import HNAppLayer
import HNDecode

extension Builder {
    /// `rev` (metadata).
    mutating func applyRev(_ name: String, _ value: String?) -> OptionProblem? {
        guard let v = Builder.integer(value), v >= 0, v <= Int(UInt32.max) else { return Builder.problem("must be a number") }
        rule.rev = UInt32(v)
        return nil
    }
}

import HNAppLayer
import HNDecode

extension Builder {
    /// `gid` (metadata).
    mutating func applyGid(_ name: String, _ value: String?) -> OptionProblem? {
        guard let v = Builder.integer(value), v >= 0, v <= Int(UInt32.max) else { return Builder.problem("must be a number") }
        rule.gid = UInt32(v)
        return nil
    }
}

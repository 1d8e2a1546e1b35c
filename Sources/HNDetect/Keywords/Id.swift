import HNAppLayer
import HNDecode

extension Builder {
    /// `id` (packet header).
    mutating func applyId(_ name: String, _ value: String?) -> OptionProblem? {
        guard let v = value, let r = NumberRange.parse(v) else { return Builder.problem("expected a number") }
        rule.packetChecks.append(.ipID(r))
        return nil
    }
}

import HNAppLayer
import HNDecode

extension Builder {
    /// `window` (packet header).
    mutating func applyWindow(_ name: String, _ value: String?) -> OptionProblem? {
        guard let v = value, let r = NumberRange.parse(v) else { return Builder.problem("expected a number") }
        rule.packetChecks.append(.window(r))
        return nil
    }
}

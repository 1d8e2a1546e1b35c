import HNAppLayer
import HNDecode

extension Builder {
    /// `dsize` (packet header).
    mutating func applyDsize(_ name: String, _ value: String?) -> OptionProblem? {
        guard let v = value, let r = NumberRange.parse(v) else { return Builder.problem("expected N, <N, >N or N<>M") }
        rule.packetChecks.append(.dsize(r))
        return nil
    }
}

import HNAppLayer
import HNDecode

extension Builder {
    /// `ttl` (packet header).
    mutating func applyTtl(_ name: String, _ value: String?) -> OptionProblem? {
        guard let v = value, let r = NumberRange.parse(v, allowDash: true) else { return Builder.problem("expected N, <N, >N or N-M") }
        rule.packetChecks.append(.ttl(r))
        return nil
    }
}

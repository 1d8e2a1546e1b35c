import HNAppLayer
import HNDecode

extension Builder {
    /// `flags` (packet header).
    mutating func applyFlags(_ name: String, _ value: String?) -> OptionProblem? {
        guard let v = value, let f = TCPFlagsCheck.parse(v) else { return Builder.problem("expected flags such as S, SA+, !R or S,CE") }
        rule.packetChecks.append(.flags(f))
        return nil
    }
}

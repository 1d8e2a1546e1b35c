import HNAppLayer
import HNDecode

extension Builder {
    /// `itype`, `icode` (packet header).
    mutating func applyItype(_ name: String, _ value: String?) -> OptionProblem? {
        guard let v = value, let r = NumberRange.parse(v) else { return Builder.problem("expected N, <N, >N or N<>M") }
        rule.packetChecks.append(name == "itype" ? .itype(r) : .icode(r))
        return nil
    }
}

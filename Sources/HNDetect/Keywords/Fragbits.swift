import HNAppLayer
import HNDecode

extension Builder {
    /// `fragbits` (packet header).
    mutating func applyFragbits(_ name: String, _ value: String?) -> OptionProblem? {
        guard let v = value, let f = FragBitsCheck.parse(v) else { return Builder.problem("expected M, D, R with +, * or !") }
        rule.packetChecks.append(.fragbits(f))
        return nil
    }
}

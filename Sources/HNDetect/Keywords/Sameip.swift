import HNAppLayer
import HNDecode

extension Builder {
    /// `sameip` (packet header).
    mutating func applySameip(_ name: String, _ value: String?) -> OptionProblem? {
        rule.packetChecks.append(.sameIP)
        return nil
    }
}

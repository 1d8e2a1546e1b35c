import HNAppLayer
import HNDecode

extension Builder {
    /// `seq`, `ack` (packet header).
    mutating func applySeq(_ name: String, _ value: String?) -> OptionProblem? {
        guard let v = value.flatMap({ UInt32($0.trimmingSpaces) }) else { return Builder.problem("expected a number") }
        rule.packetChecks.append(name == "seq" ? .seq(v) : .ack(v))
        return nil
    }
}

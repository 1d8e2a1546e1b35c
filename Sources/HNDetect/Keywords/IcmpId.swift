import HNAppLayer
import HNDecode

extension Builder {
    /// `icmp_id`, `icmp_seq` (packet header).
    mutating func applyIcmpId(_ name: String, _ value: String?) -> OptionProblem? {
        guard let v = value.flatMap({ UInt16($0.trimmingSpaces) }) else { return Builder.problem("expected a number from 0 to 65535") }
        rule.packetChecks.append(name == "icmp_id" ? .icmpID(v) : .icmpSeq(v))
        return nil
    }
}

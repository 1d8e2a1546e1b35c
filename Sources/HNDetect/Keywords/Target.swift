import HNAppLayer
import HNDecode

extension Builder {
    /// `target` (metadata).
    mutating func applyTarget(_ name: String, _ value: String?) -> OptionProblem? {
        guard let v = value, v == "src_ip" || v == "dest_ip" else { return Builder.problem("must be src_ip or dest_ip") }
        rule.target = v
        return nil
    }
}

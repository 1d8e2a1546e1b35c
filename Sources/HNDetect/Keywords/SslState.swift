import HNAppLayer
import HNDecode

extension Builder {
    /// `ssl_state` (application layer (state checks)).
    mutating func applySslState(_ name: String, _ value: String?) -> OptionProblem? {
        guard let v = value else { return Builder.problem("needs a value") }
        rule.appChecks.append(.sslState(v))
        return nil
    }
}

import HNAppLayer
import HNDecode

extension Builder {
    /// `app-layer-protocol` (application layer (state checks)).
    mutating func applyAppLayerProtocol(_ name: String, _ value: String?) -> OptionProblem? {
        guard var v = value?.trimmingSpaces else { return Builder.problem("needs a protocol") }
        let negated = v.hasPrefix("!")
        if negated { v = String(v.dropFirst()) }
        rule.appChecks.append(.appLayerProtocol(v, negated: negated))
        return nil
    }
}

import HNAppLayer
import HNDecode

extension Builder {
    /// `app-layer-protocol` (application layer (state checks)).
    mutating func applyAppLayerProtocol(_ name: String, _ value: String?) -> OptionProblem? {
        guard var v = value?.trimmingSpaces else { return Builder.problem("needs a protocol") }
        let negated = v.hasPrefix("!")
        if negated { v = String(v.dropFirst()).trimmingSpaces }
        // `proto[,mode]`: the mode (to_server, to_client, direction, final, either) chooses
        // which of the flow's protocols is compared; hnsensor has one per flow, and
        // `original` is the first one of an upgraded flow.
        let parts = v.split(separator: ",").map { String($0.trimmingSpaces) }
        guard let first = parts.first, !first.isEmpty else { return Builder.problem("needs a protocol") }
        let mode = parts.count > 1 ? parts[1] : ""
        guard ["", "to_server", "to_client", "direction", "final", "original", "either"].contains(mode), parts.count <= 2 else {
            return Builder.problem("unknown mode '\(mode)' (expected to_server, to_client, direction, final, original or either)")
        }
        // Suricata's `http1` is HTTP/1, which is hnsensor's `http`.
        let name = first == "http1" ? "http" : first
        rule.appChecks.append(.appLayerProtocol(name, negated: negated, original: mode == "original"))
        return nil
    }
}

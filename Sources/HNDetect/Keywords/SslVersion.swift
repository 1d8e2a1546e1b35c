import HNAppLayer
import HNDecode

extension Builder {
    /// `ssl_version` (application layer (state checks)).
    mutating func applySslVersion(_ name: String, _ value: String?) -> OptionProblem? {
        guard var v = value.map({ String($0.trimmingSpaces) }) else { return Builder.problem("needs a value") }
        // A leading `!` negates the whole list, as Suricata reads it.
        let negated = v.hasPrefix("!")
        if negated { v = String(v.dropFirst().trimmingSpaces) }
        let map: [String: UInt16] = ["sslv2": 0x0200, "sslv3": 0x0300, "tls1.0": 0x0301, "tls1.1": 0x0302, "tls1.2": 0x0303, "tls1.3": 0x0304]
        var list: [UInt16] = []
        for w in v.split(separator: ",") {
            guard let x = map[w.trimmingSpaces.lowercased()] else { return Builder.problem("unknown version '\(w)'") }
            list.append(x)
        }
        guard !list.isEmpty else { return Builder.problem("needs a version") }
        rule.appChecks.append(.sslVersion(list, negated: negated))
        return nil
    }
}

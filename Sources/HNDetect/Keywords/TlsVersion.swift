import HNAppLayer
import HNDecode

extension Builder {
    /// `tls.version` (application layer (state checks)).
    mutating func applyTlsVersion(_ name: String, _ value: String?) -> OptionProblem? {
        guard let v = value?.trimmingSpaces else { return Builder.problem("needs a version") }
        let versions: [String: UInt16] = ["1.0": 0x0301, "1.1": 0x0302, "1.2": 0x0303, "1.3": 0x0304, "3.0": 0x0300]
        guard let ver = versions[v] ?? (v.hasPrefix("0x") ? UInt16(v.dropFirst(2), radix: 16) : nil) else { return Builder.problem("unknown TLS version '\(v)'") }
        rule.appChecks.append(.tlsVersion(ver))
        return nil
    }
}

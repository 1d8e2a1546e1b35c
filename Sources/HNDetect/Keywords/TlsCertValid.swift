import HNAppLayer
import HNDecode

extension Builder {
    /// `tls.cert_valid`, `tls_cert_valid` (application layer (state checks)).
    mutating func applyTlsCertValid(_ name: String, _ value: String?) -> OptionProblem? {
        rule.appChecks.append(.tlsCertValid)
        return nil
    }
}

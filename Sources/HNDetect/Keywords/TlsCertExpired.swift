import HNAppLayer
import HNDecode

extension Builder {
    /// `tls.cert_expired`, `tls_cert_expired` (application layer (state checks)).
    mutating func applyTlsCertExpired(_ name: String, _ value: String?) -> OptionProblem? {
        rule.appChecks.append(.tlsCertExpired)
        return nil
    }
}

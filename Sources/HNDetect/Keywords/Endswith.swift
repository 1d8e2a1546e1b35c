import HNAppLayer
import HNDecode

extension Builder {
    /// `endswith` (payload).
    mutating func applyEndswith(_ name: String, _ value: String?) -> OptionProblem? {
        return withLastContent(name) { $0.endsWith = true; return nil }
    }
}

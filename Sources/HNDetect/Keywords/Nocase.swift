import HNAppLayer
import HNDecode

extension Builder {
    /// `nocase` (payload).
    mutating func applyNocase(_ name: String, _ value: String?) -> OptionProblem? {
        return withLastContent(name) { $0.nocase = true; return nil }
    }
}

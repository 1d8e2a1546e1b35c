import HNAppLayer
import HNDecode

extension Builder {
    /// `fast_pattern` (payload).
    mutating func applyFastPattern(_ name: String, _ value: String?) -> OptionProblem? {
        return withLastContent(name) { c in
            guard !c.negated || value == nil else { return "cannot be used on a negated content with options" }
            c.fastPattern = true
            return nil
        }
    }
}

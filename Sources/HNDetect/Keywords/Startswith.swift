import HNAppLayer
import HNDecode

extension Builder {
    /// `startswith` (payload).
    mutating func applyStartswith(_ name: String, _ value: String?) -> OptionProblem? {
        return withLastContent(name) { c in
            guard c.depth == nil && c.offset == nil && !c.isRelative else { return "cannot be combined with depth, offset, distance or within" }
            c.startsWith = true
            return nil
        }
    }
}

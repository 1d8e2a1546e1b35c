import HNAppLayer
import HNDecode

extension Builder {
    /// `metadata` (metadata).
    mutating func applyMetadata(_ name: String, _ value: String?) -> OptionProblem? {
        guard let v = value else { return Builder.problem("needs a value") }
        for pair in v.split(separator: ",") {
            let t = pair.trimmingSpaces
            if let space = t.firstIndex(of: " ") {
                rule.metadata.append((String(t[..<space]), String(t[t.index(after: space)...]).trimmingSpaces))
            } else if !t.isEmpty {
                rule.metadata.append((String(t), ""))
            }
        }
        return nil
    }
}

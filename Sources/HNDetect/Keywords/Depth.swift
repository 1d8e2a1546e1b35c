import HNAppLayer
import HNDecode

extension Builder {
    /// `depth`, `offset`, `distance`, `within` (payload).
    mutating func applyDepth(_ name: String, _ value: String?) -> OptionProblem? {
        guard let n = Builder.integer(value) else {
            if value.map({ $0.first?.isLetter ?? false }) == true { return OptionProblem(text: "byte_extract variables are not supported", unsupported: true) }
            return Builder.problem("must be a number")
        }
        return withLastContent(name) { c in
            switch name {
            case "depth":
                guard n >= 1 else { return "must be at least 1" }
                guard c.distance == nil && c.within == nil else { return "cannot be combined with distance/within" }
                c.depth = n
            case "offset":
                guard n >= 0 else { return "must not be negative" }
                guard c.distance == nil && c.within == nil else { return "cannot be combined with distance/within" }
                c.offset = n
            case "distance":
                guard c.depth == nil && c.offset == nil else { return "cannot be combined with depth/offset" }
                c.distance = n
            default:
                guard n >= c.pattern.count else { return "within (\(n)) is shorter than the content (\(c.pattern.count))" }
                guard c.depth == nil && c.offset == nil else { return "cannot be combined with depth/offset" }
                c.within = n
            }
            return nil
        }
    }
}

import HNAppLayer
import HNDecode

extension Builder {
    /// `bsize` (payload).
    mutating func applyBsize(_ name: String, _ value: String?) -> OptionProblem? {
        guard let v = value, let r = NumberRange.parse(v) else { return Builder.problem("expected N, <N, >N or N<>M") }
        append(.size(SizeCheck(range: r)), to: currentBuffer)
        return nil
    }
}

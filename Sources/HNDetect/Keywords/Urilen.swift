import HNAppLayer
import HNDecode

extension Builder {
    /// `urilen` (payload).
    mutating func applyUrilen(_ name: String, _ value: String?) -> OptionProblem? {
        guard let v = value?.split(separator: ",").first.map(String.init), let r = NumberRange.parse(v) else { return Builder.problem("expected N, <N, >N or N<>M") }
        let l = listIndex(.httpURI)
        rule.buffers[l].items.append(.size(SizeCheck(range: r)))
        return nil
    }
}

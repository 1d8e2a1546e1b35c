import HNAppLayer
import HNDecode

extension Builder {
    /// `isdataat` (payload).
    mutating func applyIsdataat(_ name: String, _ value: String?) -> OptionProblem? {
        guard let v = value else { return Builder.problem("needs a value") }
        let parts = v.split(separator: ",").map { $0.trimmingSpaces }
        var n = parts.first ?? ""
        var check = IsDataAt(offset: 0)
        if n.hasPrefix("!") { check.negated = true; n = n.dropFirst() }
        guard let offset = Int(n) else { return Builder.problem("needs a number") }
        check.offset = offset
        for p in parts.dropFirst() {
            if p == "relative" { check.relative = true } else if p != "rawbytes" { return Builder.problem("unknown option '\(p)'") }
        }
        append(.isDataAt(check), to: check.relative ? relativeBuffer : currentBuffer)
        return nil
    }
}

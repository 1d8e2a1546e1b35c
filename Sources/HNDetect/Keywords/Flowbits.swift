import HNAppLayer
import HNDecode

extension Builder {
    /// `flowbits` (flow).
    mutating func applyFlowbits(_ name: String, _ value: String?) -> OptionProblem? {
        guard let v = value else { return Builder.problem("needs a value") }
        let parts = v.split(separator: ",", maxSplits: 1).map { $0.trimmingSpaces }
        guard let kind = FlowbitOperation.Kind(rawValue: String(parts[0])) else { return Builder.problem("unknown operation '\(parts[0])'") }
        if kind == .noalert { rule.noalert = true; return nil }
        guard parts.count == 2, !parts[1].isEmpty else { return Builder.problem("\(kind.rawValue) needs a name") }
        let any = parts[1].contains("|")
        let names = parts[1].split(whereSeparator: { $0 == "|" || $0 == "&" }).map { String($0.trimmingSpaces) }
        rule.flowbits.append(FlowbitOperation(kind: kind, names: names, any: any))
        return nil
    }
}

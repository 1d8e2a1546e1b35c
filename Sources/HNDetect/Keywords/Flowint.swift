import HNAppLayer
import HNDecode

extension Builder {
    /// `flowint` (flow).
    mutating func applyFlowint(_ name: String, _ value: String?) -> OptionProblem? {
        guard let v = value else { return Builder.problem("needs a value") }
        let parts = v.split(separator: ",").map { String($0.trimmingSpaces) }
        guard parts.count >= 2, let op = FlowintOperation.Op(rawValue: parts[1]) else { return Builder.problem("expected name,operator[,value]") }
        var f = FlowintOperation(name: parts[0], op: op)
        if op != .isSet && op != .notSet && op != .isNotSet {
            guard parts.count == 3 else { return Builder.problem("\(op.rawValue) needs a value") }
            if let n = Int64(parts[2]) { f.value = n } else { f.valueName = parts[2] }
        }
        rule.flowints.append(f)
        return nil
    }
}

import HNAppLayer
import HNDecode

extension Builder {
    /// `xbits` (flow).
    mutating func applyXbits(_ name: String, _ value: String?) -> OptionProblem? {
        guard let v = value else { return Builder.problem("needs a value") }
        let parts = v.split(separator: ",").map { String($0.trimmingSpaces) }
        guard parts.count >= 3, let kind = FlowbitOperation.Kind(rawValue: parts[0]) else { return Builder.problem("expected operation,name,track ip_src|ip_dst|ip_pair") }
        var x = XbitOperation(kind: kind, name: parts[1], track: .source)
        for p in parts.dropFirst(2) {
            let w = p.split(separator: " ")
            if w.count == 2 && w[0] == "track", let t = XbitOperation.Track(rawValue: String(w[1])) { x.track = t }
            else if w.count == 2 && w[0] == "expire", let e = Int64(w[1]) { x.expireSeconds = e }
            else { return Builder.problem("unknown xbits option '\(p)'") }
        }
        rule.xbits.append(x)
        return nil
    }
}

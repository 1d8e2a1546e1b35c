import HNAppLayer
import HNDecode

extension Builder {
    /// `flow` (flow).
    mutating func applyFlow(_ name: String, _ value: String?) -> OptionProblem? {
        guard let v = value else { return Builder.problem("needs a value") }
        var f = rule.flow ?? FlowOptions()
        for word in v.split(separator: ",").map({ $0.trimmingSpaces }) {
            switch word {
            case "established": f.established = true
            case "not_established": f.notEstablished = true
            case "stateless": f.stateless = true
            case "to_server", "from_client": f.toServer = true
            case "to_client", "from_server": f.toClient = true
            case "only_stream": f.onlyStream = true
            case "no_stream": f.noStream = true
            case "only_frag": f.onlyFragment = true
            case "no_frag": f.noFragment = true
            default: return Builder.problem("unknown flow option '\(word)'")
            }
        }
        if f.toServer && f.toClient { return Builder.problem("to_server and to_client together never match") }
        if f.established && f.notEstablished { return Builder.problem("established and not_established together never match") }
        rule.flow = f
        return nil
    }
}

import HNAppLayer
import HNDecode

extension Builder {
    /// `ip_proto` (packet header).
    mutating func applyIpProto(_ name: String, _ value: String?) -> OptionProblem? {
        guard let v = value?.trimmingSpaces else { return Builder.problem("needs a value") }
        let names: [String: Int] = ["tcp": 6, "udp": 17, "icmp": 1, "ipv6-icmp": 58, "igmp": 2, "gre": 47, "esp": 50, "ah": 51, "sctp": 132, "ipip": 4, "ospf": 89, "pim": 103, "vrrp": 112]
        let negated = v.hasPrefix("!")
        let body = negated ? String(v.dropFirst()) : v
        if let n = names[body.lowercased()] {
            rule.packetChecks.append(.ipProto(NumberRange(op: negated ? .ne : .eq, a: n, b: 0)))
        } else if let r = NumberRange.parse(v) {
            rule.packetChecks.append(.ipProto(r))
        } else {
            return Builder.problem("expected a protocol number or name")
        }
        return nil
    }
}

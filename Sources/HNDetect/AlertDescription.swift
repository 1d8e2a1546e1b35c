import HNAlert
import HNDecode

extension DetectionEngine {
    /// The resolved form of a signature alert.
    public func describe(_ alert: Alert, flowID: UInt64?, segment: UInt16, appProto: String?, hasFlow: Bool) -> SecurityAlert {
        let r = rule(alert.ruleIndex)
        var result = SecurityAlert(timestamp: alert.timestamp, packetNumber: alert.packetNumber, flowID: flowID, segment: segment,
                                   source: alert.source, destination: alert.destination, sourcePort: alert.sourcePort,
                                   destinationPort: alert.destinationPort, ipProto: alert.ipProto, appProto: appProto,
                                   toServer: hasFlow ? alert.toServer : nil, sid: r.sid, signature: r.message,
                                   classtype: r.classtype ?? "", category: category(alert.ruleIndex), severity: severity(alert.ruleIndex))
        result.gid = r.gid
        result.rev = r.rev
        result.blocked = alert.blocked
        var keys: [String] = []
        for (k, _) in r.metadata where !keys.contains(k) { keys.append(k) }
        result.metadata = keys.map { key in (key, r.metadata.filter { $0.0 == key }.map(\.1)) }
        result.target = r.target
        return result
    }
}

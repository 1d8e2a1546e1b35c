import HNAlert
import HNAppLayer
import HNDecode
import HNDetect
import HNFlow
import HNIntel

/// Matches indicators at the points CSIRTs expect: both addresses of every new flow
/// (longest prefix), DNS queries and answers, TLS SNI, certificate fingerprint, JA3 and JA4,
/// HTTP host, URL and user agent, SMTP sender and recipients. Work happens once per flow and
/// once per application-layer record, never per packet. Each indicator alerts once per flow.
/// Each hook hands what it found to its `emit` closure before it returns.
public final class IntelMatcher {
    public let set: IndicatorSet
    let classify: @Sendable (String) -> (String, Int)?
    /// Alerts found during the hook being run, handed to its `emit` before it returns.
    var found: [SecurityAlert] = []
    /// Indicators already reported per open flow.
    var reported: [UInt64: [Int32]] = [:]
    public private(set) var hits: UInt64 = 0
    public let checksAddresses: Bool

    public static let classtype = "bad-unknown"

    public init(set: IndicatorSet, classify: @escaping @Sendable (String) -> (String, Int)? = { _ in nil }) {
        self.set = set
        self.classify = classify
        self.checksAddresses = set.has(.address) || set.has(.subnet)
    }

    /// A matcher for another worker: the same (read-only) indicators, its own state.
    public func copy() -> IntelMatcher { IntelMatcher(set: set, classify: classify) }

    public func flowStarted(_ flow: Flow, emit: (SecurityAlert) -> Void) {
        defer { hand(emit) }
        if let hit = set.match(address: flow.client) {
            report(hit, seen: flow.client.description, where: "source address", flow: flow, time: flow.start)
        }
        if let hit = set.match(address: flow.server) {
            report(hit, seen: flow.server.description, where: "destination address", flow: flow, time: flow.start)
        }
    }

    /// Hands the alerts found by a hook to its caller.
    @inline(__always)
    func hand(_ emit: (SecurityAlert) -> Void) {
        guard !found.isEmpty else { return }
        for alert in found { emit(alert) }
        found.removeAll(keepingCapacity: true)
    }

    public func flowEnded(_ id: UInt64) {
        if !reported.isEmpty { reported.removeValue(forKey: id) }
    }

    public func appRecord(_ type: String, _ record: JSONValue, flow: Flow, time: Int64, emit: (SecurityAlert) -> Void) {
        defer { hand(emit) }
        func string(_ v: JSONValue?) -> String? { if case .string(let s)? = v { return s }; return nil }
        func domain(_ name: String?, _ place: String) {
            guard let name, !name.isEmpty, let hit = set.match(domain: name) else { return }
            report(hit, seen: name, where: place, flow: flow, time: time)
        }
        func exact(_ value: String?, _ type: IndicatorType, _ place: String) {
            guard let value, !value.isEmpty, let hit = set.match(value, type: type) else { return }
            report(hit, seen: value, where: place, flow: flow, time: time)
        }
        switch type {
        case "dns":
            if case .array(let queries)? = record["queries"] {
                for q in queries { domain(string(q["rrname"]), "dns query") }
            }
            if case .array(let answers)? = record["answers"] {
                for a in answers {
                    domain(string(a["rrname"]), "dns answer")
                    if let data = string(a["rdata"]) {
                        if let address = IPAddress(data), let hit = set.match(address: address) {
                            report(hit, seen: data, where: "dns answer", flow: flow, time: time)
                        } else if string(a["rrtype"]) == "CNAME" {
                            domain(data, "dns answer")
                        }
                    }
                }
            }
        case "tls":
            domain(string(record["sni"]), "tls sni")
            exact(string(record["fingerprint"]), .certHash, "tls certificate")
            exact(string(record["ja3"]?["hash"]), .ja3, "tls ja3")
            exact(string(record["ja4"]), .ja4, "tls ja4")
        case "http":
            let host = string(record["hostname"])
            domain(host, "http host")
            if let host, let url = string(record["url"]) {
                exact(url.hasPrefix("/") ? host + url : url, .url, "http url")
            }
            exact(string(record["http_user_agent"]), .software, "http user agent")
        case "smtp":
            exact(string(record["mail_from"]), .email, "smtp mail from")
            if case .array(let rcpts)? = record["rcpt_to"] {
                for r in rcpts { exact(string(r), .email, "smtp rcpt to") }
            }
        default:
            break
        }
    }

    func report(_ index: Int32, seen: String, where place: String, flow: Flow, time: Int64) {
        if reported[flow.id]?.contains(index) == true { return }
        reported[flow.id, default: []].append(index)
        hits &+= 1
        let indicator = set.indicators[Int(index)]
        let source = set.sources[Int(indicator.source)]
        let severity = set.sourceSeverity[Int(indicator.source)]
        let category = classify(IntelMatcher.classtype)?.0 ?? "Potentially Bad Traffic"
        var alert = SecurityAlert(timestamp: time, packetNumber: nil, flowID: flow.id, segment: flow.segment, source: flow.client,
                                  destination: flow.server, sourcePort: flow.clientPort, destinationPort: flow.serverPort,
                                  ipProto: flow.proto, appProto: AppProtocol.name(flow.appProto), toServer: nil, sid: indicator.type.sid,
                                  signature: "HNSENSOR INTEL \(indicator.type.shortName) \(indicator.value) (\(source))",
                                  classtype: IntelMatcher.classtype, category: category, severity: severity)
        alert.origin = .indicator(source: source)
        var metadata: [(String, [String])] = [
            ("indicator", [indicator.value]), ("indicator_type", [indicator.type.rawValue]), ("source", [source]),
            ("seen_in", [place]),
        ]
        if seen != indicator.value { metadata.append(("seen", [seen])) }
        if !indicator.description.isEmpty { metadata.append(("description", [indicator.description])) }
        alert.metadata = metadata
        found.append(alert)
    }
}

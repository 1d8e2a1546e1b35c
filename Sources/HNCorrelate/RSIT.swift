/// The Reference Security Incident Taxonomy, with the taxonomy and type values as IntelMQ
/// spells them (`classification.taxonomy`, `classification.type`).
public enum RSIT {
    public static let types: [(taxonomy: String, types: [String])] = [
        ("abusive-content", ["harmful-speech", "spam", "violence"]),
        ("availability", ["ddos", "dos", "misconfiguration", "outage", "sabotage"]),
        ("fraud", ["copyright", "masquerade", "phishing", "unauthorized-use-of-resources"]),
        ("information-content-security", ["data-leak", "data-loss", "unauthorised-information-access", "unauthorised-information-modification"]),
        ("information-gathering", ["scanner", "sniffing", "social-engineering"]),
        ("intrusion-attempts", ["brute-force", "exploit", "ids-alert"]),
        ("intrusions", ["application-compromise", "burglary", "privileged-account-compromise", "system-compromise", "unprivileged-account-compromise"]),
        ("malicious-code", ["c2-server", "infected-system", "malware-configuration", "malware-distribution"]),
        ("other", ["blacklist", "dga-domain", "other", "proxy", "sinkhole", "tor", "undetermined", "unknown"]),
        ("test", ["test"]),
        ("vulnerable", ["ddos-amplifier", "information-disclosure", "potentially-unwanted-accessible", "vulnerable-system", "weak-crypto"]),
    ]

    public static func isValid(taxonomy: String, type: String) -> Bool {
        types.contains { $0.taxonomy == taxonomy && $0.types.contains(type) }
    }

    public static var allPairs: String {
        types.map { "\($0.taxonomy)/{\($0.types.joined(separator: ","))}" }.joined(separator: " ")
    }
}

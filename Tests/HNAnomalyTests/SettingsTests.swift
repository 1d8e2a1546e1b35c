@testable import HNAnomaly
import HNConfig
import Testing

@Suite struct AnomalySettingsTests {
    @Test func theShippedFileLoadsAndKeepsTheDocumentedDefaults() throws {
        let folder = repositoryRoot + "/Rules/anomalies"
        let s = try AnomalySettings.load(folder: folder)
        let d = AnomalySettings()
        #expect(s.portScan.threshold == d.portScan.threshold)
        #expect(s.bruteForce.services.map(\.0) == d.bruteForce.services.map(\.0))
        #expect(s.flood.synThreshold == d.flood.synThreshold)
        #expect(s.remoteMaintenance.allowedHours! == d.remoteMaintenance.allowedHours!)
        #expect(s.scopes.map(\.1.sid) == d.scopes.map(\.1.sid))
    }

    @Test func errorsNameTheFileLineAndKey() {
        var s = AnomalySettings()
        #expect(throws: ConfigError(description: "a.yaml:2:3: port-scan.treshold: unknown key (expected one of: enabled, sid, classtype, severity, segments, networks, except_sources, except_destinations, threshold, window)")) {
            try s.apply("port-scan:\n  treshold: 3\n", file: "a.yaml")
        }
        #expect(throws: ConfigError(description: "a.yaml:1:1: port-sacn: unknown key (expected one of: \(AnomalySettings.detectorNames.joined(separator: ", ")), limits)")) {
            try s.apply("port-sacn: {}\n", file: "a.yaml")
        }
        #expect(throws: ConfigError(description: "a.yaml:2:18: remote-maintenance.allowed_hours: expected HH:MM-HH:MM or any")) {
            try s.apply("remote-maintenance:\n  allowed_hours: 7-19\n", file: "a.yaml")
        }
        #expect(throws: ConfigError(description: "a.yaml:1:17: flood.window: expected a duration such as 30s, 10m, 2h or 1d")) {
            try s.apply("flood: {window: 10 parsecs}\n", file: "a.yaml")
        }
    }
}

let repositoryRoot: String = {
    var url = #filePath.split(separator: "/").dropLast(3).joined(separator: "/")
    url = "/" + url
    return url
}()

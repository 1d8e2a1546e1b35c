import Testing
@testable import HNAppLayer

@Suite struct AppProtocolTests {
    @Test func theParsersIdsAreTheIdsOfTheirSuricataNames() {
        let pairs: [(String, UInt8)] = [("http", AppProtocol.http), ("tls", AppProtocol.tls), ("dns", AppProtocol.dns),
                                        ("ssh", AppProtocol.ssh), ("smtp", AppProtocol.smtp), ("ftp", AppProtocol.ftp),
                                        ("smb", AppProtocol.smb), ("rdp", AppProtocol.rdp), ("ftp-data", AppProtocol.ftpData),
                                        ("failed", AppProtocol.failed)]
        for (name, id) in pairs {
            #expect(AppProtocol.id(name) == id, "\(name)")
            #expect(AppProtocol.name(id) == name)
        }
    }

    @Test func detectionCountsAreReportedByName() {
        var stats = AppLayer.Stats()
        stats.count(AppProtocol.tls)
        stats.count(AppProtocol.tls)
        stats.count(AppProtocol.dns)
        #expect(stats.detected == ["tls": 2, "dns": 1])
    }
}

import Testing
@testable import HNAppLayer
@testable import HNDecode

@Suite struct FTPParserTests {
    @Test func passwordIsNeverKeptAndPassiveModeIsAnnounced() throws {
        let p = FTPParser()
        var events: [AppEvent] = []
        feed([Array("USER anna\r\nPASS s3cret\r\nPASV\r\n".utf8)]) { p.receive($0, toServer: true, events: &events) }
        feed([Array("331 Password required\r\n230 Logged in\r\n227 Entering Passive Mode (10,20,2,21,19,137).\r\n".utf8)]) { p.receive($0, toServer: false, events: &events) }
        let logs = records(events)
        #expect(logs.count == 3)
        guard case .string(let cmd)? = logs[1]["command"], case .bool(true)? = logs[1]["credentials_in_clear"] else { Issue.record("PASS log"); return }
        #expect(cmd == "PASS" && logs[1]["command_data"] == nil)
        #expect(!"\(logs)".contains("s3cret"))
        #expect(p.user == Array("anna".utf8))
        #expect(p.announcedData.first.map { Int($0.port) } == 19 * 256 + 137)
        #expect(p.announcedData.first?.address?.description == "10.20.2.21")
    }
}

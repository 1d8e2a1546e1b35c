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

    @Test func recordsSayTheDataPortTheReplyAndCutLines() {
        let p = FTPParser()
        var events: [AppEvent] = []
        let long = "RETR " + String(repeating: "a", count: 5000) + "\r\n"
        feed([Array(("EPSV\r\n" + long + "NOOP\r\n").utf8)]) { p.receive($0, toServer: true, events: &events) }
        feed([Array("229 Entering Extended Passive Mode (|||58612|)\r\n550 no\r\n".utf8)]) { p.receive($0, toServer: false, events: &events) }
        p.flush(&events)
        let logs = records(events)
        #expect(logs.count == 3)
        guard case .int(let port)? = logs[0]["dynamic_port"], case .string(let mode)? = logs[0]["mode"],
              case .bool(let cut)? = logs[1]["command_truncated"], case .string(let data)? = logs[1]["command_data"],
              case .string(let received)? = logs[2]["reply_received"], case .bool(let fine)? = logs[2]["command_truncated"] else {
            Issue.record("fields: \(logs)")
            return
        }
        #expect(port == 58612 && mode == "passive")
        #expect(cut && data.utf8.count == FTPParser.maxLine - 5)
        #expect(received == "no" && !fine)
    }
}

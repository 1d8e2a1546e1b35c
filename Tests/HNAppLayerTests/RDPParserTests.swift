import Testing
@testable import HNAppLayer
@testable import HNDecode

@Suite struct RDPParserTests {
    @Test func connectionRequestCookieAndProtocols() throws {
        let cookie = Array("Cookie: mstshash=admin\r\n".utf8)
        let neg: [UInt8] = [0x01, 0x00, 0x08, 0x00, 0x03, 0x00, 0x00, 0x00]  // RDP_NEG_REQ ssl|hybrid
        let x224: [UInt8] = [UInt8(6 + cookie.count + neg.count), 0xE0, 0, 0, 0, 0, 0] + cookie + neg
        let tpkt: [UInt8] = [3, 0, 0, UInt8(4 + x224.count)] + x224
        tpkt.withUnsafeBytes { #expect(RDPParser.looksLikeRDP(ByteView($0))) }
        let p = RDPParser()
        var events: [AppEvent] = []
        feed([tpkt]) { p.receive($0, toServer: true, events: &events) }
        let log = try #require(records(events).first)
        guard case .string(let c)? = log["cookie"], case .array(let protocols)? = log["requested_protocols"] else { Issue.record("\(log)"); return }
        #expect(c == "admin" && protocols.count == 2)
    }

    @Test func standardSecurityLogsTheClientsCoreDataAndChannelsThenTheConnectResponse() throws {
        func tpkt(_ body: [UInt8]) -> [UInt8] { [3, 0, UInt8((4 + body.count) >> 8), UInt8((4 + body.count) & 0xFF)] + body }
        func utf16(_ s: String, _ size: Int) -> [UInt8] {
            let u = s.utf16.flatMap { [UInt8($0 & 0xFF), UInt8($0 >> 8)] }
            return u + [UInt8](repeating: 0, count: size - u.count)
        }
        let request = tpkt([6, 0xE0, 0, 0, 0, 0, 0])
        let confirm = tpkt([6, 0xD0, 0, 0, 0, 0, 0])
        // TS_UD_CS_CORE: version 5, 1152x864, en-US, build 2600, name, then up to the
        // early capability flags (errinfo) and the product id string.
        var core: [UInt8] = [0x01, 0xC0, 0, 0, 0x04, 0x00, 0x08, 0x00, 0x80, 0x04, 0x60, 0x03, 0x01, 0xCA, 0x03, 0xAA, 0x09, 0x04, 0, 0, 0x28, 0x0A, 0, 0]
        core += utf16("ISD2-KM84178", 32) + [4, 0, 0, 0, 0, 0, 0, 0, 12, 0, 0, 0] + [UInt8](repeating: 0, count: 64)
        core += [0x01, 0xCA, 0x01, 0x00, 0, 0, 0, 0, 0x10, 0x00, 0x07, 0x00, 0x01, 0x00] + utf16("55274-OEM-0011903-00107", 64)
        core[2] = UInt8(core.count & 0xFF); core[3] = UInt8(core.count >> 8)
        // TS_UD_CS_NET with two channels.
        let net: [UInt8] = [0x03, 0xC0, 32, 0, 2, 0, 0, 0] + Array("rdpdr\0\0\0".utf8) + [0, 0, 0, 0x80] + Array("cliprdr\0".utf8) + [0, 0, 0, 0xC0]
        let userData = core + net
        let mcs: [UInt8] = [0x7F, 0x65, 0x82, 0x01, 0x00] + [0x04, 0x01, 0x01] + Array("Duca".utf8) + [0x81, UInt8(userData.count & 0xFF)] + userData
        let initial = tpkt([2, 0xF0, 0x80] + mcs)
        let response = tpkt([2, 0xF0, 0x80, 0x7F, 0x66, 0x00])
        let p = RDPParser()
        var events: [AppEvent] = []
        feed([request]) { p.receive($0, toServer: true, events: &events) }
        feed([confirm]) { p.receive($0, toServer: false, events: &events) }
        feed([initial]) { p.receive($0, toServer: true, events: &events) }
        feed([response]) { p.receive($0, toServer: false, events: &events) }
        let logs = records(events)
        #expect(logs.map { $0["event_type"] } == ["initial_request", "initial_response", "connect_request", "connect_response"].map { .string($0) })
        #expect(logs.map { $0["tx_id"] } == [0, 1, 2, 3].map { .int($0) })
        let client = try #require(logs[2]["client"])
        #expect(client["version"] == .string("v5") && client["build"] == .string("Windows XP") && client["desktop_height"] == .int(864))
        #expect(client["client_name"] == .string("ISD2-KM84178") && client["keyboard_layout"] == .string("en-US"))
        #expect(client["capabilities"] == .array([.string("support_errinfo_pdf")]) && client["id"] == .string("55274-OEM-0011903-00107"))
        #expect(logs[2]["channels"] == .array([.string("rdpdr"), .string("cliprdr")]))
    }
}

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
}

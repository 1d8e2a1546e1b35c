import Foundation
import HNAlert
import HNAppLayer
import HNDecode
import HNFlow
@testable import HNOutput
import Testing

/// The parts of an EVE alert record that depend on the eve-log settings and on what the
/// alert is about (a transaction, a tunnelled packet).
@Suite struct EVEAlertRecordTests {
    static func alert() -> SecurityAlert {
        SecurityAlert(timestamp: 0, packetNumber: 4, flowID: 9, segment: 0, source: IPAddress("2001:db8::1")!, destination: IPAddress("2001:db8::2")!,
                      sourcePort: 40000, destinationPort: 80, ipProto: 6, appProto: "http", toServer: true, sid: 7,
                      signature: "test", classtype: "", category: "", severity: 3)
    }

    func record(_ alert: SecurityAlert, app: AlertApp?, _ configure: (inout EVESettings) -> Void = { _ in }) throws -> [String: Any] {
        let file = OutputFile(memory: ())
        let eve = EVEWriter(file: file)
        configure(&eve.settings)
        var flow = Flow()
        flow.proto = 6
        flow.client = alert.source
        flow.server = alert.destination
        try eve.writeAlert(alert, flow: flow, app: app)
        var bytes: [UInt8] = []
        file.take(&bytes)
        return try #require(try JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any])
    }

    @Test func anAlertOnATransactionCarriesItsIdAndRecord() throws {
        let app = AlertApp(transactionID: 2, objects: [("http", .object([("hostname", .string("lab.lu"))]))])
        let r = try record(EVEAlertRecordTests.alert(), app: app)
        #expect(r["tx_id"] as? Int == 2)
        #expect((r["http"] as? [String: Any])?["hostname"] as? String == "lab.lu")
        #expect(r["flow"] != nil && r["pkt_src"] as? String == "wire/pcap")
        // IPv6 in full unless ipv6-compress.
        #expect(r["src_ip"] as? String == "2001:0db8:0000:0000:0000:0000:0000:0001")
        #expect(try record(EVEAlertRecordTests.alert(), app: nil) { $0.ipv6Compress = true }["src_ip"] as? String == "2001:db8::1")
    }

    @Test func metadataOffKeepsTheTransactionIdOnly() throws {
        let r = try record(EVEAlertRecordTests.alert(), app: AlertApp(transactionID: 0, objects: [])) { $0.alertMetadata = false }
        #expect(r["tx_id"] as? Int == 0 && r["flow"] == nil && r["http"] == nil)
    }

    @Test func packetLoggingAndTunnelsAreWritten() throws {
        var a = EVEAlertRecordTests.alert()
        a.packet = [1, 2, 3]
        a.linkType = 113
        a.tunnel = .init(source: IPAddress("10.1.0.1")!, destination: IPAddress("10.1.0.2")!, proto: 4, version: 4, depth: 1)
        let r = try record(a, app: nil) { $0.alertPacket = true }
        #expect(r["packet"] as? String == "AQID")
        #expect((r["packet_info"] as? [String: Any])?["linktype_name"] as? String == "LINUX_SLL")
        #expect(r["pkt_src"] as? String == "ipv4 tunnel")
        let tunnel = try #require(r["tunnel"] as? [String: Any])
        #expect(tunnel["src_ip"] as? String == "10.1.0.1" && tunnel["proto"] as? String == "IP-in-IP")
        #expect(try record(a, app: nil)["packet"] == nil)
    }
}

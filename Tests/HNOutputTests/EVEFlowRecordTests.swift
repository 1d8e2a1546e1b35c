import HNDecode
import HNAppLayer
import HNFlow
@testable import HNOutput
import Testing

/// The EVE flow record's fields that Suricata computes in its own way.
@Suite struct EVEFlowRecordTests {
    func record(_ f: Flow, communityID: UInt16? = nil) throws -> String {
        let file = OutputFile(memory: ())
        let eve = EVEWriter(file: file)
        eve.settings.communityIDSeed = communityID
        try eve.writeFlow(f, reason: .shutdown)
        var bytes: [UInt8] = []
        file.take(&bytes)
        return String(decoding: bytes, as: UTF8.self)
    }

    static func flow(start: Int64, last: Int64) -> Flow {
        var f = Flow()
        f.proto = 6
        f.ipVersion = 4
        f.client = IPAddress("172.26.0.39")!
        f.server = IPAddress("172.217.14.206")!
        f.clientPort = 35958
        f.serverPort = 443
        f.start = start
        f.last = last
        return f
    }

    @Test func ageIsTheDifferenceOfTheWholeSeconds() throws {
        // 27.54 s to 53.32 s: 25.78 s apart, but Suricata writes 53 - 27 = 26.
        let s: Int64 = 1_000_000_000
        #expect(try record(EVEFlowRecordTests.flow(start: 27 * s + 542_818_000, last: 53 * s + 323_846_000)).contains("\"age\":26"))
        #expect(try record(EVEFlowRecordTests.flow(start: 10 * s + 900_000_000, last: 11 * s + 100_000_000)).contains("\"age\":1"))
    }

    @Test func communityIDIsWrittenOnlyWhenEnabled() throws {
        let f = EVEFlowRecordTests.flow(start: 0, last: 0)
        #expect(!(try record(f)).contains("community_id"))
        #expect(try record(f, communityID: 7).contains("\"community_id\":\"1:IwiTNfuO7aCaamMijl+7/X9uLx0=\""))
    }

    @Test func ethernetAddressesAreListedPerSideWhenEnabled() throws {
        var macs = FlowMACs()
        macs.add(source: 0x0000_0c01_0113, destination: 0x0000_0c01_0114, toServer: true)
        macs.add(source: 0x0000_0c01_0112, destination: 0x0000_0c01_0111, toServer: false)
        macs.add(source: 0x0000_0c01_0113, destination: 0x0000_0c01_0114, toServer: true)
        #expect(macs.client == [0x0000_0c01_0113, 0x0000_0c01_0111] && macs.server == [0x0000_0c01_0114, 0x0000_0c01_0112])
        let file = OutputFile(memory: ())
        let eve = EVEWriter(file: file)
        try eve.writeFlow(EVEFlowRecordTests.flow(start: 0, last: 0), reason: .shutdown, macs: macs)
        eve.settings.ethernet = true
        try eve.writeFlow(EVEFlowRecordTests.flow(start: 0, last: 0), reason: .shutdown, macs: macs)
        var bytes: [UInt8] = []
        file.take(&bytes)
        let lines = String(decoding: bytes, as: UTF8.self).split(separator: "\n")
        #expect(lines.count == 2 && !lines[0].contains("ether"))
        #expect(lines[1].contains("\"ether\":{\"src_macs\":[\"00:00:0c:01:01:13\",\"00:00:0c:01:01:11\"],\"dest_macs\":[\"00:00:0c:01:01:14\",\"00:00:0c:01:01:12\"]}"))
    }

    @Test func appRecordsCarryTheFlowsVLANsAsFlowRecordsDo() throws {
        var f = EVEFlowRecordTests.flow(start: 0, last: 0)
        f.vlanCount = 1
        f.vlan0 = 1111
        let file = OutputFile(memory: ())
        let eve = EVEWriter(file: file)
        let event = AppEvent(eventType: "http", record: .object([("url", .string("/"))]), transactionID: 0, buffers: [], toServer: true)
        try eve.writeApp(event, flow: f, timestamp: 0, packetNumber: 4, packetToServer: true)
        try eve.writeFlow(f, reason: .shutdown)
        var bytes: [UInt8] = []
        file.take(&bytes)
        let lines = String(decoding: bytes, as: UTF8.self).split(separator: "\n")
        #expect(lines.count == 2 && lines.allSatisfy { $0.contains("\"vlan\":[1111]") })
    }
}

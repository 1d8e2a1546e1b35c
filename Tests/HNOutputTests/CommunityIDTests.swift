import HNDecode
@testable import HNOutput
import Testing

/// Community ID v1, against the values Suricata wrote for the suricata-verify cases
/// community-id-ipv4, -ipv6 and -sameip.
@Suite struct CommunityIDTests {
    func id(_ seed: UInt16, _ s: String, _ sp: UInt16, _ d: String, _ dp: UInt16, proto: UInt8 = 6) -> String {
        CommunityID.v1(seed: seed, source: IPAddress(s)!, destination: IPAddress(d)!, sourcePort: sp, destinationPort: dp, proto: proto)
    }

    @Test func matchesSuricataForIPv4IPv6AndOneAddress() {
        #expect(id(7, "172.26.0.39", 35958, "172.217.14.206", 443) == "1:IwiTNfuO7aCaamMijl+7/X9uLx0=")
        #expect(id(7, "2600:1f13:f8:d400:3a6:303c:e011:18eb", 60202, "2607:f8b0:400a:800::200e", 443) == "1:ptJhMvufAbB5nLDNW77cB800wFM=")
        #expect(id(7, "2600:1f13:f8:d400:3a6:303c:e011:18eb", 33892, "2001:4860:4860::8888", 443) == "1:PGf+a0eBbs1OhuPtJmsF0Sm51v4=")
        #expect(id(1, "192.168.0.254", 56162, "192.168.0.254", 3306) == "1:IJQHtzXv/tXud3FtXIufkDsfEd4=")
    }

    @Test func bothDirectionsGiveOneValue() {
        #expect(id(0, "10.0.0.1", 40000, "10.0.0.2", 80) == id(0, "10.0.0.2", 80, "10.0.0.1", 40000))
        #expect(id(0, "10.0.0.1", 5000, "10.0.0.1", 80, proto: 17) == id(0, "10.0.0.1", 80, "10.0.0.1", 5000, proto: 17))
        // An echo request and its reply pair up; a one-way ICMP message keeps its direction.
        let request = CommunityID.v1(seed: 0, source: IPAddress("10.0.0.1")!, destination: IPAddress("10.0.0.2")!, sourcePort: 0,
                                     destinationPort: 0, proto: 1, icmpType: 8, icmpCode: 0)
        let reply = CommunityID.v1(seed: 0, source: IPAddress("10.0.0.2")!, destination: IPAddress("10.0.0.1")!, sourcePort: 0,
                                   destinationPort: 0, proto: 1, icmpType: 0, icmpCode: 0)
        #expect(request == reply)
        #expect(id(0, "10.0.0.1", 40000, "10.0.0.2", 80) != id(1, "10.0.0.1", 40000, "10.0.0.2", 80))
    }
}

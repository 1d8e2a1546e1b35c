import Testing
@testable import HNDecode

@Suite struct IPAddressTests {
    @Test(arguments: [
        ("10.20.1.15", "10.20.1.15"),
        ("0.0.0.0", "0.0.0.0"),
        ("255.255.255.255", "255.255.255.255"),
        ("1.10.100.209", "1.10.100.209"),
        ("100.9.90.0", "100.9.90.0"),
        ("2001:db8::1", "2001:db8::1"),
        ("2001:0db8:0000:0000:0000:0000:0000:0001", "2001:db8::1"),
        ("::", "::"),
        ("::1", "::1"),
        ("fe80::", "fe80::"),
        ("2001:db8:0:1:1:1:1:1", "2001:db8:0:1:1:1:1:1"),
        ("2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1"),
        ("64:ff9b::192.0.2.33", "64:ff9b::c000:221"),
    ])
    func parsesAndPrintsCanonically(input: String, expected: String) {
        #expect(IPAddress(input)?.description == expected)
    }

    @Test(arguments: ["", "1.2.3", "1.2.3.256", "1.2.3.4.5", "a.b.c.d", "1::2::3", "12345::", "1:2:3:4:5:6:7:8:9", ":1:2", "01.2.3.4x"])
    func rejectsMalformedText(input: String) {
        #expect(IPAddress(input) == nil)
    }

    @Test func cidrContainsItsHostsOnly() throws {
        let net = try #require(CIDR("10.20.0.0/16"))
        #expect(net.contains(try #require(IPAddress("10.20.255.1"))))
        #expect(!net.contains(try #require(IPAddress("10.21.0.1"))))
        #expect(net.description == "10.20.0.0/16")
        let v6 = try #require(CIDR("2001:db8::/32"))
        #expect(v6.contains(try #require(IPAddress("2001:db8:ffff::1"))))
        #expect(!v6.contains(try #require(IPAddress("10.20.0.1"))))
        #expect(CIDR("10.0.0.0/33") == nil)
        #expect(CIDR("10.0.0.0/") == nil)
        #expect(CIDR("10.0.0.1/8")?.description == "10.0.0.0/8")
    }

    @Test func expandedFormWritesEveryIPv6Group() throws {
        #expect(try #require(IPAddress("2001:db8:85a3::8a2e:370:7334")).expanded == "2001:0db8:85a3:0000:0000:8a2e:0370:7334")
        #expect(try #require(IPAddress("::1")).expanded == "0000:0000:0000:0000:0000:0000:0000:0001")
        #expect(try #require(IPAddress("10.1.0.3")).expanded == "10.1.0.3")
    }
}

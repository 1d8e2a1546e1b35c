import Foundation
import HNDecode
@testable import HNIntel
import Testing

func load(_ text: String, file: String) -> IndicatorSet {
    var set = IndicatorSet()
    IndicatorLoader.load(Data(text.utf8), file: file, into: &set)
    return set
}

@Suite struct ZeekIntelTests {
    static let file = """
        #separator \\x09
        #fields\tindicator\tindicator_type\tmeta.source\tmeta.desc
        198.51.100.23\tIntel::ADDR\tcircl\tscanner seen on HealthNet
        203.0.113.0/24\tIntel::SUBNET\tcircl\tbulletproof hosting
        bad.example.net\tIntel::DOMAIN\tabuse.ch\tC2 domain
        evil.example.org/drop/payload.exe\tIntel::URL\tabuse.ch\t-
        Phish@Example.COM\tIntel::EMAIL\tcert.lu\tphishing sender
        sqlmap/1.7.2#stable (https://sqlmap.org)\tIntel::SOFTWARE\tlocal\tscanner
        AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD\tIntel::CERT_HASH\tlocal\tself-signed C2 cert
        e7d705a3286e19ea42f587b344ee6865\tIntel::JA3\tlocal\ttrickbot
        d41d8cd98f00b204e9800998ecf8427e\tIntel::FILE_HASH\tlocal\tnot matched by hnsensor
        not-an-ip/99\tIntel::SUBNET\tlocal\tbroken
        onlytwo\tIntel::ADDR
        2001:db8:bad::/48\tIntel::SUBNET\tlocal\tv6 range
        """

    @Test func everyTypeLoadsAndBadLinesAreNamedAndSkipped() {
        let set = load(Self.file, file: "feed.intel")
        #expect(set.count == 9)
        #expect(set.unsupported["feed.intel"] == 1)
        #expect(set.errors.map(\.description) == [
            "feed.intel:12: 'not-an-ip/99' is not a valid Intel::SUBNET",
            "feed.intel:13: 'onlytwo' is not a valid Intel::ADDR",
        ])
        #expect(set.sources == ["circl", "abuse.ch", "cert.lu", "local", "feed"])
    }

    @Test func addressesMatchTheLongestPrefix() {
        let set = load(Self.file + "\n203.0.113.7\tIntel::ADDR\tlocal\thost in the range", file: "feed.intel")
        let exact = set.match(address: IPAddress("203.0.113.7")!).map { set.indicators[Int($0)] }
        #expect(exact?.value == "203.0.113.7")
        let range = set.match(address: IPAddress("203.0.113.8")!).map { set.indicators[Int($0)] }
        #expect(range?.value == "203.0.113.0/24")
        #expect(set.match(address: IPAddress("203.0.114.1")!) == nil)
        #expect(set.match(address: IPAddress("2001:db8:bad:1::5")!) != nil)
        #expect(set.match(address: IPAddress("2001:db8:bae::5")!) == nil)
    }

    @Test func domainsMatchTheirSubdomainsOnly() {
        let set = load(Self.file, file: "feed.intel")
        #expect(set.match(domain: "bad.example.net") != nil)
        #expect(set.match(domain: "WWW.Bad.Example.Net.") != nil)
        #expect(set.match(domain: "notbad.example.net") == nil)
        #expect(set.match(domain: "example.net") == nil)
    }

    /// ASCII names are matched on their bytes by hash; the answer must be the one the string
    /// path (Unicode lower-casing, a string per parent domain) gives, for odd names too.
    @Test func domainMatchingOnBytesAgreesWithTheStringPath() {
        var set = IndicatorSet()
        let source = set.source(named: "test", severity: 2)
        for d in ["bad.example.net", "Example.ORG.", "a", ".lead.example", "xn--bcher-kva.example", "straße.example"] {
            set.add(Substring(d), type: .domain, source: source, description: "")
        }
        var strings = set
        strings.domainHashesUsable = false
        let names = ["bad.example.net", "WWW.BAD.example.net", "x.bad.example.net...", "notbad.example.net", "example.net",
                     "example.org", "deep.sub.EXAMPLE.org", "a", "b.a", "ba", ".a", "a.", "...", "", "lead.example",
                     "x.lead.example", "x..lead.example", "XN--BCHER-KVA.example", "STRASSE.example", "Straße.example",
                     "www.straße.example", "bad.example.net.evil"]
        for name in names {
            #expect(set.match(domain: name) == strings.match(domain: name), "\(name)")
        }
        #expect(set.match(domain: "WWW.BAD.example.net") != nil)
        #expect(set.match(domain: "deep.sub.EXAMPLE.org") != nil)
        #expect(set.match(domain: "x..lead.example") != nil)
        #expect(set.match(domain: "www.straße.example") != nil)
        #expect(set.match(domain: "ba") == nil)
    }

    @Test func otherTypesMatchNormalisedValues() {
        let set = load(Self.file, file: "feed.intel")
        #expect(set.match("http://EVIL.example.org/drop/payload.exe", type: .url) != nil)
        #expect(set.match("evil.example.org/drop/other.exe", type: .url) == nil)
        #expect(set.match("<phish@example.com>", type: .email) != nil)
        #expect(set.match("aabbccddeeff00112233445566778899aabbccdd", type: .certHash) != nil)
        #expect(set.match("E7D705A3286E19EA42F587B344EE6865", type: .ja3) != nil)
        #expect(set.match("sqlmap/1.7.2#stable (https://sqlmap.org)", type: .software) != nil)
    }
}

@Suite struct MISPAndSTIXTests {
    @Test func mispCSVExportWithQuotedFields() {
        let csv = #"""
            uuid,event_id,category,type,value,comment,to_ids,date
            5f1c,12,Network activity,ip-dst,198.51.100.9,"C2, seen in ""Operation X""",1,1700000000
            5f1d,12,Network activity,domain|ip,c2.example.net|198.51.100.10,,1,1700000000
            5f1e,12,Payload delivery,md5,d41d8cd98f00b204e9800998ecf8427e,,1,1700000000
            5f1f,12,Network activity,hostname,benign.example.net,,0,1700000000
            5f20,12,Network activity,ip-dst,"unterminated,1,1700000000
            """#
        let set = load(csv, file: "misp.csv")
        #expect(set.indicators.map(\.value) == ["198.51.100.9", "c2.example.net", "198.51.100.10"])
        #expect(set.indicators[0].description == "Network activity: C2, seen in \"Operation X\"")
        #expect(set.unsupported["misp.csv"] == 1)
        #expect(set.errors.map(\.description) == ["misp.csv:6: unterminated quoted field"])
        #expect(set.match(domain: "benign.example.net") == nil)  // to_ids 0: not for detection
    }

    @Test func mispJSONEventsWithObjects() {
        let json = """
            {"response": [{"Event": {"info": "Phishing wave against hospitals", "Attribute": [
                {"type": "email-src", "value": "billing@phish.example", "to_ids": true},
                {"type": "url", "value": "https://phish.example/login", "to_ids": true},
                {"type": "ip-src", "to_ids": true}],
              "Object": [{"Attribute": [{"type": "ja3-fingerprint-md5", "value": "e7d705a3286e19ea42f587b344ee6865", "to_ids": true}]}]}}]}
            """
        let set = load(json, file: "misp-event.json")
        #expect(set.indicators.map(\.type) == [.email, .url, .ja3])
        #expect(set.indicators[0].description == "Phishing wave against hospitals")
        #expect(set.errors.map(\.description) == ["misp-event.json: Event[0].Attribute[2]: attribute without type or value"])
        #expect(set.match("phish.example/login", type: .url) != nil)
    }

    @Test func stixBundleWithSimpleAndRejectedPatterns() {
        let json = """
            {"type": "bundle", "id": "bundle--1", "objects": [
              {"type": "indicator", "id": "indicator--a", "name": "C2 server", "pattern_type": "stix",
               "pattern": "[ipv4-addr:value = '198.51.100.77' OR domain-name:value = 'c2.example.org']"},
              {"type": "indicator", "id": "indicator--b", "pattern": "[x509-certificate:hashes.'SHA-1' = 'aabbccddeeff00112233445566778899aabbccdd']"},
              {"type": "indicator", "id": "indicator--c", "pattern": "[ipv4-addr:value = '198.51.100.78'] AND [domain-name:value = 'x.example']"},
              {"type": "indicator", "id": "indicator--d", "pattern": "rule x { condition: true }", "pattern_type": "yara"},
              {"type": "malware", "id": "malware--e", "name": "not an indicator"}]}
            """
        let set = load(json, file: "bundle.json")
        #expect(set.indicators.map(\.value) == ["198.51.100.77", "c2.example.org", "aabbccddeeff00112233445566778899aabbccdd"])
        #expect(set.errors.map(\.description) == [
            "bundle.json: objects[2] (indicator--c): pattern '[ipv4-addr:value = '198.51.100.78'] AND [domain-name:value = 'x.example']' is not a simple comparison (path = 'value', joined by OR)",
        ])
        #expect(set.unsupported["bundle.json"] == 1)
    }

    @Test func plainListsInferTheType() {
        let list = """
            # blocklist from the national CERT
            198.51.100.5
            203.0.113.0/25   # a range
            c2.example.com
            http://drop.example.com/a.exe
            mal@example.com
            ???
            """
        let set = load(list, file: "blocklist.txt")
        #expect(set.indicators.map(\.type) == [.address, .subnet, .domain, .url, .email])
        #expect(set.errors.map(\.description) == ["blocklist.txt:7: '???' is not an address, subnet, URL, e-mail, hash or domain"])
    }

    @Test func aFolderLoadsEveryFileWithSeveritiesPerSource() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("intel-\(getpid())-\(UUID().uuidString.prefix(6))")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        try "default_severity: 3\nsources:\n  national-cert: 1\n".write(to: dir.appendingPathComponent("sources.yaml"), atomically: true, encoding: .utf8)
        try "198.51.100.5\n".write(to: dir.appendingPathComponent("national-cert.txt"), atomically: true, encoding: .utf8)
        try "c2.example.com\n".write(to: dir.appendingPathComponent("osint.txt"), atomically: true, encoding: .utf8)
        let set = try IndicatorLoader.load(path: dir.path)
        #expect(set.count == 2)
        #expect(zip(set.sources, set.sourceSeverity).map { "\($0.0)=\($0.1)" } == ["national-cert=1", "osint=3"])
        try "default_severity: 9\n".write(to: dir.appendingPathComponent("sources.yaml"), atomically: true, encoding: .utf8)
        #expect(throws: IndicatorError.self) { try IndicatorLoader.load(path: dir.path) }
    }

    @Test func theShippedIndicatorFolderLoadsWithoutErrors() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let set = try IndicatorLoader.load(path: root.appendingPathComponent("Rules/indicators").path)
        #expect(set.errors.isEmpty, "\(set.errors)")
        #expect(set.count > 0)
    }
}

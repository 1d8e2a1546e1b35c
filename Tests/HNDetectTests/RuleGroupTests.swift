import Testing
@testable import HNDecode
@testable import HNDetect

/// How rules without a fast pattern become candidates: by destination port, by address, on
/// the presence of the buffer they inspect, or on every packet. A rule that cannot match the
/// packet must not be evaluated, and one that can must still alert.
@Suite struct RuleGroupTests {
    let syn: UInt8 = 0x02

    @Test func aPortRuleIsACandidateOnlyOnItsPorts() throws {
        let rdp = #"alert tcp any any -> any 3389 (flags:S; sid:1;)"#
        let listed = #"alert tcp any any -> any [8000:8010,8443] (flags:S; sid:2;)"#
        #expect(try inspect([rdp, listed], payload: [], flags: syn, dport: 3389) == ([1], 1))
        #expect(try inspect([rdp, listed], payload: [], flags: syn, dport: 8005) == ([2], 1))
        #expect(try inspect([rdp, listed], payload: [], flags: syn, dport: 8443) == ([2], 1))
        #expect(try inspect([rdp, listed], payload: [], flags: syn, dport: 80) == ([], 0))
    }

    @Test func negatedOrTwoWayPortsAreNotIndexedAndStillMatch() throws {
        let negated = #"alert tcp any any -> any !80 (flags:S; sid:1;)"#
        let twoWay = #"alert tcp any 80 <> any any (flags:S; sid:2;)"#
        let anyPort = #"alert tcp any any -> any any (flags:S; sid:3;)"#
        #expect(try inspect([negated, twoWay, anyPort], payload: [], flags: syn, dport: 3389) == ([1, 3], 3))
        #expect(try inspect([negated, twoWay, anyPort], payload: [], flags: syn, dport: 80) == ([2, 3], 3))
    }

    @Test func aBufferRuleIsACandidateOnlyWhenItsBufferIsThere() throws {
        let pcre = #"alert tcp any any -> any any (pcre:"/evil/"; sid:1;)"#
        #expect(try inspect([pcre], payload: bytes("an evil payload")) == ([1], 1))
        #expect(try inspect([pcre], payload: bytes("benign")) == ([], 1))
        #expect(try inspect([pcre], payload: [], flags: syn) == ([], 0))
    }

    @Test func portRangesSplitIntoSegments() {
        let index = PortRuleIndex(intervals: [(80, 80, 1), (8000, 8080, 2), (8080, 8080, 3), (65535, 65535, 4), (0, 1023, 5)])
        func rules(_ port: UInt16) -> [Int32] { Array(index.rules[index.lookup(port)]) }
        #expect(rules(80) == [1, 5])
        #expect(rules(0) == [5] && rules(1023) == [5] && rules(1024).isEmpty)
        #expect(rules(7999).isEmpty && rules(8000) == [2] && rules(8080) == [2, 3] && rules(8081).isEmpty)
        #expect(rules(65535) == [4] && rules(65534).isEmpty)
    }

    @Test func onlyShortPositivePortListsAreIndexable() {
        #expect(PortMatcher.any.finiteRanges == nil)
        #expect(PortMatcher.range(80, 80).finiteRanges?.map(\.lo) == [80])
        #expect(PortMatcher.list(positive: [.range(1, 2), .range(5, 9)], negative: []).finiteRanges?.map(\.hi) == [2, 9])
        #expect(PortMatcher.list(positive: [.range(1, 2)], negative: [.range(2, 2)]).finiteRanges == nil)
        #expect(PortMatcher.list(positive: [], negative: [.range(80, 80)]).finiteRanges == nil)
        let many = (0..<40).map { PortMatcher.range(UInt16($0) * 2, UInt16($0) * 2) }
        #expect(PortMatcher.list(positive: many, negative: []).finiteRanges == nil)
    }
}

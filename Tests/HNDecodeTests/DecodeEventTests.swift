import Testing
@testable import HNDecode

@Suite struct DecodeEventTests {
    @Test func slotIsThePositionInAllCases() {
        for (index, event) in DecodeEvent.allCases.enumerated() {
            #expect(event.slot == index, "\(event.rawValue)")
        }
    }

    @Test func namesAreLayerDotEventAndUnique() {
        let names = DecodeEvent.allCases.map(\.rawValue)
        #expect(Set(names).count == names.count)
        for name in names {
            #expect(name.split(separator: ".").count == 2, "\(name)")
        }
    }
}

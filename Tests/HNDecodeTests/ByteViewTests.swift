import Testing
@testable import HNDecode

@Suite struct ByteViewTests {
    @Test func readsInsideTheViewAndNilOutside() {
        let bytes: [UInt8] = [0x12, 0x34, 0x56, 0x78, 0x9A]
        bytes.withUnsafeBytes { raw in
            let v = ByteView(raw)
            #expect(v.u8(0) == 0x12)
            #expect(v.u8(4) == 0x9A)
            #expect(v.u8(5) == nil)
            #expect(v.u8(-1) == nil)
            #expect(v.u16(3) == 0x789A)
            #expect(v.u16(4) == nil)
            #expect(v.u32(1) == 0x3456_789A)
            #expect(v.u32(2) == nil)
            #expect(v.u64(0) == nil)
        }
    }

    @Test func sliceCannotReadPastItsLength() {
        let bytes: [UInt8] = [1, 2, 3, 4, 5, 6]
        bytes.withUnsafeBytes { raw in
            let v = ByteView(raw)
            let s = v.slice(2, 2)
            #expect(s?.count == 2)
            #expect(s?.u8(0) == 3)
            #expect(s?.u8(2) == nil)
            #expect(v.slice(5, 2) == nil)
            #expect(v.slice(-1, 1) == nil)
            #expect(v.slice(6, 0)?.count == 0)
            #expect(v.suffix(from: 7) == nil)
            #expect(v.prefix(100).count == 6)
        }
    }

    @Test func emptyViewReadsNothing() {
        let v = ByteView.empty
        #expect(v.u8(0) == nil)
        #expect(v.slice(0, 0)?.count == 0)
    }

    @Test func asciiLowercasingChangesOnlyCapitalLetters() {
        for b in 0...255 {
            let byte = UInt8(b)
            let expected = (65...90).contains(b) ? byte + 32 : byte
            #expect(byte.asciiLowercased == expected, "\(b)")
        }
    }
}

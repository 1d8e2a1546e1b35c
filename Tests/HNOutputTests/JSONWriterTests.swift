import Foundation
import Testing
@testable import HNOutput

/// The EVE writer's JSON: commas per nesting level, escapes, and a writer reused record after
/// record (`clear`).
@Suite struct JSONWriterTests {
    func text(_ w: JSONWriter) -> String { String(decoding: w.bytes, as: UTF8.self) }

    @Test func membersAreSeparatedPerLevel() {
        var w = JSONWriter()
        w.beginObject()
        w.field("a", 1)
        w.beginObject("b")
        w.beginArray("c")
        w.number(1)
        w.beginObject()
        w.endObject()
        w.string("x")
        w.endArray()
        w.field("d", true)
        w.endObject()
        w.field("e", "f")
        w.endObject()
        #expect(text(w) == #"{"a":1,"b":{"c":[1,{},"x"],"d":true},"e":"f"}"#)
    }

    @Test func clearStartsAFreshRecord() {
        var w = JSONWriter()
        w.beginObject()
        w.beginObject("open")
        w.field("a", 1)
        w.clear()
        w.beginObject()
        w.field("b", 2)
        w.endObject()
        #expect(text(w) == #"{"b":2}"#)
    }

    @Test func stringsAreEscaped() {
        var w = JSONWriter()
        w.beginObject()
        w.field("k\"", "a\\b\n\r\t\u{01}\u{7f}é")
        w.endObject()
        #expect(text(w) == #"{"k\"":"a\\b\n\r\t\u0001\u007fé"}"#)
    }

    /// Deep nesting (as a parser's record could have) stays valid JSON.
    @Test func deepNestingStaysValid() throws {
        var w = JSONWriter()
        w.beginObject()
        for depth in 0..<100 {
            w.field("n\(depth)", depth)
            w.beginArray("a\(depth)")
            w.number(depth)
            w.beginObject()
        }
        for _ in 0..<100 {
            w.field("end", true)
            w.endObject()
            w.number(0)
            w.endArray()
        }
        w.field("last", 1)
        w.endObject()
        let parsed = try JSONSerialization.jsonObject(with: Data(w.bytes)) as? [String: Any]
        #expect(parsed?["last"] as? Int == 1)
        #expect(parsed?["n99"] == nil && parsed?["n0"] as? Int == 0)
    }
}

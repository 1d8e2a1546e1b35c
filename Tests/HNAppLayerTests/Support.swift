import HNCapGen
@testable import HNAppLayer
@testable import HNDecode
@testable import HNFlow

/// Feeds `chunks` of one direction to a parser function, each as its own view.
func feed(_ chunks: [[UInt8]], _ body: (ByteView) -> Void) {
    for c in chunks { c.withUnsafeBytes { body(ByteView($0)) } }
}

/// The three ways a stream parser must accept its input: all at once, byte by byte, and in
/// random splits (fixed seed).
func splits(_ bytes: [UInt8], seed: UInt64 = 7) -> [[[UInt8]]] {
    var random = SeededRandom(seed: seed)
    var randomChunks: [[UInt8]] = []
    var i = 0
    while i < bytes.count {
        let n = 1 + random.below(min(40, bytes.count - i))
        randomChunks.append(Array(bytes[i..<(i + n)]))
        i += n
    }
    return [[bytes], bytes.map { [$0] }, randomChunks]
}

func string(_ view: ByteView?) -> String? { view.map { String(decoding: $0.rawBuffer, as: UTF8.self) } }

func buffer(_ events: [AppEvent], _ b: InspectionBuffer) -> String? {
    for e in events { for (k, v) in e.buffers where k == b { return String(decoding: v.rawBuffer, as: UTF8.self) } }
    return nil
}

func records(_ events: [AppEvent]) -> [JSONValue] { events.compactMap(\.record) }

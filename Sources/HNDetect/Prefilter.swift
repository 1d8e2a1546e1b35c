import CVectorscan
import HNDecode

/// A Vectorscan block-mode database of literal fast patterns for one (protocol class,
/// buffer) group. Pattern ids are rule indices. Immutable and shareable between threads;
/// scratch space is per thread (`PrefilterScratch`).
public final class PrefilterDatabase: @unchecked Sendable {
    let database: OpaquePointer
    public let patternCount: Int

    public struct CompileError: Error, CustomStringConvertible {
        public let description: String
    }

    /// Compiles literals (`bytes`, case-insensitive or not) with their rule ids. Each literal
    /// is written as a regular expression of `\xHH` escapes: Vectorscan's pure-literal API
    /// refuses literals that begin with a NUL byte, which real rules contain.
    init(literals: [(bytes: [UInt8], nocase: Bool, id: UInt32)]) throws(CompileError) {
        precondition(!literals.isEmpty)
        let hex: [UInt8] = Array("0123456789abcdef".utf8)
        var storage: [[CChar]] = []
        storage.reserveCapacity(literals.count)
        var flags: [UInt32] = [], ids: [UInt32] = []
        for lit in literals {
            var expression: [CChar] = []
            expression.reserveCapacity(lit.bytes.count * 4 + 1)
            for b in lit.bytes {
                for c in [UInt8(ascii: "\\"), UInt8(ascii: "x"), hex[Int(b >> 4)], hex[Int(b & 0xF)]] {
                    expression.append(CChar(bitPattern: c))
                }
            }
            expression.append(0)
            storage.append(expression)
            flags.append(UInt32(HS_FLAG_SINGLEMATCH) | (lit.nocase ? UInt32(HS_FLAG_CASELESS) : 0))
            ids.append(lit.id)
        }
        var db: OpaquePointer? = nil
        var error: UnsafeMutablePointer<hs_compile_error_t>? = nil
        let status: hs_error_t = withPointers(storage) { pointers in
            hs_compile_multi(pointers, flags, ids, UInt32(literals.count), UInt32(HS_MODE_BLOCK), nil, &db, &error)
        }
        guard status == HS_SUCCESS, let db else {
            let message = error.flatMap { $0.pointee.message.map { String(cString: $0) } } ?? "status \(status)"
            if let error { hs_free_compile_error(error) }
            throw CompileError(description: "vectorscan: \(message)")
        }
        database = db
        patternCount = literals.count
    }

    deinit { hs_free_database(database) }

    public var sizeInBytes: Int {
        var size = 0
        hs_database_size(database, &size)
        return size
    }
}

/// Calls `body` with a C array of pointers to the NUL-terminated strings in `strings`.
private func withPointers<R>(_ strings: [[CChar]], _ body: (UnsafePointer<UnsafePointer<CChar>?>) -> R) -> R {
    var pointers: [UnsafePointer<CChar>?] = []
    var buffers: [UnsafeMutablePointer<CChar>] = []
    for s in strings {
        let b = UnsafeMutablePointer<CChar>.allocate(capacity: s.count)
        b.initialize(from: s, count: s.count)
        buffers.append(b)
        pointers.append(UnsafePointer(b))
    }
    defer { for b in buffers { b.deallocate() } }
    return pointers.withUnsafeBufferPointer { body($0.baseAddress!) }
}

/// Per-thread Vectorscan scratch, sized for every database of an engine.
public final class PrefilterScratch {
    var scratch: OpaquePointer? = nil

    init(databases: [PrefilterDatabase]) {
        for db in databases {
            hs_alloc_scratch(db.database, &scratch)
        }
    }

    deinit { if let scratch { hs_free_scratch(scratch) } }
}

/// Collects the rule ids a scan reports, without duplicates, into preallocated storage.
final class CandidateSet {
    var marks: [UInt32]
    var generation: UInt32 = 1
    var list: [Int32] = []

    init(ruleCount: Int) {
        marks = [UInt32](repeating: 0, count: ruleCount)
        list.reserveCapacity(1024)
    }

    @inline(__always)
    func reset() {
        list.removeAll(keepingCapacity: true)
        generation &+= 1
        if generation == 0 {
            for i in marks.indices { marks[i] = 0 }
            generation = 1
        }
    }

    @inline(__always)
    func add(_ id: Int) {
        if marks[id] != generation {
            marks[id] = generation
            list.append(Int32(id))
        }
    }
}

/// The Vectorscan match callback: a C function pointer with no captures; the candidate set
/// travels through the context pointer.
let prefilterOnMatch: match_event_handler = { id, _, _, _, context in
    guard let context else { return 0 }
    Unmanaged<CandidateSet>.fromOpaque(context).takeUnretainedValue().add(Int(id))
    return 0
}

extension PrefilterDatabase {
    /// Scans `buffer` and adds every rule whose fast pattern occurs to `candidates`.
    func scan(_ buffer: ByteView, scratch: PrefilterScratch, into candidates: CandidateSet) {
        guard buffer.count > 0, let base = buffer.rawBuffer.baseAddress else { return }
        let context = Unmanaged.passUnretained(candidates).toOpaque()
        hs_scan(database, base.assumingMemoryBound(to: CChar.self), UInt32(min(buffer.count, Int(UInt32.max))), 0,
                scratch.scratch, prefilterOnMatch, context)
    }
}

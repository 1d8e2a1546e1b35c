import CVectorscan
import Glibc
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
    /// refuses literals that begin with a NUL byte, which real rules contain. `platform` is
    /// the instruction set the database may use: the selected scan path's.
    init(literals: [(bytes: [UInt8], nocase: Bool, id: UInt32)],
         platform: hs_platform_info_t = ScanPath.selected.platform) throws(CompileError) {
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
        var platform = platform
        let status: hs_error_t = withPointers(storage) { pointers in
            hs_compile_multi(pointers, flags, ids, UInt32(literals.count), UInt32(HS_MODE_BLOCK), &platform, &db, &error)
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
        scan(buffer, scratch: scratch, into: candidates, with: ScanPath.selected.scan)
    }

    /// `scan` through a given Vectorscan entry point (the known-answer check tries several).
    @discardableResult
    func scan(_ buffer: ByteView, scratch: PrefilterScratch, into candidates: CandidateSet, with entry: ScanPath.Entry) -> hs_error_t {
        guard buffer.count > 0, let base = buffer.rawBuffer.baseAddress else { return hs_error_t(HS_SUCCESS) }
        let context = Unmanaged.passUnretained(candidates).toOpaque()
        return entry(database, base.assumingMemoryBound(to: CChar.self), UInt32(min(buffer.count, Int(UInt32.max))), 0,
                     scratch.scratch, prefilterOnMatch, context)
    }
}

/// The Vectorscan block-scan entry point this process uses, chosen once after a known-answer
/// check.
///
/// Vectorscan's fat runtime (Debian's build) dispatches `hs_scan` to code for the best
/// instruction set the CPU has. Vectorscan 5.4.9's AVX-512 code misses literal matches
/// depending on where the buffer starts: on an AVX-512 machine a lone one-byte literal was
/// missed in 69 % of (length up to 400, position, alignment) cases, a pair of three-byte
/// literals in 7.8 %, and a 6,756-literal database of ET Open reported 23 % fewer matches on
/// 200-byte buffers, so the same packet could be a candidate or not depending on the address
/// of its batch copy (and alerts on the worker count). Its AVX2, SSE4.2 and SSSE3 code found
/// every one.
/// So each entry point at or below the dispatched one is checked on literal sets of those
/// shapes planted at every alignment, and the first that finds them all is used; databases
/// are then compiled for that entry point's instruction set.
public struct ScanPath: Sendable {
    public typealias Entry = @convention(c) (OpaquePointer?, UnsafePointer<CChar>?, UInt32, UInt32, OpaquePointer?,
                                             match_event_handler?, UnsafeMutableRawPointer?) -> hs_error_t
    /// "dispatched", or the instruction set of the entry point used (avx2, corei7, core2).
    public let name: String
    /// Whether the entry point found every planted literal.
    public let verified: Bool
    /// What the dispatched entry point resolved to, when it could be told ("avx512", …).
    public let dispatchedTo: String?
    let scan: Entry
    let platform: hs_platform_info_t

    /// The entry point for this process (checked on first use).
    public static let selected: ScanPath = choose()

    /// The fat runtime's per-instruction-set entry points, best first, with the CPU features
    /// a database may use with them.
    static let variants: [(name: String, features: UInt64)] = [
        ("avx512", UInt64(HS_CPU_FEATURES_AVX2) | UInt64(HS_CPU_FEATURES_AVX512)),
        ("avx2", UInt64(HS_CPU_FEATURES_AVX2)), ("corei7", 0), ("core2", 0),
    ]

    static func choose() -> ScanPath {
        var host = hs_platform_info_t()
        hs_populate_platform(&host)
        let dispatched = ScanPath(name: "dispatched", verified: false, dispatchedTo: nil, scan: hs_scan, platform: host)
        // `hs_scan` is an indirect function: looking it up gives the entry point it resolved to.
        let resolved = dlsym(nil, "hs_scan")
        let entries = variants.map { v in (v, dlsym(nil, v.name + "_hs_scan")) }
        guard let resolved, let index = entries.firstIndex(where: { $0.1 == resolved }) else {
            // Not a fat runtime (or not resolvable): only the one entry point exists.
            return dispatched.checked(dispatchedTo: nil)
        }
        let name = entries[index].0.name
        for (variant, address) in entries[index...] {
            guard let address else { continue }
            var platform = host
            platform.cpu_features = host.cpu_features & variant.features
            let path = ScanPath(name: variant.name, verified: false, dispatchedTo: name,
                                scan: unsafeBitCast(address, to: Entry.self), platform: platform)
            let checked = path.checked(dispatchedTo: name)
            if checked.verified { return checked }
        }
        return dispatched.checked(dispatchedTo: name)
    }

    /// This entry point with `verified` set by the known-answer check.
    func checked(dispatchedTo: String?) -> ScanPath {
        ScanPath(name: name, verified: findsEveryPlantedLiteral(), dispatchedTo: dispatchedTo, scan: scan, platform: platform)
    }

    /// Literal sets of the shapes the faulty code missed, each planted at the start, the middle,
    /// the end and across the first 64-byte boundary of buffers of up to 200 bytes, at all 64
    /// start alignments.
    static let knownAnswerSets: [[[UInt8]]] = [
        [[0x11]],
        [Array("403".utf8), Array("302".utf8)],
        [Array("40".utf8), Array("30".utf8)],
        [Array("GET".utf8), [0x00, 0x01], Array("User-Agent".utf8), [0x7f]],
    ]

    /// Compiles each set with this entry point's instruction set and scans the planted
    /// buffers through it, with the prefilter's own database, scratch and candidate set.
    func findsEveryPlantedLiteral() -> Bool {
        let memory = UnsafeMutableRawPointer.allocate(byteCount: 512, alignment: 64)
        defer { memory.deallocate() }
        let bytes = memory.assumingMemoryBound(to: UInt8.self)
        for set in ScanPath.knownAnswerSets {
            let literals = set.enumerated().map { (bytes: $1, nocase: false, id: UInt32($0)) }
            guard let db = try? PrefilterDatabase(literals: literals, platform: platform) else { return false }
            let scratch = PrefilterScratch(databases: [db])
            let found = CandidateSet(ruleCount: set.count)
            for (id, literal) in set.enumerated() {
                for length in stride(from: literal.count, through: 200, by: 3) {
                    let last = length - literal.count
                    for position in Set([0, last / 2, max(0, last - 1), last, min(last, 63)]) {
                        for alignment in 0..<64 {
                            (bytes + alignment).update(repeating: UInt8(ascii: "x"), count: length)
                            for (i, b) in literal.enumerated() { bytes[alignment + position + i] = b }
                            found.reset()
                            let rc = db.scan(ByteView(base: bytes + alignment, count: length), scratch: scratch, into: found, with: scan)
                            guard rc == HS_SUCCESS, found.list.contains(Int32(id)) else { return false }
                        }
                    }
                }
            }
        }
        return true
    }

    /// One line for `hnsensor version` and `rules check`.
    public var summary: String {
        var text = "vectorscan scan path: " + (dispatchedTo == nil ? "hs_scan" : name)
        if let dispatchedTo {
            text += dispatchedTo == name ? " (as dispatched)" : " (dispatch chose \(dispatchedTo), which missed planted literals)"
        }
        return text + (verified ? ", known-answer check passed" : ", known-answer check FAILED: literal matches may be missed")
    }
}

import HNAppLayer
import CPCRE2
import HNDecode

/// A compiled PCRE2 pattern, JIT-compiled when the platform allows. Immutable once built and
/// shared between threads; match data lives in a per-thread `PCREScratch`.
public final class CompiledRegex: @unchecked Sendable {
    let code: OpaquePointer
    public let jit: Bool

    init(pattern: String, options: UInt32) throws(RegexError) {
        var errorCode: Int32 = 0
        var errorOffset = 0
        let bytes = Array(pattern.utf8)
        guard let code = bytes.withUnsafeBufferPointer({ p in
            pcre2_compile_8(p.baseAddress, p.count, options, &errorCode, &errorOffset, nil)
        }) else {
            var buffer = [UInt8](repeating: 0, count: 256)
            let n = buffer.withUnsafeMutableBufferPointer { pcre2_get_error_message_8(errorCode, $0.baseAddress, 256) }
            throw RegexError(message: String(decoding: buffer.prefix(max(0, Int(n))), as: UTF8.self), offset: errorOffset)
        }
        self.code = code
        self.jit = pcre2_jit_compile_8(code, UInt32(PCRE2_JIT_COMPLETE)) == 0
    }

    deinit { pcre2_code_free_8(code) }

    struct RegexError: Error {
        let message: String
        let offset: Int
    }
}

/// Per-thread PCRE2 state: match data and a match context carrying the limits that keep a
/// pathological pattern from stalling the pipeline.
public final class PCREScratch {
    let matchData: OpaquePointer
    let context: OpaquePointer
    public private(set) var limitHits: UInt64 = 0

    /// Suricata's defaults: match-limit 3500, match-limit-recursion 1500.
    public init(matchLimit: UInt32 = 3500, depthLimit: UInt32 = 1500) {
        matchData = pcre2_match_data_create_8(32, nil)
        context = pcre2_match_context_create_8(nil)
        pcre2_set_match_limit_8(context, matchLimit)
        pcre2_set_depth_limit_8(context, depthLimit)
    }

    deinit {
        pcre2_match_data_free_8(matchData)
        pcre2_match_context_free_8(context)
    }

    /// Matches `regex` in `buffer` from `start`; returns the match end offset, or nil.
    func match(_ regex: CompiledRegex, _ buffer: ByteView, from start: Int) -> (start: Int, end: Int)? {
        guard start >= 0, start <= buffer.count else { return nil }
        let subject = buffer.rawBuffer
        // An empty buffer still needs a valid pointer for PCRE2.
        let dummy: UInt8 = 0
        let rc = withUnsafePointer(to: dummy) { d -> Int32 in
            let p = subject.baseAddress?.assumingMemoryBound(to: UInt8.self) ?? d
            return pcre2_match_8(regex.code, p, subject.count, start, 0, matchData, context)
        }
        if rc == PCRE2_ERROR_MATCHLIMIT || rc == PCRE2_ERROR_DEPTHLIMIT || rc == PCRE2_ERROR_HEAPLIMIT {
            limitHits &+= 1
            return nil
        }
        guard rc > 0, let ovector = pcre2_get_ovector_pointer_8(matchData) else { return nil }
        return (Int(ovector[0]), Int(ovector[1]))
    }
}

/// `pcre:"/…/flags"`: a regular expression on one buffer.
public struct PCREMatch: Sendable {
    public var regex: CompiledRegex
    public var negated = false
    public var relative = false
    public var source: String

    /// Parses `/pattern/flags` (the option value without its quotes). Returns the match and
    /// the buffer its flags select, if any.
    static func parse(_ value: String, negated: Bool) -> Result<(PCREMatch, InspectionBuffer?), OptionProblem> {
        guard value.hasPrefix("/"), let close = value.lastIndex(of: "/"), close > value.startIndex else {
            return .failure("pcre must be written /pattern/flags")
        }
        let pattern = String(value[value.index(after: value.startIndex)..<close])
        let flags = value[value.index(after: close)...]
        var options: UInt32 = 0
        var relative = false
        var buffer: InspectionBuffer? = nil
        for f in flags {
            switch f {
            case "i": options |= UInt32(PCRE2_CASELESS)
            case "s": options |= UInt32(PCRE2_DOTALL)
            case "m": options |= UInt32(PCRE2_MULTILINE)
            case "x": options |= UInt32(PCRE2_EXTENDED)
            case "A": options |= UInt32(PCRE2_ANCHORED)
            case "E": options |= UInt32(PCRE2_DOLLAR_ENDONLY)
            case "G": options |= UInt32(PCRE2_UNGREEDY)
            case "R": relative = true
            case "O", "B": break  // match-limit override; base64 (ignored)
            default:
                guard let b = InspectionBuffer.pcreFlags[f] else { return .failure("unknown pcre flag '\(f)'") }
                buffer = b
            }
        }
        do {
            let regex = try CompiledRegex(pattern: pattern, options: options)
            return .success((PCREMatch(regex: regex, negated: negated, relative: relative, source: value), buffer))
        } catch {
            return .failure(OptionProblem(text: "pcre does not compile at offset \(error.offset): \(error.message)"))
        }
    }
}

extension Builder {
    /// `pcre` (payload).
    mutating func applyPcre(_ name: String, _ value: String?) -> OptionProblem? {
        guard var v = value?.trimmingSpaces else { return Builder.problem("needs a value") }
        var negated = false
        if v.hasPrefix("!") { negated = true; v = String(v.dropFirst()).trimmingSpaces }
        // Suricata also accepts an unquoted /…/flags.
        if v.hasPrefix("/") { v = "\"" + v + "\"" }
        guard v.hasPrefix("\""), v.hasSuffix("\""), v.count >= 2 else { return Builder.problem("the expression must be in double quotes") }
        switch PCREMatch.parse(String(v.dropFirst().dropLast()), negated: negated) {
        case .failure(let m): return m
        case .success(let (p, buffer)): append(.pcre(p), to: buffer ?? currentBuffer)
        }
        return nil
    }
}

import HNAppLayer
import HNDecode

extension Builder {
    /// `byte_jump` (payload).
    mutating func applyByteJump(_ name: String, _ value: String?) -> OptionProblem? {
        appendParsed(parseByteJump(value ?? ""), MatchItem.byteJump)
    }
}

extension Builder {
    func parseByteJump(_ value: String) -> Result<ByteJump, OptionProblem> {
        let parts: [String], reader: ByteReader
        do throws(OptionProblem) { (parts, reader) = try parseReader(value, minimum: 2, expected: "bytes,offset[,options]", zeroJump: true).get() } catch {
            return .failure(error)
        }
        guard let offset = Int(parts[1]) else { return .failure(Builder.problem("offset must be a number")) }
        var j = ByteJump(reader: reader, offset: offset)
        for p in parts.dropFirst(2) {
            let w = p.split(separator: " ").map(String.init)
            switch w[0] {
            case "relative": j.relative = true
            case "align": j.align = true
            case "from_beginning": j.fromBeginning = true
            case "from_end": j.fromEnd = true
            case "multiplier":
                guard w.count == 2, let m = UInt64(w[1]), m > 0 else { return .failure(Builder.problem("multiplier needs a number")) }
                j.multiplier = m
            case "post_offset":
                guard w.count == 2, let m = Int(w[1]) else { return .failure(Builder.problem("post_offset needs a number")) }
                j.postOffset = m
            case "little", "big", "string", "dec", "hex", "oct", "dce", "bitmask": break
            default: return .failure(Builder.problem("unknown option '\(p)'"))
            }
        }
        return .success(j)
    }
}

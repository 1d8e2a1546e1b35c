import HNAppLayer
import HNDecode

extension Builder {
    /// `byte_test` (payload).
    mutating func applyByteTest(_ name: String, _ value: String?) -> OptionProblem? {
        appendParsed(parseByteTest(value ?? ""), MatchItem.byteTest)
    }
}

extension Builder {
    func parseByteTest(_ value: String) -> Result<ByteTest, OptionProblem> {
        let parts: [String], reader: ByteReader
        do throws(OptionProblem) { (parts, reader) = try parseReader(value, minimum: 4, expected: "bytes,operator,value,offset[,options]").get() } catch {
            return .failure(error)
        }
        var opText = Substring(parts[1])
        var negated = false
        if opText.hasPrefix("!") { negated = true; opText = opText.dropFirst() }
        let op: ByteTest.Op
        switch opText {
        case "<": op = .lt
        case ">": op = .gt
        case "=", "": op = .eq
        case "<=": op = .le
        case ">=": op = .ge
        case "&": op = .and
        case "^": op = .xor
        default: return .failure(Builder.problem("unknown operator '\(parts[1])'"))
        }
        let v = parts[2]
        guard let value = v.hasPrefix("0x") ? UInt64(v.dropFirst(2), radix: 16) : UInt64(v) else {
            if v.first?.isLetter == true { return .failure(OptionProblem(text: "byte_extract variables are not supported", unsupported: true)) }
            return .failure(Builder.problem("value must be a number"))
        }
        guard let offset = Int(parts[3]) else {
            if parts[3].first?.isLetter == true { return .failure(OptionProblem(text: "byte_extract variables are not supported", unsupported: true)) }
            return .failure(Builder.problem("offset must be a number"))
        }
        var t = ByteTest(reader: reader, op: op, negated: negated, value: value, offset: offset)
        t.relative = parts.dropFirst(4).contains("relative")
        return .success(t)
    }
}

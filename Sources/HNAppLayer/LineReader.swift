/// Splits a byte stream into CRLF- or LF-terminated lines, holding at most `maxLine` bytes of
/// an unfinished line (a longer one is cut and flagged, never buffered without bound).
struct LineReader {
    var pending: [UInt8] = []
    let maxLine: Int
    var overlong = false

    init(maxLine: Int) { self.maxLine = maxLine }

    /// The current unfinished line was cut at `maxLine`.
    var pendingCut = false
    /// A line longer than `maxLine` is handed on in pieces (each flagged: no line end after
    /// it) instead of cut, as Suricata hands a message's long lines to its MIME decoder.
    var splitting = false

    mutating func lines(_ data: UnsafeRawBufferPointer) -> [[UInt8]] {
        var out: [[UInt8]] = []
        scan(data) { line, _ in out.append(line) }
        return out
    }

    /// The complete lines, each with whether it was cut at `maxLine`.
    mutating func markedLines(_ data: UnsafeRawBufferPointer) -> [(line: [UInt8], cut: Bool)] {
        var out: [(line: [UInt8], cut: Bool)] = []
        scan(data) { out.append(($0, $1)) }
        return out
    }

    mutating func scan(_ data: UnsafeRawBufferPointer, _ emit: ([UInt8], Bool) -> Void) {
        for b in data {
            if b == 0x0A {
                // A cut line keeps its CR (the LF came past the limit, as Suricata cuts it).
                if pending.last == 0x0D && !pendingCut { pending.removeLast() }
                emit(pending, pendingCut)
                pending.removeAll(keepingCapacity: true)
                pendingCut = false
            } else if pending.count < maxLine {
                pending.append(b)
                // The line end must come within `maxLine` bytes.
                if pending.count == maxLine {
                    overlong = true
                    if splitting {
                        // A CR that may start the line end waits for the next byte.
                        let cr = pending.last == 0x0D
                        if cr { pending.removeLast() }
                        emit(pending, true)
                        pending.removeAll(keepingCapacity: true)
                        if cr { pending.append(0x0D) }
                    } else {
                        pendingCut = true
                    }
                }
            } else {
                overlong = true
                pendingCut = true
            }
        }
    }
}

extension Array where Element == UInt8 {
    /// The line's first word, upper-cased (a command verb), and the rest after one space.
    var commandAndArgument: (String, [UInt8]) {
        let verbBytes = prefix { $0 != 0x20 }
        let rest = dropFirst(verbBytes.count).drop { $0 == 0x20 }
        return (String(decoding: verbBytes, as: UTF8.self).uppercased(), Array(rest))
    }
}

extension Array where Element == UInt8 {
    /// The three-digit code a reply line starts with (SMTP, FTP), or nil.
    var replyCode: Int? {
        guard count >= 3, self[0] >= 0x30, self[0] <= 0x39, self[1] >= 0x30, self[1] <= 0x39, self[2] >= 0x30, self[2] <= 0x39 else { return nil }
        return Int(self[0] - 0x30) * 100 + Int(self[1] - 0x30) * 10 + Int(self[2] - 0x30)
    }
}

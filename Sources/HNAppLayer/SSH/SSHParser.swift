import Crypto
import HNDecode

/// SSH version exchange (RFC 4253 §4.2) and KEXINIT for HASSH fingerprints, per direction.
final class SSHParser {
    /// A banner line is at most 255 bytes (RFC 4253 §4.2).
    static let maxBanner = 255
    /// KEXINIT packets larger than this are not parsed.
    static let maxPacket = 35_000

    var buffers: [[UInt8]] = [[], []]
    var banner: [[UInt8]?] = [nil, nil]
    var hassh: [String?] = [nil, nil]
    var done = [false, false]
    var logged = false

    static func looksLikeSSH(_ d: ByteView) -> Bool {
        d.count >= 4 && d.u8(0) == UInt8(ascii: "S") && d.u8(1) == UInt8(ascii: "S") && d.u8(2) == UInt8(ascii: "H") && d.u8(3) == UInt8(ascii: "-")
    }

    func receive(_ data: ByteView, toServer: Bool, events: inout [AppEvent]) {
        let d = toServer ? 0 : 1
        guard !done[d] else { return }
        buffers[d].append(contentsOf: data.rawBuffer)
        if banner[d] == nil {
            guard let nl = buffers[d].firstIndex(of: 0x0A) else {
                if buffers[d].count > SSHParser.maxBanner { done[d] = true; buffers[d] = [] }
                return
            }
            var line = Array(buffers[d][..<nl])
            if line.last == 0x0D { line.removeLast() }
            buffers[d].removeFirst(nl + 1)
            guard line.starts(with: Array("SSH-".utf8)) else { done[d] = true; return }
            banner[d] = line
            events.append(bannerEvent(d))
        }
        // Binary packet: length(4) padding(1) payload; KEXINIT is message 20.
        guard buffers[d].count >= 6 else { return }
        let b = buffers[d]
        let length = Int(b[0]) << 24 | Int(b[1]) << 16 | Int(b[2]) << 8 | Int(b[3])
        guard length <= SSHParser.maxPacket else { done[d] = true; buffers[d] = []; return }
        guard b.count >= 4 + length else { return }
        done[d] = true
        let padding = Int(b[4])
        guard b[5] == 20, length >= padding + 1 + 17 else { buffers[d] = []; return }
        let payload = Array(b[5..<(4 + length - padding)])
        buffers[d] = []
        payload.withUnsafeBytes { raw in
            let p = ByteView(raw)
            var offset = 17
            var lists: [String] = []
            for _ in 0..<10 {
                guard let n = p.u32(offset), let s = p.slice(offset + 4, Int(n)) else { return }
                lists.append(String(decoding: s.rawBuffer, as: UTF8.self))
                offset += 4 + Int(n)
            }
            // kex;enc;mac;comp of this side's sending direction.
            let string = d == 0 ? [lists[0], lists[2], lists[4], lists[6]].joined(separator: ";")
                                : [lists[0], lists[3], lists[5], lists[7]].joined(separator: ";")
            hassh[d] = string
            let hash = Insecure.MD5.hash(data: Array(string.utf8)).map { String($0, radix: 16).leftPadded(2) }.joined()
            events.append(AppEvent(eventType: "ssh", record: nil, transactionID: 0,
                                   buffers: d == 0 ? [(.sshHassh, (Array(hash.utf8))), (.sshHasshString, (Array(string.utf8)))]
                                                   : [(.sshHasshServer, (Array(hash.utf8))), (.sshHasshServerString, (Array(string.utf8)))],
                                   toServer: d == 0))
        }
        if done[0] && done[1] && !logged { events.append(logEvent()) }
    }

    /// `SSH-protoversion-softwareversion comments`.
    static func split(_ line: [UInt8]) -> (proto: String, software: String) {
        let body = line.dropFirst(4)
        guard let dash = body.firstIndex(of: UInt8(ascii: "-")) else { return (printable(body), "") }
        let software = body[(dash + 1)...].prefix { $0 != 0x20 }
        return (printable(body[..<dash]), printable(software))
    }

    func bannerEvent(_ d: Int) -> AppEvent {
        guard let line = banner[d] else { return AppEvent(eventType: "ssh", record: nil, transactionID: 0, buffers: [], toServer: d == 0) }
        let (proto, software) = SSHParser.split(line)
        return AppEvent(eventType: "ssh", record: nil, transactionID: 0,
                        buffers: [(.sshProto, (Array(proto.utf8))), (.sshSoftware, (Array(software.utf8)))],
                        toServer: d == 0)
    }

    func logEvent() -> AppEvent {
        logged = true
        var fields: [(String, JSONValue)] = []
        for (d, key) in [(0, "client"), (1, "server")] {
            guard let line = banner[d] else { continue }
            let (proto, software) = SSHParser.split(line)
            var side: [(String, JSONValue)] = [("proto_version", .string(proto)), ("software_version", .string(software))]
            if let h = hassh[d] {
                let hash = Insecure.MD5.hash(data: Array(h.utf8)).map { String($0, radix: 16).leftPadded(2) }.joined()
                side.append(("hassh", .object([("hash", .string(hash)), ("string", .string(h))])))
            }
            fields.append((key, .object(side)))
        }
        return AppEvent(eventType: "ssh", record: .object(fields), transactionID: 0, buffers: [], toServer: true)
    }
}

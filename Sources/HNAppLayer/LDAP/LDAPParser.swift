import HNDecode

/// LDAP (RFC 4511) as far as its StartTLS extended operation (RFC 4513 §3): the client's
/// ExtendedRequest named 1.3.6.1.4.1.1466.20037 and the server's success answer hand the
/// session to the TLS parser (EVE's `tls.from_proto: ldap`). Other operations are read only
/// to find the messages' bounds; nothing of them is logged.
final class LDAPParser {
    static let startTLS = Array("1.3.6.1.4.1.1466.20037".utf8)
    /// A message larger than this stops the direction (binds and searches are small).
    static let maxMessage = 1 << 16

    var buffers = Both<[UInt8]>([])
    var stopped = Both(false)
    var tlsPending = false
    var tlsAgreed = false

    /// An LDAP message to a directory port: a SEQUENCE whose first element is the message id.
    static func looksLikeLDAP(_ d: ByteView, port: UInt16) -> Bool {
        guard port == 389 || port == 3268, d.u8(0) == 0x30, let first = d.u8(1) else { return false }
        let idAt = first & 0x80 == 0 ? 2 : 2 + Int(first & 0x7F)
        return d.u8(idAt) == 0x02
    }

    /// A BER element's tag, content range and end within `b` from `at`.
    static func element(_ b: [UInt8], _ at: Int) -> (tag: UInt8, content: Range<Int>, end: Int)? {
        guard at + 1 < b.count else { return nil }
        let tag = b[at], first = b[at + 1]
        var length = Int(first), header = 2
        if first & 0x80 != 0 {
            let n = Int(first & 0x7F)
            guard n >= 1, n <= 3, at + 2 + n <= b.count else { return nil }
            length = 0
            for i in 0..<n { length = length << 8 | Int(b[at + 2 + i]) }
            header += n
        }
        guard at + header + length <= b.count else { return nil }
        return (tag, (at + header)..<(at + header + length), at + header + length)
    }

    func receive(_ data: ByteView, toServer: Bool) {
        let d = toServer ? 0 : 1
        guard !stopped[d] else { return }
        buffers[d].append(contentsOf: data.rawBuffer)
        while let message = LDAPParser.element(buffers[d], 0) {
            let b = buffers[d]
            if message.tag == 0x30, let id = LDAPParser.element(b, message.content.lowerBound), id.tag == 0x02,
               let op = LDAPParser.element(b, id.end), op.end <= message.end {
                if toServer && op.tag == 0x77, let name = LDAPParser.element(b, op.content.lowerBound), name.tag == 0x80,
                   Array(b[name.content]) == LDAPParser.startTLS {
                    tlsPending = true
                } else if !toServer && op.tag == 0x78 && tlsPending {
                    // ExtendedResponse: resultCode first; 0 is success.
                    if let code = LDAPParser.element(b, op.content.lowerBound), code.tag == 0x0A, code.content.count == 1, b[code.content.lowerBound] == 0 {
                        tlsAgreed = true
                    } else {
                        tlsPending = false
                    }
                }
            }
            buffers[d].removeFirst(message.end)
        }
        if buffers[d].count > LDAPParser.maxMessage {
            stopped[d] = true
            buffers[d] = []
        }
    }
}

import Crypto
import HNDecode

/// ASCII text built byte by byte: fingerprints and digests in the parsers, without the
/// intermediate strings that `String(_:radix:)` and `joined` make.
struct ASCIIText {
    var bytes: [UInt8] = []
    static let hexDigits = Array("0123456789abcdef".utf8)

    init(capacity: Int = 64) { bytes.reserveCapacity(capacity) }

    var string: String { String(decoding: bytes, as: UTF8.self) }

    mutating func byte(_ b: UInt8) { bytes.append(b) }

    mutating func text(_ s: StaticString) {
        s.withUTF8Buffer { bytes.append(contentsOf: $0) }
    }

    mutating func decimal(_ value: UInt32) { DecimalText.append(UInt64(value), to: &bytes) }

    /// `value` in `digits` lower-case hex digits, zero-padded.
    mutating func hex(_ value: UInt32, digits: Int) {
        var shift = (digits - 1) * 4
        while shift >= 0 {
            bytes.append(ASCIIText.hexDigits[Int((value >> UInt32(shift)) & 0xF)])
            shift -= 4
        }
    }

    /// Decimal values joined by `separator`.
    mutating func decimals<C: Collection>(_ values: C, separator: UInt8) where C.Element: BinaryInteger {
        var first = true
        for v in values {
            if !first { bytes.append(separator) }
            first = false
            decimal(UInt32(truncatingIfNeeded: v))
        }
    }

    /// Four-digit hex values joined by `separator`.
    mutating func hex4s<C: Collection>(_ values: C, separator: UInt8) where C.Element == UInt16 {
        var first = true
        for v in values {
            if !first { bytes.append(separator) }
            first = false
            hex(UInt32(v), digits: 4)
        }
    }

    /// Appends the bytes of a digest in hex (the first `limit` of them).
    mutating func hexBytes<S: Sequence>(_ d: S, limit: Int = .max) where S.Element == UInt8 {
        var n = 0
        for b in d {
            guard n < limit else { break }
            hex(UInt32(b), digits: 2)
            n += 1
        }
    }

    /// The MD5 of `bytes` in hex (the JA3, JA3S and HASSH hashes).
    static func md5(_ bytes: UnsafeRawBufferPointer) -> String { digest(Insecure.MD5.hash(data: bytes)) }

    static func md5(_ bytes: [UInt8]) -> String { bytes.withUnsafeBytes { md5($0) } }

    /// The bytes of a digest in hex, optionally separated (`aa:bb:…`): written straight into
    /// the string's storage (one allocation).
    static func digest<S: Sequence>(_ d: S, separator: UInt8? = nil, limit: Int = .max) -> String where S.Element == UInt8 {
        let count = Swift.min(limit, 64)
        return String(unsafeUninitializedCapacity: count * 3) { out in
            var i = 0, n = 0
            for b in d {
                guard n < limit, i + 3 <= out.count else { break }
                if n > 0, let separator {
                    out[i] = separator
                    i += 1
                }
                out[i] = hexDigits[Int(b >> 4)]
                out[i + 1] = hexDigits[Int(b & 0xF)]
                i += 2
                n += 1
            }
            return i
        }
    }
}

extension ASCIIText {
    /// 16 bytes as a GUID's text (`xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx`), taking the bytes in
    /// `order` (the byte order of each field as the protocol writes it); "" for another length.
    static func guid(_ b: [UInt8], order: [Int]) -> String {
        guard b.count == 16, order.count == 16 else { return "" }
        var out = ASCIIText(capacity: 36)
        for (i, index) in order.enumerated() {
            if i == 4 || i == 6 || i == 8 || i == 10 { out.byte(UInt8(ascii: "-")) }
            out.hex(UInt32(b[index]), digits: 2)
        }
        return out.string
    }
}

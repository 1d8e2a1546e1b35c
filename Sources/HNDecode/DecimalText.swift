/// Decimal digits appended to a byte buffer, for text built byte by byte on the hot path
/// (EVE numbers and timestamps, fingerprints): no intermediate `String`.
public enum DecimalText {
    /// Appends `value` in decimal, zero-padded to at least `minDigits` digits.
    @inlinable
    public static func append(_ value: UInt64, minDigits: Int = 1, to bytes: inout [UInt8]) {
        var digits: (UInt64, UInt64, UInt64) = (0, 0, 0)  // 24 bytes: room for the 20 digits of UInt64.max
        var v = value, n = 0
        withUnsafeMutableBytes(of: &digits) { d in
            repeat {
                d[n] = UInt8(ascii: "0") &+ UInt8(truncatingIfNeeded: v % 10)
                v /= 10
                n += 1
            } while v > 0
            var pad = minDigits - n
            while pad > 0 {
                bytes.append(UInt8(ascii: "0"))
                pad -= 1
            }
            while n > 0 {
                n -= 1
                bytes.append(d[n])
            }
        }
    }
}

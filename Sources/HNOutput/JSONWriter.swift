import HNDecode

/// Appends JSON text to a byte buffer without building an intermediate tree: the EVE writer
/// emits one record per line with keys in a fixed order, so output is byte-identical for the
/// same input. Commas are tracked per nesting level, in a stack kept from record to record
/// (starting a record allocates nothing).
public struct JSONWriter {
    public var bytes: [UInt8] = []
    /// Per open level (the top first): whether it already has a member.
    private var needsComma: [Bool] = [false]

    public init(capacity: Int = 1024) {
        bytes.reserveCapacity(capacity)
    }

    public mutating func clear() {
        bytes.removeAll(keepingCapacity: true)
        needsComma.removeAll(keepingCapacity: true)
        needsComma.append(false)
        pendingValue = false
    }

    private mutating func separator() {
        if needsComma[needsComma.count - 1] { bytes.append(UInt8(ascii: ",")) }
        needsComma[needsComma.count - 1] = true
    }

    private mutating func open(_ bracket: UInt8) {
        bytes.append(bracket)
        needsComma.append(false)
    }

    private mutating func close(_ bracket: UInt8) {
        needsComma.removeLast()
        bytes.append(bracket)
    }

    public mutating func beginObject(_ key: String? = nil) {
        if let key { self.key(key) }
        valueSeparator()
        open(UInt8(ascii: "{"))
    }

    public mutating func endObject() { close(UInt8(ascii: "}")) }

    public mutating func beginArray(_ key: String? = nil) {
        if let key { self.key(key) }
        valueSeparator()
        open(UInt8(ascii: "["))
    }

    public mutating func endArray() { close(UInt8(ascii: "]")) }

    private mutating func key(_ key: String) {
        separator()
        appendString(key)
        bytes.append(UInt8(ascii: ":"))
        // The value that follows must not add a comma of its own.
        pendingValue = true
    }

    private var pendingValue = false

    private mutating func valueSeparator() {
        if pendingValue {
            pendingValue = false
        } else {
            separator()
        }
    }

    public mutating func field(_ key: String, _ value: String) { self.key(key); string(value) }
    public mutating func field(_ key: String, _ value: Int) { self.key(key); number(value) }
    public mutating func field(_ key: String, _ value: Int64) { self.key(key); number(Int(value)) }
    public mutating func field(_ key: String, _ value: UInt64) { self.key(key); unsigned(value) }
    public mutating func field(_ key: String, _ value: Bool) { self.key(key); bool(value) }

    public mutating func string(_ value: String) {
        valueSeparator()
        appendString(value)
    }

    public mutating func number(_ value: Int) {
        valueSeparator()
        if value < 0 {
            bytes.append(UInt8(ascii: "-"))
            appendDigits(value.magnitude)
        } else {
            appendDigits(UInt(value))
        }
    }

    public mutating func unsigned(_ value: UInt64) {
        valueSeparator()
        appendDigits(UInt(value))
    }

    /// A timestamp in EVE's format, as a string value.
    public mutating func time(_ key: String, _ nanos: Int64) {
        self.key(key)
        valueSeparator()
        bytes.append(UInt8(ascii: "\""))
        EVETime.write(nanos, into: &bytes)
        bytes.append(UInt8(ascii: "\""))
    }

    /// Decimal digits of `value`, written in place (no intermediate string).
    mutating func appendDigits(_ value: UInt) {
        DecimalText.append(UInt64(value), to: &bytes)
    }

    public mutating func bool(_ value: Bool) {
        valueSeparator()
        bytes.append(contentsOf: (value ? "true" : "false").utf8)
    }

    /// Appends `value` as a JSON string literal, escaping quotes, backslashes and controls.
    /// Invalid UTF-8 cannot occur here: Swift strings are valid Unicode.
    mutating func appendString(_ value: String) {
        bytes.append(UInt8(ascii: "\""))
        var value = value
        value.withUTF8 { utf8 in
            // Most strings need no escape: copied in one go.
            if !utf8.contains(where: { $0 < 0x20 || $0 == 0x22 || $0 == 0x5C || $0 == 0x7F }) {
                bytes.append(contentsOf: utf8)
                return
            }
            for byte in utf8 {
                switch byte {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"):
                    bytes.append(0x5C)
                    bytes.append(byte)
                case 0x0A:
                    bytes.append(0x5C)
                    bytes.append(UInt8(ascii: "n"))
                case 0x0D:
                    bytes.append(0x5C)
                    bytes.append(UInt8(ascii: "r"))
                case 0x09:
                    bytes.append(0x5C)
                    bytes.append(UInt8(ascii: "t"))
                case 0..<0x20, 0x7F:
                    bytes.append(0x5C)
                    bytes.append(UInt8(ascii: "u"))
                    bytes.append(0x30)
                    bytes.append(0x30)
                    bytes.append(JSONWriter.hexDigits[Int(byte >> 4)])
                    bytes.append(JSONWriter.hexDigits[Int(byte & 0xF)])
                default:
                    bytes.append(byte)
                }
            }
        }
        bytes.append(UInt8(ascii: "\""))
    }

    static let hexDigits: [UInt8] = Array("0123456789abcdef".utf8)
}

/// Formats packet timestamps as Suricata's EVE does: `2024-05-01T10:00:00.123456+0000`.
/// Always UTC, so the same capture gives the same text on every machine.
public enum EVETime {
    public static func format(_ nanos: Int64) -> String {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(32)
        write(nanos, into: &bytes)
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Appends the text of `format` to `bytes` (no intermediate strings).
    public static func write(_ nanos: Int64, into bytes: inout [UInt8]) {
        let totalMicros = nanos >= 0 ? nanos / 1_000 : (nanos - 999) / 1_000
        var seconds = totalMicros >= 0 ? totalMicros / 1_000_000 : (totalMicros - 999_999) / 1_000_000
        let micros = totalMicros - seconds * 1_000_000
        let days = seconds >= 0 ? seconds / 86_400 : (seconds - 86_399) / 86_400
        seconds -= days * 86_400
        let (year, month, day) = civil(fromDays: days)
        pad(year, 4, &bytes)
        bytes.append(UInt8(ascii: "-"))
        pad(month, 2, &bytes)
        bytes.append(UInt8(ascii: "-"))
        pad(day, 2, &bytes)
        bytes.append(UInt8(ascii: "T"))
        pad(seconds / 3600, 2, &bytes)
        bytes.append(UInt8(ascii: ":"))
        pad(seconds / 60 % 60, 2, &bytes)
        bytes.append(UInt8(ascii: ":"))
        pad(seconds % 60, 2, &bytes)
        bytes.append(UInt8(ascii: "."))
        pad(micros, 6, &bytes)
        bytes.append(contentsOf: "+0000".utf8)
    }

    /// `value` in decimal, zero-padded to `width` (wider values are written whole; a negative
    /// value as `String(value)` would, padded after the sign's place as before).
    static func pad(_ value: Int64, _ width: Int, _ bytes: inout [UInt8]) {
        guard value >= 0 else {
            bytes.append(contentsOf: pad(value, width).utf8)
            return
        }
        DecimalText.append(UInt64(value), minDigits: width, to: &bytes)
    }

    /// The calendar date of a day count since 1970-01-01 (Howard Hinnant's algorithm).
    public static func civil(fromDays z0: Int64) -> (Int64, Int64, Int64) {
        let z = z0 + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        return (yoe + era * 400 + (m <= 2 ? 1 : 0), m, d)
    }

    static func pad(_ value: Int64, _ width: Int) -> String {
        let text = String(value)
        return text.count >= width ? text : String(repeating: "0", count: width - text.count) + text
    }
}

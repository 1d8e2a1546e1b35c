/// A small JSON value for application-layer EVE records (`http`, `dns`, `tls`, …): keys keep
/// their order, so records are byte-identical run to run. Not `indirect`: arrays and objects
/// already hold their elements out of line, and a boxed case would cost an allocation for
/// every field of every record.
public enum JSONValue: Sendable, Equatable {
    case string(String)
    case int(Int64)
    case bool(Bool)
    case array([JSONValue])
    case object([(String, JSONValue)])

    /// Looks up a key of an object.
    public subscript(key: String) -> JSONValue? {
        if case .object(let pairs) = self { return pairs.first { $0.0 == key }?.1 }
        return nil
    }

    /// Equal values: objects with the same keys in the same order.
    public static func == (a: JSONValue, b: JSONValue) -> Bool {
        switch (a, b) {
        case (.string(let x), .string(let y)): x == y
        case (.int(let x), .int(let y)): x == y
        case (.bool(let x), .bool(let y)): x == y
        case (.array(let x), .array(let y)): x == y
        case (.object(let x), .object(let y)): x.count == y.count && zip(x, y).allSatisfy { $0.0 == $1.0 && $0.1 == $1.1 }
        default: false
        }
    }
}

/// Text from bytes seen on the wire: valid UTF-8 is kept, other bytes are written as
/// `\xHH` so the record stays valid JSON and nothing is silently dropped.
/// Bytes as Suricata's EVE writes protocol bytes (`set_string_from_bytes`): ASCII as it is
/// (the JSON writer escapes control characters), every other byte as `\xNN`.
public func suricataText(_ bytes: some Collection<UInt8>) -> String {
    var out = ASCIIText(capacity: bytes.count)
    for b in bytes {
        if b < 0x80 {
            out.byte(b)
        } else {
            out.text("\\x")
            out.hex(UInt32(b), digits: 2)
        }
    }
    return out.string
}

public func printable(_ bytes: some Collection<UInt8>) -> String {
    if let s = String(validating: bytes, as: UTF8.self) { return s }
    var out = ASCIIText(capacity: bytes.count * 2)
    for b in bytes {
        if b >= 0x20 && b < 0x7F {
            out.byte(b)
        } else {
            out.text("\\x")
            out.hex(UInt32(b), digits: 2)
        }
    }
    return out.string
}

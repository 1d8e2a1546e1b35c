/// A small JSON value for application-layer EVE records (`http`, `dns`, `tls`, …): keys keep
/// their order, so records are byte-identical run to run.
public indirect enum JSONValue: Sendable {
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
}

/// Text from bytes seen on the wire: valid UTF-8 is kept, other bytes are written as
/// `\xHH` so the record stays valid JSON and nothing is silently dropped.
public func printable(_ bytes: some Sequence<UInt8>) -> String {
    let array = Array(bytes)
    if let s = String(validating: array, as: UTF8.self) { return s }
    var out = ""
    let hex = Array("0123456789abcdef")
    for b in array {
        if b >= 0x20 && b < 0x7F { out.append(Character(Unicode.Scalar(b))) } else {
            out += "\\x" + String(hex[Int(b >> 4)]) + String(hex[Int(b & 0xF)])
        }
    }
    return out
}

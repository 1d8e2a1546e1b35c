import CPCRE2
import CVectorscan

/// Versions of the matching libraries linked in (shown by `hnsensor version`).
public enum Libraries {
    public static var vectorscanVersion: String {
        guard let v = hs_version() else { return "vectorscan: unknown" }
        let text = String(cString: v)
        return "vectorscan " + String(text.drop { $0 == " " }.reversed().drop { $0 == " " }.reversed())
    }

    public static var pcre2Version: String {
        var buffer = [UInt8](repeating: 0, count: 64)
        let n = buffer.withUnsafeMutableBytes { pcre2_config_8(UInt32(PCRE2_CONFIG_VERSION), $0.baseAddress) }
        guard n > 1 else { return "pcre2: unknown" }
        return "pcre2 " + String(decoding: buffer.prefix(Int(n) - 1), as: UTF8.self)
    }
}

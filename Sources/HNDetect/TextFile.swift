#if canImport(Glibc)
import Glibc
#endif

/// Why a text file could not be read (the system's reason).
public struct FileError: Error, CustomStringConvertible {
    public let description: String
}

/// Reads a whole text file (rules, configuration, indicators); the error names the system's
/// reason (the caller adds the path).
public func readTextFile(_ path: String) throws(FileError) -> String {
    guard let f = fopen(path, "rb") else { throw FileError(description: "cannot open: \(String(cString: strerror(errno)))") }
    defer { fclose(f) }
    var bytes: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 1 << 16)
    while true {
        let n = chunk.withUnsafeMutableBytes { fread($0.baseAddress, 1, $0.count, f) }
        if n > 0 { bytes += chunk[0..<n] }
        if n < chunk.count {
            if ferror(f) != 0 { throw FileError(description: "read failed: \(String(cString: strerror(errno)))") }
            break
        }
    }
    return String(decoding: bytes, as: UTF8.self)
}

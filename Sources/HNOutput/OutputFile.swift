#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// An output file written through a buffer and published atomically: bytes go to
/// `PATH.tmp` (mode 0640) and `commit` renames it over `PATH`, so a failed run never leaves a
/// half-written file where a reader expects a complete one; `abandon` removes the temporary.
public final class OutputFile {
    public struct Failure: Error, CustomStringConvertible {
        public let description: String
    }

    public let path: String
    let temporaryPath: String
    private var fd: Int32
    private var buffer: [UInt8] = []
    public private(set) var bytesWritten: UInt64 = 0
    static let flushThreshold = 1 << 16

    /// Opens `PATH.tmp` for writing; "-" writes straight to standard output.
    public init(path: String) throws(Failure) {
        self.path = path
        if path == "-" {
            temporaryPath = "-"
            fd = 1
            return
        }
        temporaryPath = path + ".tmp"
        fd = open(temporaryPath, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o640)
        guard fd >= 0 else {
            throw Failure(description: "\(path): cannot create: \(String(cString: strerror(errno)))")
        }
        buffer.reserveCapacity(OutputFile.flushThreshold * 2)
    }

    deinit {
        if fd > 1 { close(fd); unlink(temporaryPath) }
    }

    public func write(_ bytes: [UInt8]) throws(Failure) {
        buffer.append(contentsOf: bytes)
        if buffer.count >= OutputFile.flushThreshold { try flush() }
    }

    public func flush() throws(Failure) {
        var offset = 0
        while offset < buffer.count {
            let n = buffer.withUnsafeBytes { Glibc.write(fd, $0.baseAddress! + offset, $0.count - offset) }
            if n < 0 {
                if errno == EINTR { continue }
                throw Failure(description: "\(path): write failed: \(String(cString: strerror(errno)))")
            }
            offset += n
        }
        bytesWritten += UInt64(buffer.count)
        buffer.removeAll(keepingCapacity: true)
    }

    /// Flushes, closes and renames the temporary file over `path`.
    public func commit() throws(Failure) {
        try flush()
        guard fd > 1 else { return }
        if fsync(fd) != 0 && errno != EINVAL {
            throw Failure(description: "\(path): fsync failed: \(String(cString: strerror(errno)))")
        }
        close(fd)
        fd = -1
        guard rename(temporaryPath, path) == 0 else {
            throw Failure(description: "\(path): cannot rename into place: \(String(cString: strerror(errno)))")
        }
    }

    /// Closes and deletes the temporary file; `path` is left as it was.
    public func abandon() {
        guard fd > 1 else { return }
        close(fd)
        fd = -1
        unlink(temporaryPath)
    }
}

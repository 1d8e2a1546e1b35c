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
    /// Appending to `path` itself (the daemon's EVE log), reopened on log rotation.
    public let appending: Bool
    private var fd: Int32
    /// Records dropped because the disk refused writes for longer than the buffer could hold.
    public private(set) var droppedBytes: UInt64 = 0
    /// Bytes held while writes fail before new records are dropped.
    public static let maxBuffered = 64 << 20
    private var buffer: [UInt8] = []
    public private(set) var bytesWritten: UInt64 = 0
    static let flushThreshold = 1 << 16

    /// Bytes are only collected (a worker's records, copied to the real file by the merge).
    public let inMemory: Bool

    /// A file that only collects its bytes in memory: `take` hands them over.
    public init(memory: Void) {
        path = "memory"
        temporaryPath = "memory"
        appending = false
        inMemory = true
        fd = -1
    }

    /// Opens `PATH.tmp` for writing; "-" writes straight to standard output.
    public init(path: String) throws(Failure) {
        self.path = path
        self.appending = false
        self.inMemory = false
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

    /// Opens `path` for appending (created with mode 0640): records are written as they come
    /// and nothing is renamed; `reopen` starts a new file after log rotation.
    public init(appendingTo path: String) throws(Failure) {
        self.path = path
        self.temporaryPath = path
        self.appending = true
        self.inMemory = false
        fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o640)
        guard fd >= 0 else {
            throw Failure(description: "\(path): cannot open: \(String(cString: strerror(errno)))")
        }
        buffer.reserveCapacity(OutputFile.flushThreshold * 2)
    }

    deinit {
        if fd > 1 {
            if appending { try? flush() } else { unlink(temporaryPath) }
            close(fd)
        }
    }

    public func write(_ bytes: [UInt8]) throws(Failure) {
        let result: Result<Void, Failure> = bytes.withUnsafeBytes { raw in
            do throws(Failure) {
                try write(raw)
                return .success(())
            } catch {
                return .failure(error)
            }
        }
        try result.get()
    }

    public func write(_ bytes: UnsafeRawBufferPointer) throws(Failure) {
        if inMemory {
            buffer.append(contentsOf: bytes)
            return
        }
        if buffer.count + bytes.count > OutputFile.maxBuffered {
            // The disk has refused writes for long enough to fill the buffer: keep what is
            // held, count what is lost, and try again.
            droppedBytes &+= UInt64(bytes.count)
            try flush()
            return
        }
        buffer.append(contentsOf: bytes)
        if buffer.count >= OutputFile.flushThreshold { try flush() }
    }

    /// Bytes collected so far (in memory).
    public var collected: Int { buffer.count }

    /// Hands the collected bytes over, leaving `spare`'s storage to collect the next ones.
    public func take(_ spare: inout [UInt8]) {
        spare.removeAll(keepingCapacity: true)
        swap(&buffer, &spare)
    }

    /// Writes the buffer out. On failure the bytes not written stay buffered for the next try.
    public func flush() throws(Failure) {
        if inMemory { return }
        var offset = 0
        defer {
            if offset > 0 {
                bytesWritten += UInt64(offset)
                buffer.removeFirst(offset)
            }
        }
        while offset < buffer.count {
            let n = buffer.withUnsafeBytes { Glibc.write(fd, $0.baseAddress! + offset, $0.count - offset) }
            if n < 0 {
                if errno == EINTR { continue }
                throw Failure(description: "\(path): write failed: \(String(cString: strerror(errno)))")
            }
            offset += n
        }
    }

    /// Closes and opens `path` again (after logrotate moved it away), keeping buffered bytes.
    public func reopen() throws(Failure) {
        guard appending else { return }
        try? flush()
        if fd > 1 { close(fd) }
        fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o640)
        guard fd >= 0 else {
            throw Failure(description: "\(path): cannot reopen: \(String(cString: strerror(errno)))")
        }
    }

    /// Flushes, closes and renames the temporary file over `path`.
    public func commit() throws(Failure) {
        try flush()
        guard fd > 1 else { return }
        if appending {
            _ = fsync(fd)
            return
        }
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
        guard fd > 1, !appending else { return }
        close(fd)
        fd = -1
        unlink(temporaryPath)
    }
}

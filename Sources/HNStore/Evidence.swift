import Crypto
import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// Payload excerpts kept as evidence, encrypted at rest with AES-256-GCM under a key read from
/// a file outside the store (created with mode 0600 when missing). The store holds only
/// nonce, ciphertext and tag: without the key file the excerpts are unreadable.
public struct EvidenceKey: @unchecked Sendable {
    let key: SymmetricKey
    public let path: String

    /// Reads the key file, creating it (32 random bytes, mode 0600) when it does not exist.
    public static func loadOrCreate(path: String) throws(StoreError) -> EvidenceKey {
        if access(path, F_OK) != 0 {
            let fd = Glibc.open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
            guard fd >= 0 else { throw StoreError("\(path): cannot create the evidence key: \(String(cString: strerror(errno)))") }
            let fresh = SymmetricKey(size: .bits256)
            let written = fresh.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            close(fd)
            guard written == 32 else { throw StoreError("\(path): cannot write the evidence key") }
        }
        return try load(path: path)
    }

    /// Reads an existing key file; refuses one readable by others.
    public static func load(path: String) throws(StoreError) -> EvidenceKey {
        var st = stat()
        guard stat(path, &st) == 0 else { throw StoreError("\(path): no evidence key (excerpts stay encrypted)") }
        guard st.st_mode & 0o077 == 0 else { throw StoreError("\(path): the evidence key must not be readable by group or others (chmod 600)") }
        guard let data = FileManager.default.contents(atPath: path), data.count == 32 else {
            throw StoreError("\(path): an evidence key is 32 bytes")
        }
        return EvidenceKey(key: SymmetricKey(data: data), path: path)
    }

    public func seal(_ plaintext: [UInt8]) throws(StoreError) -> [UInt8] {
        do {
            guard let combined = try AES.GCM.seal(plaintext, using: key).combined else { throw StoreError("evidence encryption failed") }
            return [UInt8](combined)
        } catch let error as StoreError {
            throw error
        } catch {
            throw StoreError("evidence encryption failed: \(error)")
        }
    }

    public func open(_ sealed: [UInt8]) throws(StoreError) -> [UInt8] {
        do {
            return [UInt8](try AES.GCM.open(AES.GCM.SealedBox(combined: sealed), using: key))
        } catch {
            throw StoreError("\(path): this key does not open the excerpt (another key, or the data was altered)")
        }
    }
}

/// Removes credentials from a payload excerpt before it is kept: the value of Authorization
/// and Proxy-Authorization headers, the argument of FTP/POP3 PASS, IMAP LOGIN and SMTP AUTH
/// lines. The fact that credentials were sent stays in the alert; the credentials do not.
public enum CredentialRedaction {
    static let marker = Array("[redacted]".utf8)

    public static func redact(_ bytes: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count)
        var lineStart = 0
        while lineStart < bytes.count {
            var end = lineStart
            while end < bytes.count && bytes[end] != 0x0A { end += 1 }
            let line = Array(bytes[lineStart..<end])
            let upper = line.map { $0 >= 0x61 && $0 <= 0x7A ? $0 - 0x20 : $0 }
            func starts(_ s: String) -> Bool { upper.starts(with: Array(s.utf8)) }
            var keep = line.count
            if starts("AUTHORIZATION:") || starts("PROXY-AUTHORIZATION:") {
                keep = line.firstIndex(of: UInt8(ascii: ":"))! + 1
            } else if starts("PASS ") || starts("AUTH ") || starts("APOP ") {
                keep = 5
            } else if let login = find(upper, " LOGIN ") {
                keep = login + 7
            }
            out += line.prefix(keep)
            if keep < line.count {
                out += (keep > 0 && line[keep - 1] == UInt8(ascii: ":") ? [0x20] : []) + marker
                if line.last == 0x0D { out.append(0x0D) }
            }
            if end < bytes.count { out.append(0x0A) }
            lineStart = end + 1
        }
        return out
    }

    static func find(_ haystack: [UInt8], _ needle: String) -> Int? {
        let n = Array(needle.utf8)
        guard haystack.count >= n.count else { return nil }
        for i in 0...(haystack.count - n.count) where haystack[i..<(i + n.count)].elementsEqual(n) { return i }
        return nil
    }
}

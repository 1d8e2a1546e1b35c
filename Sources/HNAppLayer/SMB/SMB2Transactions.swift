import HNDecode

/// SMB2/3 requests and responses paired by message id into transactions, each logged as
/// Suricata logs it (`smb` records: id, dialect, command, status, session and tree ids, and
/// what the command is about: dialects, NTLMSSP names, share, file name, disposition, times,
/// size, file id). Bounded: at most `maxPending` requests wait for their response.
struct SMB2Transactions {
    static let maxPending = 512
    static let maxFiles = 1024

    struct Pending {
        var id: Int
        var command: UInt16
        var fields: [(String, JSONValue)] = []
        var fileID: [UInt8]? = nil
    }

    var pending: [UInt64: Pending] = [:]
    var nextID = 1
    var dialect: String? = nil
    var clientDialects: [String] = []
    /// File names by file id (CREATE responses), for the later READ, WRITE and CLOSE.
    var files: [[UInt8]: String] = [:]
    /// Files already read or written (file id and command): Suricata keeps one transaction
    /// per file and direction, so the later READs and WRITEs of a file log nothing.
    var fileTransactions: Set<[UInt8]> = []
    /// The name of the last CREATE asked for: a compound's later requests name that file by
    /// the "related" file id (all ones).
    var lastCreateName = ""
    /// Requests whose responses log nothing (absorbed into a file's transaction).
    var absorbed: Set<UInt64> = []

    static let commands = ["NEGOTIATE_PROTOCOL", "SESSION_SETUP", "SESSION_LOGOFF", "TREE_CONNECT", "TREE_DISCONNECT", "CREATE",
                           "CLOSE", "FLUSH", "READ", "WRITE", "LOCK", "IOCTL", "CANCEL", "KEEPALIVE", "FIND", "CHANGE_NOTIFY",
                           "GET_INFO", "SET_INFO", "OPLOCK_BREAK"]

    static func commandName(_ c: UInt16) -> String {
        Int(c) < commands.count ? "SMB2_COMMAND_" + commands[Int(c)] : "SMB2_COMMAND_UNKNOWN"
    }

    static func statusName(_ s: UInt32) -> String {
        switch s {
        case 0: "STATUS_SUCCESS"
        case 0x0000_0103: "STATUS_PENDING"
        case 0x0000_010C: "STATUS_NOTIFY_ENUM_DIR"
        case 0x8000_0005: "STATUS_BUFFER_OVERFLOW"
        case 0x8000_0006: "STATUS_NO_MORE_FILES"
        case 0xC000_0004: "STATUS_INFO_LENGTH_MISMATCH"
        case 0xC000_000D: "STATUS_INVALID_PARAMETER"
        case 0xC000_0010: "STATUS_INVALID_DEVICE_REQUEST"
        case 0xC000_0011: "STATUS_END_OF_FILE"
        case 0xC000_0016: "STATUS_MORE_PROCESSING_REQUIRED"
        case 0xC000_0022: "STATUS_ACCESS_DENIED"
        case 0xC000_0034: "STATUS_OBJECT_NAME_NOT_FOUND"
        case 0xC000_0035: "STATUS_OBJECT_NAME_COLLISION"
        case 0xC000_003A: "STATUS_OBJECT_PATH_NOT_FOUND"
        case 0xC000_0043: "STATUS_SHARING_VIOLATION"
        case 0xC000_0056: "STATUS_DELETE_PENDING"
        case 0xC000_006D: "STATUS_LOGON_FAILURE"
        case 0xC000_00BB: "STATUS_NOT_SUPPORTED"
        case 0xC000_00CC: "STATUS_BAD_NETWORK_NAME"
        case 0xC000_0120: "STATUS_CANCELLED"
        case 0xC000_0128: "STATUS_FILE_CLOSED"
        case 0xC000_019C: "STATUS_FS_DRIVER_REQUIRED"
        case 0xC000_0225: "STATUS_NOT_FOUND"
        default: "0x" + String(s, radix: 16)
        }
    }

    static let dispositions = ["FILE_SUPERSEDE", "FILE_OPEN", "FILE_CREATE", "FILE_OPEN_IF", "FILE_OVERWRITE", "FILE_OVERWRITE_IF"]

    static func utf16(_ v: ByteView) -> String {
        var units: [UInt16] = []
        var i = 0
        while let u = v.u16le(i) { units.append(u); i += 2 }
        return String(decoding: units, as: UTF16.self)
    }

    /// Windows FILETIME (100 ns since 1601) as Unix seconds.
    static func unixTime(_ t: UInt64) -> Int64 { Int64(t / 10_000_000) - 11_644_473_600 }

    /// A GUID's 16 bytes as Suricata writes them (its first three fields little-endian).
    static func guid(_ g: [UInt8]) -> String {
        guard g.count == 16 else { return "" }
        var out = ASCIIText(capacity: 36)
        for (i, index) in [3, 2, 1, 0, 5, 4, 7, 6, 9, 8, 11, 10, 15, 14, 13, 12].enumerated() {
            if i == 4 || i == 6 || i == 8 || i == 10 { out.byte(UInt8(ascii: "-")) }
            out.hex(UInt32(g[index]), digits: 2)
        }
        return out.string
    }

    /// One SMB2 message (a compound's part): a request opens a transaction, its final
    /// response logs it.
    mutating func message(_ m: ByteView, toServer: Bool, ntlmssp: (ByteView) -> [(String, JSONValue)]?, events: inout [AppEvent]) {
        guard let command = m.u16le(12), let status = m.u32le(8), let flags = m.u32le(16),
              let messageID = m.u64le(24) else { return }
        let body = m.suffix(from: 64) ?? .empty
        let isResponse = flags & 1 != 0
        if !isResponse {
            guard toServer else { return }
            if pending.count >= SMB2Transactions.maxPending, let oldest = pending.min(by: { $0.value.id < $1.value.id })?.key {
                pending.removeValue(forKey: oldest)
            }
            if command == 8 || command == 9, let id = body.slice(16, 16) {
                let key = id.toArray() + [UInt8(command)]
                if fileTransactions.contains(key) {
                    if absorbed.count < SMB2Transactions.maxPending { absorbed.insert(messageID) }
                    return
                }
                if fileTransactions.count < SMB2Transactions.maxFiles { fileTransactions.insert(key) }
            }
            if command == 6, let id = body.slice(8, 16) {
                let fuid = id.toArray()
                fileTransactions.remove(fuid + [8])
                fileTransactions.remove(fuid + [9])
            }
            var tx = Pending(id: nextID, command: command)
            nextID += 1
            request(&tx, body, m, ntlmssp: ntlmssp)
            pending[messageID] = tx
            return
        }
        if absorbed.remove(messageID) != nil { return }
        // An interim "pending" answer: the final one follows.
        if status == 0x103 && flags & 2 != 0 { return }
        // A response whose request was not seen (a capture begun mid-session) is a
        // transaction of its own, as Suricata makes it.
        guard var tx = pending.removeValue(forKey: messageID) ?? {
            // A READ or WRITE answer without its request belongs to the file's transaction.
            if (command == 8 || command == 9) && fileTransactions.contains(where: { $0.last == UInt8(command) }) { return nil }
            defer { nextID += 1 }
            return Pending(id: nextID, command: command)
        }() else { return }
        let asyncHeader = flags & 2 != 0
        let treeID = asyncHeader ? 0 : (m.u32le(36) ?? 0)
        let sessionID = m.u64le(40) ?? 0
        response(&tx, body, status: status)
        var fields: [(String, JSONValue)] = [("id", .int(Int64(tx.id)))]
        if let dialect { fields.append(("dialect", .string(dialect))) }
        fields.append(("command", .string(SMB2Transactions.commandName(tx.command))))
        fields.append(("status", .string(SMB2Transactions.statusName(status))))
        fields.append(("status_code", .string("0x" + String(status, radix: 16))))
        fields.append(("session_id", .int(Int64(bitPattern: sessionID))))
        fields.append(("tree_id", .int(Int64(treeID))))
        fields += tx.fields
        events.append(AppEvent(eventType: "smb", record: .object(fields), transactionID: tx.id - 1, buffers: [], toServer: true))
    }

    mutating func request(_ tx: inout Pending, _ body: ByteView, _ m: ByteView, ntlmssp: (ByteView) -> [(String, JSONValue)]?) {
        switch tx.command {
        case 0:  // NEGOTIATE: the dialects offered
            guard let count = body.u16le(2) else { return }
            clientDialects = (0..<min(Int(count), 32)).compactMap { body.u16le(36 + 2 * $0).map(SMBParser.dialectName) }
        case 1:  // SESSION_SETUP: the NTLMSSP names in the security blob
            if let offset = body.u16le(12), let length = body.u16le(14), let blob = m.slice(Int(offset), Int(length)), let n = ntlmssp(blob) {
                tx.fields.append(("ntlmssp", .object(n)))
            }
        case 3:  // TREE_CONNECT: the path
            if let offset = body.u16le(4), let length = body.u16le(6), let path = m.slice(Int(offset), Int(length)) {
                tx.fields.append(("share", .string(SMB2Transactions.utf16(path))))
            }
        case 5:  // CREATE: name, disposition, delete-on-close
            if let disposition = body.u32le(36), let options = body.u32le(40),
               let offset = body.u16le(44), let length = body.u16le(46) {
                let name = length == 0 ? "" : m.slice(Int(offset), Int(length)).map(SMB2Transactions.utf16) ?? ""
                tx.fields.append(("filename", .string(name)))
                lastCreateName = name
                tx.fields.append(("disposition", .string(Int(disposition) < SMB2Transactions.dispositions.count ? SMB2Transactions.dispositions[Int(disposition)] : "UNKNOWN")))
                tx.fields.append(("access", .string(options & 0x1000 != 0 ? "delete on close" : "normal")))
            }
        case 6, 8, 9:  // CLOSE, READ, WRITE: the file by its id
            let at = tx.command == 6 ? 8 : 16
            if let id = body.slice(at, 16) { tx.fileID = id.toArray() }
        case 17:  // SET_INFO: a rename, or the file marked for deletion
            guard let id = body.slice(16, 16), body.u8(2) == 1, let offset = body.u16le(8), let length = body.u32le(4),
                  let buffer = m.slice(Int(offset), Int(length)) else { return }
            tx.fileID = id.toArray()
            let name = id.toArray().allSatisfy { $0 == 0xFF } ? lastCreateName : files[id.toArray()] ?? ""
            switch body.u8(3) {
            case 10:  // FileRenameInformation: the new name at 20, its length at 16
                if let n = buffer.u32le(16), let to = buffer.slice(20, Int(n)) {
                    tx.fields.append(("rename", .object([("from", .string(name)), ("to", .string(SMB2Transactions.utf16(to)))])))
                }
            case 13 where buffer.u8(0) == 1:  // FileDispositionInformation: delete pending
                tx.fields.append(("filename", .string(name)))
                tx.fields.append(("access", .string("delete on close")))
            default: break
            }
        default:
            break
        }
    }

    mutating func response(_ tx: inout Pending, _ body: ByteView, status: UInt32) {
        switch tx.command {
        case 0:
            if let v = body.u16le(4) {
                dialect = SMBParser.dialectName(v)
                if !clientDialects.isEmpty { tx.fields.append(("client_dialects", .array(clientDialects.map { .string($0) }))) }
                if let g = body.slice(8, 16) { tx.fields.append(("server_guid", .string(SMB2Transactions.guid(g.toArray())))) }
            }
        case 3:
            guard let i = tx.fields.firstIndex(where: { $0.0 == "share" }) else { return }
            let pipe = body.u8(2) == 2
            if pipe { tx.fields[i].0 = "named_pipe" }
            tx.fields.append(("share_type", .string(pipe ? "PIPE" : "FILE")))
        case 5:
            guard status == 0, let created = body.u64le(8), let accessed = body.u64le(16),
                  let modified = body.u64le(24), let changed = body.u64le(32),
                  let size = body.u64le(48), let id = body.slice(64, 16) else { return }
            tx.fields.append(("created", .int(SMB2Transactions.unixTime(created))))
            tx.fields.append(("accessed", .int(SMB2Transactions.unixTime(accessed))))
            tx.fields.append(("modified", .int(SMB2Transactions.unixTime(modified))))
            tx.fields.append(("changed", .int(SMB2Transactions.unixTime(changed))))
            tx.fields.append(("size", .int(Int64(bitPattern: size))))
            let fuid = id.toArray()
            tx.fields.append(("fuid", .string(SMB2Transactions.guid(fuid))))
            if let i = tx.fields.firstIndex(where: { $0.0 == "filename" }), case .string(let name) = tx.fields[i].1, files.count < SMB2Transactions.maxFiles {
                files[fuid] = name
            }
        case 6, 8, 9:
            guard let id = tx.fileID else { return }
            if let name = files[id] { tx.fields.append(("filename", .string(name))) }
            tx.fields.append(("fuid", .string(SMB2Transactions.guid(id))))
            if tx.command == 6 { files.removeValue(forKey: id) }
        default:
            break
        }
    }
}

import HNDecode

/// SMB2/3 requests and responses paired by message id into transactions, each logged as
/// Suricata logs it (`smb` records: id, dialect, command, status, session and tree ids, and
/// what the command is about: dialects, NTLMSSP names, share, file name, disposition, times,
/// size, file id, DCERPC calls on named pipes). The transactions are Suricata's: GET_INFO
/// makes none, SET_INFO only a rename or a delete mark, READ and WRITE one per file and
/// direction (none on a pipe that is not DCERPC), a WRITE or IOCTL on a DCERPC pipe a call
/// completed by its answer. Bounded: at most `maxPending` requests wait for their response.
struct SMB2Transactions {
    static let maxPending = 512
    static let maxFiles = 1024

    /// Suricata's kinds of SMB transaction, the names of `eve-log.types.smb.types`.
    enum Kind: String {
        case negotiate, session_setup, tree_connect, create, file, rename, set_file_path_info, dcerpc, ioctl, generic
    }

    struct Pending {
        var id: Int
        var command: UInt16
        var kind: Kind = .generic
        var fields: [(String, JSONValue)] = []
        var fileID: [UInt8]? = nil
    }

    var pending: [UInt64: Pending] = [:]
    var nextID = 1
    var dialect: String? = nil
    var clientDialects: [String] = []
    /// File names by file id (CREATE responses), for the later READ, WRITE and CLOSE.
    var files: [[UInt8]: String] = [:]
    /// Trees by id (TREE_CONNECT responses): the share's name, and whether it is a pipe.
    var trees: [UInt32: (name: String, pipe: Bool)] = [:]
    /// Files already read or written (file id and command): Suricata keeps one transaction
    /// per file and direction, so the later READs and WRITEs of a file log nothing.
    var fileTransactions: Set<[UInt8]> = []
    /// The name of the last CREATE asked for: a compound's later requests name that file by
    /// the "related" file id (all ones).
    var lastCreateName = ""
    /// Requests whose responses log nothing (absorbed into a file's transaction, or making
    /// no transaction at all).
    var absorbed: Set<UInt64> = []
    /// Requests whose answers carry DCERPC (READs of a pipe, IOCTL transceives): message id
    /// to the file id read.
    var pipeReads: [UInt64: [UInt8]] = [:]
    /// Later READs of a file whose answers carry its bytes: message id to the file's
    /// transaction.
    var fileReads: [UInt64: Int] = [:]
    /// DCERPC calls waiting for their answer, and the interfaces bound on the session.
    var calls: [DCERPCCall] = []
    var interfaces: [DCERPCCall.Interface] = []
    /// An SMB1 NEGOTIATE answered in SMB2: its transaction (id, dialects offered).
    var smb1Negotiate: (id: Int, dialects: [String])? = nil
    /// SMB1 requests waiting for their answer, by multiplex id.
    var pending1: [UInt16: Pending] = [:]
    /// Files' bytes go to detection as `file.data` events of the file's transaction.
    var fileData = true
    /// The transaction of each file read or written (file id and command; SMB1's file id
    /// is two bytes).
    var fileTransactionIDs: [[UInt8]: Int] = [:]
    /// SMB1: the names of NT_CREATE_ANDX requests by multiplex id, then of files by FID.
    var createNames1: [UInt16: String] = [:]
    var fileNames1: [UInt16: String] = [:]

    /// The transaction id of a file's reads or writes, made on first use.
    mutating func fileTransaction(_ key: [UInt8]) -> Int {
        if let id = fileTransactionIDs[key] { return id }
        let id = nextID
        nextID += 1
        if fileTransactionIDs.count < SMB2Transactions.maxFiles { fileTransactionIDs[key] = id }
        return id
    }

    /// A chunk of a file written (toServer) or read, for the rules on `file.data`; an alert
    /// on it names the file (`files`, as Suricata's alerts on file transactions do).
    func fileBytes(_ data: ByteView, transaction: Int, toServer: Bool, name: String? = nil, events: inout [AppEvent]) {
        guard fileData, data.count > 0 else { return }
        var b = BufferBlock.Builder()
        b.add(.fileData, data)
        var event = AppEvent(eventType: "smb", record: nil, transactionID: transaction - 1, buffers: b.build(), toServer: toServer)
        if let name {
            event.alertObjects = [("files", .array([.object([("filename", .string(name)), ("gaps", .bool(false)), ("stored", .bool(false)),
                                                              ("tx_id", .int(Int64(transaction - 1)))])]))]
        }
        events.append(event)
    }

    /// The named pipes whose traffic is DCERPC (Suricata's list).
    static let dcerpcPipes: Set<String> = ["svcctl", "srvsvc", "atsvc", "lsarpc", "samr", "spoolss", "winreg"]

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
        case 0xC000_00B0: "STATUS_PIPE_DISCONNECTED"
        case 0xC000_00B1: "STATUS_PIPE_CLOSING"
        case 0xC000_00BB: "STATUS_NOT_SUPPORTED"
        case 0xC000_00CC: "STATUS_BAD_NETWORK_NAME"
        case 0xC000_0120: "STATUS_CANCELLED"
        case 0xC000_0128: "STATUS_FILE_CLOSED"
        case 0xC000_014B: "STATUS_PIPE_BROKEN"
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
        ASCIIText.guid(g, order: [3, 2, 1, 0, 5, 4, 7, 6, 9, 8, 11, 10, 15, 14, 13, 12])
    }


    /// Is the file a named pipe that speaks DCERPC?
    func isDCERPC(_ fileID: [UInt8]) -> Bool {
        guard var name = files[fileID] else { return false }
        if name.hasPrefix("\\") { name.removeFirst() }
        return SMB2Transactions.dcerpcPipes.contains(name)
    }

    mutating func remember(absorbed messageID: UInt64) {
        if absorbed.count < SMB2Transactions.maxPending { absorbed.insert(messageID) }
    }

    /// One SMB2 message (a compound's part): a request opens a transaction, its final
    /// response logs it.
    mutating func message(_ m: ByteView, toServer: Bool, ntlmssp: (ByteView) -> [(String, JSONValue)]?, events: inout [AppEvent]) {
        guard let command = m.u16le(12), let status = m.u32le(8), let flags = m.u32le(16),
              let messageID = m.u64le(24) else { return }
        let body = m.suffix(from: 64) ?? .empty
        let asyncHeader = flags & 2 != 0
        let treeID = asyncHeader ? 0 : (m.u32le(36) ?? 0)
        let sessionID = m.u64le(40) ?? 0
        if flags & 1 == 0 {
            guard toServer else { return }
            request(command, messageID, body, m, sessionID: sessionID, treeID: treeID, ntlmssp: ntlmssp, events: &events)
            return
        }
        if absorbed.remove(messageID) != nil { return }
        if let t = fileReads[messageID], !(status == 0x103 && asyncHeader) {
            fileReads.removeValue(forKey: messageID)
            if status == 0 || status == 0x8000_0005, let data = SMB2Transactions.readData(body, m) {
                fileBytes(data, transaction: t, toServer: false, events: &events)
            }
            return
        }
        // An interim "pending" answer: the final one follows.
        if status == 0x103 && asyncHeader { return }
        if let fileID = pipeReads.removeValue(forKey: messageID) {
            pipeAnswer(command, fileID, body, m, status: status, sessionID: sessionID, treeID: treeID, events: &events)
            return
        }
        var tx: Pending
        if let t = pending.removeValue(forKey: messageID) {
            tx = t
        } else if command == 0, let n = smb1Negotiate {
            // The SMB2 answer to an SMB1 NEGOTIATE completes that transaction.
            smb1Negotiate = nil
            tx = Pending(id: n.id, command: 0, kind: .negotiate)
            tx.fields.append(("client_dialects", .array(n.dialects.map { .string($0) })))
            response(&tx, body, status: status, treeID: treeID)
            log(tx, command: "SMB1_COMMAND_NEGOTIATE_PROTOCOL", status: status, sessionID: sessionID, treeID: treeID, events: &events)
            return
        } else {
            // A response whose request was not seen (a capture begun mid-session) is a
            // transaction of its own, as Suricata makes it; a READ, WRITE, GET_INFO or
            // SET_INFO answer makes none.
            guard ![8, 9, 16, 17].contains(command) else { return }
            tx = Pending(id: nextID, command: command)
            nextID += 1
        }
        // A failed READ makes no transaction (the file's is made by its first good one).
        if tx.command == 8 && status != 0 && status != 0x8000_0005 {
            if let id = tx.fileID { fileTransactions.remove(id + [8]) }
            return
        }
        response(&tx, body, status: status, treeID: treeID)
        log(tx, command: SMB2Transactions.commandName(tx.command), status: status, sessionID: sessionID, treeID: treeID, events: &events)
        if tx.command == 8, let data = SMB2Transactions.readData(body, m) { fileBytes(data, transaction: tx.id, toServer: false, events: &events) }
    }

    /// The bytes a READ answer carries.
    static func readData(_ body: ByteView, _ m: ByteView) -> ByteView? {
        body.u8(2).flatMap { offset in body.u32le(4).flatMap { m.slice(Int(offset), Int($0)) ?? m.suffix(from: Int(offset)) } }
    }

    mutating func log(_ tx: Pending, command: String, status: UInt32?, sessionID: UInt64, treeID: UInt32, events: inout [AppEvent]) {
        var fields: [(String, JSONValue)] = [("id", .int(Int64(tx.id))), ("dialect", .string(dialect ?? "unknown")), ("command", .string(command))]
        if let status {
            fields.append(("status", .string(SMB2Transactions.statusName(status))))
            fields.append(("status_code", .string("0x" + String(status, radix: 16))))
        }
        fields.append(("session_id", .int(Int64(bitPattern: sessionID))))
        fields.append(("tree_id", .int(Int64(treeID))))
        fields += tx.fields
        var event = AppEvent(eventType: "smb", record: .object(fields), transactionID: tx.id - 1, buffers: [], toServer: true)
        event.kind = tx.kind.rawValue
        events.append(event)
    }

    mutating func request(_ command: UInt16, _ messageID: UInt64, _ body: ByteView, _ m: ByteView, sessionID: UInt64, treeID: UInt32,
                          ntlmssp: (ByteView) -> [(String, JSONValue)]?, events: inout [AppEvent]) {
        if pending.count >= SMB2Transactions.maxPending, let oldest = pending.min(by: { $0.value.id < $1.value.id })?.key {
            pending.removeValue(forKey: oldest)
        }
        let tree = trees[treeID]
        switch command {
        case 16:  // GET_INFO: no transaction
            remember(absorbed: messageID)
            return
        case 8:  // READ: a pipe's answer is looked at when it comes
            guard let id = body.slice(16, 16)?.toArray() else { break }
            if tree?.pipe == true {
                if pipeReads.count < SMB2Transactions.maxPending { pipeReads[messageID] = id }
                return
            }
            if fileTransactions.contains(id + [8]) {
                if fileData, let t = fileTransactionIDs[id + [8]], fileReads.count < SMB2Transactions.maxPending { fileReads[messageID] = t } else { remember(absorbed: messageID) }
                return
            }
            if fileTransactions.count < SMB2Transactions.maxFiles { fileTransactions.insert(id + [8]) }
            if fileTransactionIDs.count < SMB2Transactions.maxFiles { fileTransactionIDs[id + [8]] = nextID }
        case 9:  // WRITE: DCERPC on a DCERPC pipe, nothing on another pipe, else the file's
            guard let id = body.slice(16, 16)?.toArray() else { break }
            let data = body.u16le(2).flatMap { offset in body.u32le(4).flatMap { m.slice(Int(offset), Int($0)) ?? m.suffix(from: Int(offset)) } }
            if tree?.pipe == true || (tree == nil && data.flatMap(DCERPCCall.header) != nil) {
                if let data, tree == nil || isDCERPC(id) { dcerpcRequest(data, command: 9, sessionID: sessionID, treeID: treeID) }
                remember(absorbed: messageID)
                return
            }
            if fileTransactions.contains(id + [9]) {
                if let data, let t = fileTransactionIDs[id + [9]] { fileBytes(data, transaction: t, toServer: true, events: &events) }
                remember(absorbed: messageID)
                return
            }
            if fileTransactions.count < SMB2Transactions.maxFiles { fileTransactions.insert(id + [9]) }
            if fileTransactionIDs.count < SMB2Transactions.maxFiles { fileTransactionIDs[id + [9]] = nextID }
            if let data { fileBytes(data, transaction: nextID, toServer: true, events: &events) }
        case 11:  // IOCTL: a transceive on a DCERPC pipe is a call
            if body.u32le(4) == 0x0011_C017, let id = body.slice(8, 16)?.toArray(), isDCERPC(id),
               let offset = body.u32le(24), let count = body.u32le(28), let data = m.slice(Int(offset), Int(count)) {
                dcerpcRequest(data, command: 11, sessionID: sessionID, treeID: treeID)
                if pipeReads.count < SMB2Transactions.maxPending { pipeReads[messageID] = id }
                return
            }
        case 6:  // CLOSE: the file's READ and WRITE transactions end
            if let id = body.slice(8, 16)?.toArray() {
                fileTransactions.remove(id + [8])
                fileTransactions.remove(id + [9])
                fileTransactionIDs.removeValue(forKey: id + [8])
                fileTransactionIDs.removeValue(forKey: id + [9])
            }
        default:
            break
        }
        var tx = Pending(id: nextID, command: command)
        requestFields(&tx, body, m, ntlmssp: ntlmssp)
        // SET_INFO is a transaction only as a rename or a delete mark.
        if command == 17 && tx.kind == .generic { remember(absorbed: messageID); return }
        if command == 8 { tx.fields.append(("share", .string(tree?.name ?? ""))) }
        nextID += 1
        pending[messageID] = tx
    }

    mutating func requestFields(_ tx: inout Pending, _ body: ByteView, _ m: ByteView, ntlmssp: (ByteView) -> [(String, JSONValue)]?) {
        switch tx.command {
        case 0:  // NEGOTIATE: the dialects offered
            tx.kind = .negotiate
            guard let count = body.u16le(2) else { return }
            clientDialects = (0..<min(Int(count), 32)).compactMap { body.u16le(36 + 2 * $0).map(SMBParser.dialectName) }
        case 1:  // SESSION_SETUP: the NTLMSSP names in the security blob
            tx.kind = .session_setup
            if let offset = body.u16le(12), let length = body.u16le(14), let blob = m.slice(Int(offset), Int(length)), let n = ntlmssp(blob) {
                tx.fields.append(("ntlmssp", .object(n)))
            }
        case 3:  // TREE_CONNECT: the path
            tx.kind = .tree_connect
            if let offset = body.u16le(4), let length = body.u16le(6), let path = m.slice(Int(offset), Int(length)) {
                tx.fields.append(("share", .string(SMB2Transactions.utf16(path))))
            }
        case 5:  // CREATE: name (or directory), disposition, delete-on-close
            tx.kind = .create
            if let disposition = body.u32le(36), let options = body.u32le(40),
               let offset = body.u16le(44), let length = body.u16le(46) {
                let name = length == 0 ? "" : m.slice(Int(offset), Int(length)).map(SMB2Transactions.utf16) ?? ""
                lastCreateName = name
                tx.fields.append((options & 1 != 0 && !name.isEmpty ? "directory" : "filename", .string(name.isEmpty ? "<share_root>" : name)))
                tx.fields.append(("disposition", .string(Int(disposition) < SMB2Transactions.dispositions.count ? SMB2Transactions.dispositions[Int(disposition)] : "UNKNOWN")))
                tx.fields.append(("access", .string(options & 0x1000 != 0 ? "delete on close" : "normal")))
            }
        case 8, 9:  // READ, WRITE: the file by its id
            tx.kind = .file
            if let id = body.slice(16, 16) { tx.fileID = id.toArray() }
        case 11:
            tx.kind = .ioctl
        case 17:  // SET_INFO: a rename, or the file marked for deletion (or not)
            guard let id = body.slice(16, 16), body.u8(2) == 1, let offset = body.u16le(8), let length = body.u32le(4),
                  let buffer = m.slice(Int(offset), Int(length)) else { return }
            let fuid = id.toArray()
            let name = fuid.allSatisfy { $0 == 0xFF } ? lastCreateName : files[fuid] ?? "<unknown>"
            switch body.u8(3) {
            case 10:  // FileRenameInformation: the new name at 20, its length at 16
                if let n = buffer.u32le(16), let to = buffer.slice(20, Int(n)) {
                    tx.kind = .rename
                    tx.fields.append(("set_info", .object([("class", .string("FILE_INFO")), ("info_level", .string("SMB2_FILE_RENAME_INFO"))])))
                    tx.fields.append(("rename", .object([("from", .string(name)), ("to", .string(SMB2Transactions.utf16(to)))])))
                    tx.fields.append(("fuid", .string(SMB2Transactions.guid(fuid))))
                }
            case 13:  // FileDispositionInformation
                guard let delete = buffer.u8(0) else { return }
                tx.kind = .set_file_path_info
                tx.fields.append(("filename", .string(name.isEmpty ? "<share_root>" : name)))
                tx.fields.append(("access", .string(delete != 0 ? "delete on close" : "normal")))
                tx.fields.append(("fuid", .string(SMB2Transactions.guid(fuid))))
            default: break
            }
        default:
            break
        }
    }

    mutating func response(_ tx: inout Pending, _ body: ByteView, status: UInt32, treeID: UInt32) {
        switch tx.command {
        case 0:
            if let v = body.u16le(4) {
                dialect = SMBParser.dialectName(v)
                if !clientDialects.isEmpty && tx.fields.isEmpty { tx.fields.append(("client_dialects", .array(clientDialects.map { .string($0) }))) }
                if let g = body.slice(8, 16) { tx.fields.append(("server_guid", .string(SMB2Transactions.guid(g.toArray())))) }
            }
        case 3:
            guard let i = tx.fields.firstIndex(where: { $0.0 == "share" }), case .string(let name) = tx.fields[i].1 else { return }
            let pipe = body.u8(2) == 2
            if pipe { tx.fields[i].0 = "named_pipe" }
            tx.fields.append(("share_type", .string(pipe ? "PIPE" : "FILE")))
            if status == 0, trees.count < SMB2Transactions.maxFiles { trees[treeID] = (name, pipe) }
        case 5:
            var times: [UInt64] = [0, 0, 0, 0, 0]
            var fuid: [UInt8] = []
            if status == 0, let created = body.u64le(8), let accessed = body.u64le(16), let modified = body.u64le(24),
               let changed = body.u64le(32), let size = body.u64le(48), let id = body.slice(64, 16) {
                times = [created, accessed, modified, changed, size]
                fuid = id.toArray()
            }
            for (k, name) in ["created", "accessed", "modified", "changed"].enumerated() {
                tx.fields.append((name, .int(times[k] == 0 ? 0 : SMB2Transactions.unixTime(times[k]))))
            }
            tx.fields.append(("size", .int(Int64(bitPattern: times[4]))))
            tx.fields.append(("fuid", .string(SMB2Transactions.guid(fuid))))
            if !fuid.isEmpty, let i = tx.fields.firstIndex(where: { $0.0 == "filename" || $0.0 == "directory" }), case .string(let name) = tx.fields[i].1,
               files.count < SMB2Transactions.maxFiles {
                files[fuid] = name
            }
        case 8, 9:
            guard let id = tx.fileID else { return }
            tx.fields.insert(("filename", .string(files[id] ?? (tx.command == 8 ? "<unknown>" : ""))), at: 0)
            if tx.command == 9 { tx.fields.append(("share", .string(""))) }
            tx.fields.append(("fuid", .string(SMB2Transactions.guid(id))))
        case 6:
            if let id = body.slice(8, 16) { files.removeValue(forKey: id.toArray()) }
        default:
            break
        }
    }

    /// The answer to a READ of a pipe or an IOCTL transceive: a DCERPC reply on a DCERPC
    /// pipe, nothing on another pipe; an asynchronous READ answer names no tree, and
    /// Suricata takes it for a file's.
    mutating func pipeAnswer(_ command: UInt16, _ fileID: [UInt8], _ body: ByteView, _ m: ByteView, status: UInt32, sessionID: UInt64, treeID: UInt32,
                             events: inout [AppEvent]) {
        guard status == 0 || status == 0x8000_0005 else { return }
        let data: ByteView?
        if command == 8 {
            data = SMB2Transactions.readData(body, m)
        } else {
            data = body.u32le(32).flatMap { offset in body.u32le(36).flatMap { m.slice(Int(offset), Int($0)) } }
        }
        let tree = trees[treeID]
        if command == 11 || tree?.pipe == true {
            if let data, isDCERPC(fileID) { dcerpcAnswer(data, command: command, status: status, sessionID: sessionID, treeID: treeID, events: &events) }
            return
        }
        if let data, DCERPCCall.header(data) != nil {
            dcerpcAnswer(data, command: command, status: status, sessionID: sessionID, treeID: treeID, events: &events)
            return
        }
        guard !fileTransactions.contains(fileID + [8]) else { return }
        if fileTransactions.count < SMB2Transactions.maxFiles { fileTransactions.insert(fileID + [8]) }
        var tx = Pending(id: nextID, command: 8, kind: .file, fileID: fileID)
        nextID += 1
        tx.fields.append(("share", .string(tree?.name ?? "")))
        response(&tx, body, status: status, treeID: treeID)
        log(tx, command: SMB2Transactions.commandName(8), status: status, sessionID: sessionID, treeID: treeID, events: &events)
        if let data { fileBytes(data, transaction: tx.id, toServer: false, events: &events) }
    }

    /// A DCERPC PDU sent on a pipe: a new call, or the next fragment of a request.
    mutating func dcerpcRequest(_ data: ByteView, command: UInt16, sessionID: UInt64, treeID: UInt32) {
        guard let h = DCERPCCall.header(data) else { return }
        if h.type == DCERPCCall.requestType && !h.firstFragment {
            if let i = calls.lastIndex(where: { $0.callID == h.callID && $0.sessionID == sessionID }) {
                calls[i].requestFragments += 1
                calls[i].requestStub += DCERPCCall.stubSize(data, h, at: 24)
            }
            return
        }
        var call = DCERPCCall(id: nextID, command: command, sessionID: sessionID, treeID: treeID, callID: h.callID, request: h.type)
        nextID += 1
        if h.type == DCERPCCall.requestType {
            call.contextID = (h.littleEndian ? data.u16le(20) : data.u16(20)) ?? 0
            call.opnum = (h.littleEndian ? data.u16le(22) : data.u16(22)) ?? 0
            call.requestFragments = 1
            call.requestStub = DCERPCCall.stubSize(data, h, at: 24)
        } else if h.type == DCERPCCall.bind {
            let offered = DCERPCCall.interfaces(ofBind: data, h)
            if !offered.isEmpty { interfaces = offered }
        }
        if calls.count >= SMB2Transactions.maxPending { calls.removeFirst() }
        calls.append(call)
    }

    /// A DCERPC PDU answered on a pipe: completes its call (a call is made for an answer
    /// whose request was not seen).
    mutating func dcerpcAnswer(_ data: ByteView, command: UInt16, status: UInt32, sessionID: UInt64, treeID: UInt32, events: inout [AppEvent]) {
        guard let h = DCERPCCall.header(data) else { return }
        let index = calls.firstIndex(where: { $0.callID == h.callID && $0.sessionID == sessionID })
        if h.type == DCERPCCall.bindAck {
            guard let i = index else { return }
            for (k, r) in DCERPCCall.results(ofBindAck: data, h).enumerated() where k < interfaces.count {
                interfaces[k].ackResult = r.0
                interfaces[k].ackReason = r.1
            }
            var call = calls.remove(at: i)
            call.response = h.type
            call.status = status
            log(call, events: &events)
            return
        }
        var call: DCERPCCall
        if let i = index {
            call = calls.remove(at: i)
        } else {
            call = DCERPCCall(id: nextID, command: command, sessionID: sessionID, treeID: treeID, callID: h.callID, request: nil)
            nextID += 1
        }
        call.status = status
        call.response = h.type
        if h.type == DCERPCCall.responseType {
            call.responseFragments += 1
            call.responseStub += DCERPCCall.stubSize(data, h, at: 24)
            if !h.lastFragment {
                calls.append(call)
                return
            }
        }
        log(call, events: &events)
    }

    mutating func log(_ call: DCERPCCall, events: inout [AppEvent]) {
        var tx = Pending(id: call.id, command: call.command, kind: .dcerpc)
        tx.fields.append(("dcerpc", call.object(interfaces)))
        log(tx, command: SMB2Transactions.commandName(call.command), status: call.status, sessionID: call.sessionID, treeID: call.treeID, events: &events)
    }

    /// At the flow's end: the calls never answered.
    mutating func flush(_ events: inout [AppEvent]) {
        for call in calls { log(call, events: &events) }
        calls = []
    }

    static let smb1Commands: [UInt8: String] = [
        0x00: "CREATE_DIRECTORY", 0x01: "DELETE_DIRECTORY", 0x02: "OPEN", 0x03: "CREATE", 0x04: "CLOSE", 0x05: "FLUSH", 0x06: "DELETE",
        0x07: "RENAME", 0x08: "QUERY_INFORMATION", 0x09: "SET_INFORMATION", 0x0A: "READ", 0x0B: "WRITE", 0x0C: "LOCK_BYTE_RANGE",
        0x0D: "UNLOCK_BYTE_RANGE", 0x0E: "CREATE_TEMPORARY", 0x0F: "CREATE_NEW", 0x10: "CHECK_DIRECTORY", 0x11: "PROCESS_EXIT",
        0x12: "SEEK", 0x13: "LOCK_AND_READ", 0x14: "WRITE_AND_UNLOCK", 0x1A: "READ_RAW", 0x1D: "WRITE_RAW", 0x22: "SET_INFORMATION2",
        0x23: "QUERY_INFORMATION2", 0x24: "LOCKING_ANDX", 0x25: "TRANS", 0x26: "TRANS_SECONDARY", 0x27: "IOCTL", 0x28: "IOCTL_SECONDARY",
        0x29: "COPY", 0x2A: "MOVE", 0x2B: "ECHO", 0x2C: "WRITE_AND_CLOSE", 0x2D: "OPEN_ANDX", 0x2E: "READ_ANDX", 0x2F: "WRITE_ANDX",
        0x30: "NEW_FILE_SIZE", 0x31: "CLOSE_AND_TREE_DISC", 0x32: "TRANS2", 0x33: "TRANS2_SECONDARY", 0x34: "FIND_CLOSE2",
        0x35: "FIND_NOTIFY_CLOSE", 0x70: "TREE_CONNECT", 0x71: "TREE_DISCONNECT", 0x72: "NEGOTIATE_PROTOCOL", 0x73: "SESSION_SETUP_ANDX",
        0x74: "LOGOFF_ANDX", 0x75: "TREE_CONNECT_ANDX", 0x7E: "SECURITY_PACKAGE_ANDX", 0x80: "QUERY_INFO_DISK", 0x81: "SEARCH",
        0x82: "FIND", 0x83: "FIND_UNIQUE", 0x84: "FIND_CLOSE", 0xA0: "NT_TRANS", 0xA1: "NT_TRANS_SECONDARY", 0xA2: "NT_CREATE_ANDX",
        0xA4: "NT_CANCEL", 0xA5: "NT_RENAME", 0xC0: "OPEN_PRINT_FILE", 0xC1: "WRITE_PRINT_FILE", 0xC2: "CLOSE_PRINT_FILE",
        0xC3: "GET_PRINT_QUEUE", 0xD8: "READ_BULK", 0xD9: "WRITE_BULK", 0xDA: "WRITE_BULK_DATA", 0xFE: "INVALID", 0xFF: "NONE",
    ]

    /// One SMB1 message other than NEGOTIATE: a request opens a generic transaction (file
    /// reads and writes and the TRANS family make none here), its answer logs it.
    mutating func smb1Message(_ m: ByteView, toServer: Bool, dialect smb1Dialect: String?, events: inout [AppEvent]) {
        guard let command = m.u8(4), let status = m.u32le(5), let flags = m.u8(9), let flags2 = m.u16le(10),
              let treeID = m.u16le(24), let userID = m.u16le(28), let multiplexID = m.u16le(30) else { return }
        if flags & 0x80 == 0 {
            guard toServer else { return }
            if fileData { smb1Writes(m, command: command, events: &events) }
            guard ![0x2E, 0x2F, 0x25, 0x32].contains(command) else { return }
            if pending1.count >= SMB2Transactions.maxPending, let oldest = pending1.min(by: { $0.value.id < $1.value.id })?.key {
                pending1.removeValue(forKey: oldest)
            }
            var tx = Pending(id: nextID, command: UInt16(command))
            // SESSION_SETUP_ANDX: the NTLMSSP names of its security blob.
            if command == 0x73, let words = m.suffix(from: 33), let n = SMBParser.ntlmssp(words) {
                tx.kind = .session_setup
                tx.fields.append(("ntlmssp", .object(n)))
            }
            pending1[multiplexID] = tx
            nextID += 1
            return
        }
        if let name = createNames1.removeValue(forKey: multiplexID) {
            // The NT_CREATE_ANDX answer (first in its chain or after an AndX): its FID.
            var c = command, at = 32
            for _ in 0..<8 {
                if c == 0xA2, let fid = m.u16le(at + 6), fileNames1.count < SMB2Transactions.maxFiles { fileNames1[fid] = name; break }
                guard [0x24, 0x2D, 0x2E, 0x2F, 0x73, 0x74, 0x75, 0xA2].contains(c), let next = m.u8(at + 1), next != 0xFF,
                      let offset = m.u16le(at + 3), Int(offset) > at else { break }
                c = next
                at = Int(offset)
            }
        }
        guard let tx = pending1.removeValue(forKey: multiplexID), tx.command == UInt16(command) else { return }
        var fields: [(String, JSONValue)] = [("id", .int(Int64(tx.id))), ("dialect", .string(smb1Dialect ?? dialect ?? "unknown")),
                                             ("command", .string("SMB1_COMMAND_" + (SMB2Transactions.smb1Commands[command] ?? "UNKNOWN")))]
        if flags2 & 0x4000 != 0 || status == 0 {
            fields.append(("status", .string(SMB2Transactions.statusName(status))))
            fields.append(("status_code", .string("0x" + String(status, radix: 16))))
        } else {
            let errorClass = UInt8(status & 0xFF), code = UInt16(status >> 16)
            fields.append(("status", .string("UNKNOWN_" + String(errorClass, radix: 16) + "_" + String(code, radix: 16))))
            fields.append(("status_code", .string("0x" + String(code, radix: 16))))
        }
        fields.append(("session_id", .int(Int64(userID))))
        fields.append(("tree_id", .int(Int64(treeID))))
        fields += tx.fields
        var event = AppEvent(eventType: "smb", record: .object(fields), transactionID: tx.id - 1, buffers: [], toServer: true)
        event.kind = tx.kind.rawValue
        events.append(event)
    }

    /// The bytes of the WRITE_ANDX in an SMB1 request's AndX chain, as `file.data` of the
    /// file's transaction.
    mutating func smb1Writes(_ m: ByteView, command first: UInt8, events: inout [AppEvent]) {
        let andX: Set<UInt8> = [0x24, 0x2D, 0x2E, 0x2F, 0x73, 0x74, 0x75, 0xA2]
        var command = first
        var at = 32
        for _ in 0..<8 {
            if command == 0xA2, let words = m.u8(at), words >= 24, let nameLength = m.u16le(at + 6), let flags2 = m.u16le(10),
               let multiplexID = m.u16le(30) {
                // NT_CREATE_ANDX: the file name after the byte count (Unicode: aligned to 2).
                var nameAt = at + 1 + Int(words) * 2 + 2
                let unicode = flags2 & 0x8000 != 0
                if unicode && nameAt % 2 == 1 { nameAt += 1 }
                if let raw = m.slice(nameAt, Int(nameLength)) ?? m.suffix(from: nameAt).map({ $0.prefix(Int(nameLength)) }) {
                    var name = unicode ? SMB2Transactions.utf16(raw) : String(decoding: raw.toArray(), as: UTF8.self)
                    while name.hasSuffix("\u{0}") { name.removeLast() }
                    if createNames1.count < SMB2Transactions.maxPending { createNames1[multiplexID] = name }
                }
            }
            if command == 0x2F, let words = m.u8(at), words >= 12, let fid = m.u16le(at + 5), let high = m.u16le(at + 19),
               let low = m.u16le(at + 21), let offset = m.u16le(at + 23),
               let data = m.slice(Int(offset), Int(high) << 16 | Int(low)) ?? m.suffix(from: Int(offset)) {
                let t = fileTransaction([UInt8(fid & 0xFF), UInt8(fid >> 8), 0x2F])
                fileBytes(data, transaction: t, toServer: true, name: fileNames1[fid], events: &events)
            }
            guard andX.contains(command), let next = m.u8(at + 1), next != 0xFF, let offset = m.u16le(at + 3), Int(offset) > at else { return }
            command = next
            at = Int(offset)
        }
    }
}

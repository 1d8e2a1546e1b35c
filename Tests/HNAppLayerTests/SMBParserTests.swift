import Testing
@testable import HNAppLayer
@testable import HNDecode

@Suite struct SMBParserTests {
    /// An SMB2 message in its NetBIOS frame: command, message id, response flag, status,
    /// tree id, then the body.
    static func frame(_ command: UInt16, id: UInt8, response: Bool = false, status: UInt32 = 0, tree: UInt8 = 0, _ body: [UInt8]) -> [UInt8] {
        var header = [UInt8](repeating: 0, count: 64)
        header[0] = 0xFE; header[1] = 0x53; header[2] = 0x4D; header[3] = 0x42
        header[4] = 64
        header[8] = UInt8(status & 0xFF); header[9] = UInt8(status >> 8 & 0xFF); header[10] = UInt8(status >> 16 & 0xFF); header[11] = UInt8(status >> 24)
        header[12] = UInt8(command)
        if response { header[16] = 1 }
        header[24] = id
        header[36] = tree
        let message = header + body
        return [0, 0, UInt8(message.count >> 8), UInt8(message.count & 0xFF)] + message
    }

    static func utf16(_ s: String) -> [UInt8] { s.utf16.flatMap { [UInt8($0 & 0xFF), UInt8($0 >> 8)] } }

    func records(_ p: SMBParser, _ frames: [([UInt8], Bool)]) -> [JSONValue] {
        var events: [AppEvent] = []
        for (f, toServer) in frames { f.withUnsafeBytes { p.receive(ByteView($0), toServer: toServer, events: &events) } }
        p.flush(&events)
        return events.compactMap(\.record)
    }

    @Test func eachRequestAndItsResponseIsATransaction() throws {
        // NEGOTIATE offering 2.02 and 3.11 (dialects at body offset 36), answered with 3.11.
        var negotiate = [UInt8](repeating: 0, count: 36)
        negotiate[0] = 36; negotiate[2] = 2
        negotiate += [0x02, 0x02, 0x11, 0x03]
        let request = SMBParserTests.frame(0, id: 1, negotiate)
        request.withUnsafeBytes { #expect(SMBParser.looksLikeSMB(ByteView($0))) }
        let answer = SMBParserTests.frame(0, id: 1, response: true, [65, 0, 0, 0, 0x11, 0x03] + [UInt8](repeating: 0, count: 58))
        // TREE_CONNECT to IPC$ (path at offset 64 + 8 from the header), answered as a pipe.
        let path = SMBParserTests.utf16("\\\\dc1\\IPC$")
        let tree = SMBParserTests.frame(3, id: 2, [9, 0, 0, 0, 72, 0, UInt8(path.count), 0] + path)
        let treeAnswer = SMBParserTests.frame(3, id: 2, response: true, tree: 7, [16, 0, 2, 0] + [UInt8](repeating: 0, count: 12))
        // A refused CREATE, marked delete-on-close (options at 40, name at 120 from the header).
        let name = SMBParserTests.utf16("PSEXESVC.exe")
        var create = [UInt8](repeating: 0, count: 56)
        create[0] = 57; create[36] = 5; create[41] = 0x10; create[44] = 120; create[46] = UInt8(name.count)
        let createFrame = SMBParserTests.frame(5, id: 3, tree: 7, create + name)
        let refused = SMBParserTests.frame(5, id: 3, response: true, status: 0xC000_0022, tree: 7, [9, 0, 0, 0, 0, 0, 0, 0])
        let logs = records(SMBParser(), [(request, true), (answer, false), (tree, true), (treeAnswer, false), (createFrame, true), (refused, false)])
        #expect(logs.count == 3)
        guard case .string(let command)? = logs[0]["command"], case .string(let dialect)? = logs[0]["dialect"],
              case .array(let offered)? = logs[0]["client_dialects"], case .string(let pipe)? = logs[1]["named_pipe"],
              case .int(let treeID)? = logs[1]["tree_id"], case .string(let access)? = logs[2]["access"],
              case .string(let disposition)? = logs[2]["disposition"], case .string(let status)? = logs[2]["status"],
              case .string(let file)? = logs[2]["filename"] else { Issue.record("\(logs)"); return }
        #expect(command == "SMB2_COMMAND_NEGOTIATE_PROTOCOL" && dialect == "3.11" && offered.count == 2)
        #expect(pipe == "\\\\dc1\\IPC$" && treeID == 7)
        #expect(access == "delete on close" && disposition == "FILE_OVERWRITE_IF" && status == "STATUS_ACCESS_DENIED" && file == "PSEXESVC.exe")
    }

    @Test func aFilesReadsAndWritesAreOneTransactionEach() {
        let fuid = [UInt8](repeating: 0, count: 8) + [9, 0, 0, 0, 0xFF, 0xFF, 0xFF, 0xFF]
        var frames: [([UInt8], Bool)] = []
        for id in 1...3 {
            let write = [UInt8]([49, 0, 112, 0, 4, 0, 0, 0]) + [UInt8](repeating: 0, count: 8) + fuid + [UInt8](repeating: 0, count: 16) + [1, 2, 3, 4]
            frames.append((SMBParserTests.frame(9, id: UInt8(id), write), true))
            frames.append((SMBParserTests.frame(9, id: UInt8(id), response: true, [17, 0, 0, 0, 4, 0, 0, 0] + [UInt8](repeating: 0, count: 8)), false))
        }
        let logs = records(SMBParser(), frames)
        #expect(logs.count == 1)
        guard case .string(let id)? = logs.first?["fuid"] else { Issue.record("fuid"); return }
        #expect(id == "00000000-0000-0000-0009-0000ffffffff")
    }

    @Test func oversizedMessagesAreSkippedNotBuffered() {
        let p = SMBParser()
        var events: [AppEvent] = []
        let frame: [UInt8] = [0, 0x20, 0, 0] + [UInt8](repeating: 0, count: 1000)  // claims 2 MiB
        feed([frame]) { p.receive($0, toServer: true, events: &events) }
        #expect(p.buffers[0].isEmpty)
        #expect(p.skip[0] > 0)
    }
}

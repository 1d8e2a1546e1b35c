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

    /// TREE_CONNECT to a pipe share (tree 7) and CREATE of `name` there, answered with file id 9.
    static func openPipe(_ name: String, fuid: [UInt8]) -> [([UInt8], Bool)] {
        let path = utf16("\\\\dc1\\IPC$")
        let tree = frame(3, id: 1, [9, 0, 0, 0, 72, 0, UInt8(path.count), 0] + path)
        let treeAnswer = frame(3, id: 1, response: true, tree: 7, [16, 0, 2, 0] + [UInt8](repeating: 0, count: 12))
        let encoded = utf16(name)
        var create = [UInt8](repeating: 0, count: 56)
        create[0] = 57; create[36] = 1; create[44] = 120; create[46] = UInt8(encoded.count)
        let createAnswer = frame(5, id: 2, response: true, tree: 7, [89, 0] + [UInt8](repeating: 0, count: 62) + fuid + [UInt8](repeating: 0, count: 8))
        return [(tree, true), (treeAnswer, false), (frame(5, id: 2, tree: 7, create + encoded), true), (createAnswer, false)]
    }

    /// A WRITE of `data` to the file, and a READ answered with `answer`.
    static func writeThenRead(_ fuid: [UInt8], _ data: [UInt8], _ answer: [UInt8], ids: (UInt8, UInt8)) -> [([UInt8], Bool)] {
        let write = [UInt8]([49, 0, 112, 0, UInt8(data.count), 0, 0, 0]) + [UInt8](repeating: 0, count: 8) + fuid + [UInt8](repeating: 0, count: 16) + data
        let read = [UInt8]([49, 0, 0, 0, 0, 16, 0, 0]) + [UInt8](repeating: 0, count: 8) + fuid + [UInt8](repeating: 0, count: 17)
        return [(frame(9, id: ids.0, tree: 7, write), true),
                (frame(9, id: ids.0, response: true, tree: 7, [17, 0, 0, 0, UInt8(data.count), 0, 0, 0] + [UInt8](repeating: 0, count: 8)), false),
                (frame(8, id: ids.1, tree: 7, read), true),
                (frame(8, id: ids.1, response: true, tree: 7, [17, 0, 80, 0, UInt8(answer.count), 0, 0, 0] + [UInt8](repeating: 0, count: 8) + answer), false)]
    }

    /// A DCERPC PDU: type, call id, then its body after the 16-byte header.
    static func pdu(_ type: UInt8, call: UInt8, _ body: [UInt8]) -> [UInt8] {
        let length = 16 + body.count
        return [5, 0, type, 3, 0x10, 0, 0, 0, UInt8(length), 0, 0, 0, call, 0, 0, 0] + body
    }

    @Test func aBindOnADCERPCPipeIsOneCallAnsweredByTheRead() {
        let fuid = [UInt8](repeating: 0, count: 8) + [1, 0, 0, 0, 0, 0, 0, 0]
        // BIND offering one interface (context 0, svcctl's UUID, version 2.0, one transfer syntax).
        let uuid: [UInt8] = [0x81, 0xBB, 0x7A, 0x36, 0x44, 0x98, 0xF1, 0x35, 0xAD, 0x32, 0x98, 0xF0, 0x38, 0x00, 0x10, 0x03]
        let bind = SMBParserTests.pdu(11, call: 2, [0xB8, 0x10, 0xB8, 0x10, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 1, 0] + uuid + [2, 0, 0, 0]
                                      + [UInt8](repeating: 0, count: 20))
        // BINDACK: no secondary address (length 0, padded to 28), one result: accepted.
        let ack = SMBParserTests.pdu(12, call: 2, [0xB8, 0x10, 0xB8, 0x10, 1, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0]
                                     + [UInt8](repeating: 0, count: 20))
        let frames = SMBParserTests.openPipe("svcctl", fuid: fuid) + SMBParserTests.writeThenRead(fuid, bind, ack, ids: (3, 4))
        let logs = records(SMBParser(), frames)
        #expect(logs.count == 3)  // tree connect, create, the call
        guard let call = logs.last, case .object(let rpc)? = call["dcerpc"], case .string(let command)? = call["command"] else {
            Issue.record("\(logs)"); return
        }
        let fields = Dictionary(rpc, uniquingKeysWith: { a, _ in a })
        #expect(command == "SMB2_COMMAND_WRITE")
        #expect(fields["request"] == .string("BIND") && fields["response"] == .string("BINDACK") && fields["call_id"] == .int(2))
        guard case .array(let interfaces)? = fields["interfaces"], case .object(let first)? = interfaces.first else { Issue.record("\(rpc)"); return }
        let i = Dictionary(first, uniquingKeysWith: { a, _ in a })
        #expect(i["uuid"] == .string("367abb81-9844-35f1-ad32-98f038001003") && i["version"] == .string("2.0") && i["ack_result"] == .int(0))
    }

    @Test func anotherPipesReadsAndWritesAndGetInfoMakeNoTransaction() {
        let fuid = [UInt8](repeating: 0, count: 8) + [2, 0, 0, 0, 0, 0, 0, 0]
        var frames = SMBParserTests.openPipe("PSEXESVC", fuid: fuid) + SMBParserTests.writeThenRead(fuid, [1, 2, 3, 4], [5, 6, 7, 8], ids: (3, 4))
        frames.append((SMBParserTests.frame(16, id: 5, tree: 7, [41, 0, 1, 5] + [UInt8](repeating: 0, count: 36)), true))
        frames.append((SMBParserTests.frame(16, id: 5, response: true, tree: 7, [9, 0, 0, 0, 0, 0, 0, 0]), false))
        let logs = records(SMBParser(), frames)
        #expect(logs.map { $0["command"] } == [.string("SMB2_COMMAND_TREE_CONNECT"), .string("SMB2_COMMAND_CREATE")])
    }

    @Test func anSMB1NegotiateAnsweredInSMB2IsOneTransaction() {
        // SMB1 NEGOTIATE offering "NT LM 0.12" and "SMB 2.002" (word count 0, then the byte count).
        let names: [UInt8] = [2] + Array("NT LM 0.12".utf8) + [0, 2] + Array("SMB 2.002".utf8) + [0]
        var smb1 = [UInt8](repeating: 0, count: 32)
        smb1[0] = 0xFF; smb1[1] = 0x53; smb1[2] = 0x4D; smb1[3] = 0x42; smb1[4] = 0x72
        smb1 += [0, UInt8(names.count), 0] + names
        let request = [0, 0, 0, UInt8(smb1.count)] + smb1
        let answer = SMBParserTests.frame(0, id: 0, response: true, [65, 0, 0, 0, 0xFF, 0x02] + [UInt8](repeating: 0, count: 58))
        let logs = records(SMBParser(), [(request, true), (answer, false)])
        #expect(logs.count == 1)
        #expect(logs.first?["command"] == .string("SMB1_COMMAND_NEGOTIATE_PROTOCOL"))
        #expect(logs.first?["client_dialects"] == .array([.string("NT LM 0.12"), .string("SMB 2.002")]))
        #expect(logs.first?["dialect"] == .string("2.??") && logs.first?["id"] == .int(1))
    }

    @Test func anSMB1WriteAndXHandsItsBytesToDetectionAsFileData() {
        // WRITE_ANDX (word count 14) to FID 0x4000, its 4 bytes at offset 64 from the header.
        var smb1 = [UInt8](repeating: 0, count: 32)
        smb1[0] = 0xFF; smb1[1] = 0x53; smb1[2] = 0x4D; smb1[3] = 0x42; smb1[4] = 0x2F
        var words = [UInt8](repeating: 0, count: 28)
        words[0] = 0xFF; words[4] = 0x00; words[5] = 0x40; words[20] = 4; words[22] = 64
        smb1 += [14] + words + [5, 0, 0] + [0x58, 0x35, 0x4F, 0x21]
        let p = SMBParser()
        var events: [AppEvent] = []
        ([0, 0, 0, UInt8(smb1.count)] + smb1).withUnsafeBytes { p.receive(ByteView($0), toServer: true, events: &events) }
        #expect(events.count == 1 && events.first?.record == nil)
        #expect(events.first?.buffers.view(.fileData)?.toArray() == [0x58, 0x35, 0x4F, 0x21])
        // Without a rule on file.data, the bytes are not copied.
        var none: [AppEvent] = []
        ([0, 0, 0, UInt8(smb1.count)] + smb1).withUnsafeBytes { SMBParser(fileData: false).receive(ByteView($0), toServer: true, events: &none) }
        #expect(none.isEmpty)
    }

    @Test func anSMB1FileCreatedByNameNamesTheFileOfItsWrites() {
        func smb1(_ command: UInt8, reply: Bool, mid: UInt8, _ body: [UInt8]) -> [UInt8] {
            var h = [UInt8](repeating: 0, count: 32)
            h[0] = 0xFF; h[1] = 0x53; h[2] = 0x4D; h[3] = 0x42; h[4] = command
            if reply { h[9] = 0x80 }
            h[30] = mid
            let m = h + body
            return [0, 0, 0, UInt8(m.count)] + m
        }
        // NT_CREATE_ANDX (ASCII name "\\eicar", length 7) and its answer with FID 0x4000.
        var create = [UInt8](repeating: 0, count: 48)
        create[0] = 0xFF; create[5] = 7
        let request = smb1(0xA2, reply: false, mid: 1, [24] + create + [7, 0] + Array("\\eicar".utf8))
        var answer = [UInt8](repeating: 0, count: 68)
        answer[0] = 0xFF; answer[5] = 0x00; answer[6] = 0x40
        let reply = smb1(0xA2, reply: true, mid: 1, [34] + answer + [0, 0])
        var words = [UInt8](repeating: 0, count: 28)
        words[0] = 0xFF; words[4] = 0x00; words[5] = 0x40; words[20] = 4; words[22] = 64
        let write = smb1(0x2F, reply: false, mid: 2, [14] + words + [5, 0, 0] + [0x58, 0x35, 0x4F, 0x21])
        let p = SMBParser()
        var events: [AppEvent] = []
        for (frame, toServer) in [(request, true), (reply, false), (write, true)] {
            frame.withUnsafeBytes { p.receive(ByteView($0), toServer: toServer, events: &events) }
        }
        let file = events.last { $0.buffers.view(.fileData) != nil }
        guard case .array(let files)? = file?.alertObjects.first?.1 else { Issue.record("no files object"); return }
        #expect(files.first?["filename"] == .string("\\eicar"))
    }
}

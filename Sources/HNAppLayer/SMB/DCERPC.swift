import HNDecode

/// DCERPC carried over SMB named pipes (a WRITE or an IOCTL transceive asks, a READ or the
/// IOCTL's answer replies): one call per request and call id, logged as Suricata logs it in
/// the `smb` record's `dcerpc` object (request and response types, opnum, fragment counts and
/// stub sizes, the bound interfaces, call id).
struct DCERPCCall {
    /// The SMB transaction this call is (`id`, command, session and tree).
    var id: Int
    var command: UInt16
    var sessionID: UInt64
    var treeID: UInt32
    var callID: UInt32
    var request: UInt8?
    var response: UInt8? = nil
    var status: UInt32? = nil
    var opnum: UInt16 = 0
    var contextID: UInt16 = 0
    var requestFragments = 0
    var requestStub = 0
    var responseFragments = 0
    var responseStub = 0
    /// The request's last fragment was seen (a fragmented request waits for the rest).
    var requestDone = false

    /// One interface of a BIND, with the BINDACK's answer once seen.
    struct Interface {
        var contextID: UInt16
        var uuid: String
        var version: String
        var ackResult: UInt16? = nil
        var ackReason: UInt16 = 0
    }

    /// A PDU's common header (16 bytes): type, flags, call id, fragment length; nil when the
    /// bytes are not DCERPC version 5.0.
    struct Header {
        var type: UInt8
        var firstFragment: Bool
        var lastFragment: Bool
        var littleEndian: Bool
        var fragmentLength: Int
        var callID: UInt32
    }

    static func header(_ d: ByteView) -> Header? {
        guard d.u8(0) == 5, d.u8(1) == 0, let type = d.u8(2), type <= 20, let flags = d.u8(3), let rep = d.u8(4) else { return nil }
        let little = rep & 0x10 != 0
        guard let length = little ? d.u16le(8) : d.u16(8), let call = little ? d.u32le(12) : d.u32(12) else { return nil }
        return Header(type: type, firstFragment: flags & 1 != 0, lastFragment: flags & 2 != 0, littleEndian: little,
                      fragmentLength: Int(length), callID: call)
    }

    static let typeNames = ["REQUEST", "PING", "RESPONSE", "FAULT", "WORKING", "NOCALL", "REJECT", "ACK", "CL_CANCEL", "FACK", "CANCEL_ACK",
                            "BIND", "BINDACK", "BINDNAK", "ALTER_CONTEXT", "ALTER_CONTEXT_RESP", "AUTH3", "SHUTDOWN", "CO_CANCEL", "ORPHANED", "RTS"]
    static func typeName(_ t: UInt8) -> String { Int(t) < typeNames.count ? typeNames[Int(t)] : "UNKNOWN" }

    static let bind: UInt8 = 11, bindAck: UInt8 = 12, requestType: UInt8 = 0, responseType: UInt8 = 2

    /// The bytes of a stub in a PDU of `fragmentLength` whose fixed part ends at `at`.
    static func stubSize(_ d: ByteView, _ h: Header, at: Int) -> Int { max(0, min(h.fragmentLength, d.count) - at) }

    /// The interfaces a BIND offers (context id, UUID, version).
    static func interfaces(ofBind d: ByteView, _ h: Header) -> [Interface] {
        guard let count = d.u8(24) else { return [] }
        var out: [Interface] = []
        var at = 28
        for _ in 0..<min(Int(count), 64) {
            guard let context = h.littleEndian ? d.u16le(at) : d.u16(at), let syntaxes = d.u8(at + 2),
                  let raw = d.slice(at + 4, 16), let major = h.littleEndian ? d.u16le(at + 20) : d.u16(at + 20),
                  let minor = h.littleEndian ? d.u16le(at + 22) : d.u16(at + 22) else { break }
            out.append(Interface(contextID: context, uuid: uuid(raw.toArray(), littleEndian: h.littleEndian), version: "\(major).\(minor)"))
            at += 24 + 20 * Int(syntaxes)
        }
        return out
    }

    /// A BINDACK's results, in the order of the BIND's interfaces.
    static func results(ofBindAck d: ByteView, _ h: Header) -> [(UInt16, UInt16)] {
        guard let addressLength = h.littleEndian ? d.u16le(24) : d.u16(24) else { return [] }
        var at = 26 + Int(addressLength)
        at = (at + 3) & ~3
        guard let count = d.u8(at) else { return [] }
        at += 4
        var out: [(UInt16, UInt16)] = []
        for _ in 0..<min(Int(count), 64) {
            guard let result = h.littleEndian ? d.u16le(at) : d.u16(at), let reason = h.littleEndian ? d.u16le(at + 2) : d.u16(at + 2) else { break }
            out.append((result, reason))
            at += 24
        }
        return out
    }

    /// A UUID in its usual text form (the first three fields in the PDU's byte order).
    static func uuid(_ b: [UInt8], littleEndian: Bool) -> String {
        ASCIIText.guid(b, order: littleEndian ? [3, 2, 1, 0, 5, 4, 7, 6, 8, 9, 10, 11, 12, 13, 14, 15] : Array(0..<16))
    }

    /// The `dcerpc` object, with the interfaces bound on the session.
    func object(_ interfaces: [Interface]) -> JSONValue {
        var fields: [(String, JSONValue)] = [("request", .string(request.map(DCERPCCall.typeName) ?? "REQUEST_LOST")),
                                             ("response", .string(response.map(DCERPCCall.typeName) ?? "UNREPLIED"))]
        func list(_ items: [Interface], acks: Bool) -> JSONValue {
            .array(items.map { i in
                var o: [(String, JSONValue)] = [("uuid", .string(i.uuid)), ("version", .string(i.version))]
                if acks, let r = i.ackResult { o += [("ack_result", .int(Int64(r))), ("ack_reason", .int(Int64(i.ackReason)))] }
                return .object(o)
            })
        }
        if request == DCERPCCall.requestType {
            fields.append(("opnum", .int(Int64(opnum))))
            fields.append(("req", .object([("frag_cnt", .int(Int64(requestFragments))), ("stub_data_size", .int(Int64(requestStub)))])))
            let bound = interfaces.filter { $0.contextID == contextID }
            if !bound.isEmpty { fields.append(("interfaces", list(bound, acks: false))) }
        } else if request == DCERPCCall.bind, !interfaces.isEmpty {
            fields.append(("interfaces", list(interfaces, acks: true)))
        }
        if response == DCERPCCall.responseType {
            fields.append(("res", .object([("frag_cnt", .int(Int64(responseFragments))), ("stub_data_size", .int(Int64(responseStub)))])))
        }
        fields.append(("call_id", .int(Int64(callID))))
        return .object(fields)
    }
}

import HNDecode

/// Checks on packet header fields (one keyword each: dsize, flags, ttl, itype, …).
public enum PacketCheck: Sendable {
    case dsize(NumberRange)
    case flags(TCPFlagsCheck)
    case ttl(NumberRange)
    case itype(NumberRange)
    case icode(NumberRange)
    case ipProto(NumberRange)
    case window(NumberRange)
    case seq(UInt32)
    case ack(UInt32)
    case ipID(NumberRange)
    case icmpID(UInt16)
    case icmpSeq(UInt16)
    case sameIP
    case fragbits(FragBitsCheck)

    func matches(_ p: Packet) -> Bool {
        switch self {
        // As Suricata does, `dsize:!N` only considers packets that carry data.
        case .dsize(let r): return p.hasTransport && r.matches(p.payload.count) && (r.op != .ne || p.payload.count > 0)
        case .flags(let f): return p.ipProto == IPProto.tcp && p.hasTransport && f.matches(p.tcpFlags)
        case .ttl(let r): return p.ipVersion != 0 && r.matches(Int(p.ttl))
        case .itype(let r): return IPProto.isICMP(p.ipProto) && p.hasTransport && r.matches(Int(p.icmpType))
        case .icode(let r): return IPProto.isICMP(p.ipProto) && p.hasTransport && r.matches(Int(p.icmpCode))
        case .ipProto(let r): return p.ipVersion != 0 && r.matches(Int(p.ipProto))
        case .window(let r): return p.ipProto == IPProto.tcp && p.hasTransport && r.matches(Int(p.tcpWindow))
        case .seq(let v): return p.ipProto == IPProto.tcp && p.tcpSeq == v
        case .ack(let v): return p.ipProto == IPProto.tcp && p.tcpAck == v
        case .ipID(let r): return p.ipVersion == 4 && r.matches(Int(p.ipID))
        case .icmpID(let v): return IPProto.isICMP(p.ipProto) && p.icmpID == v
        case .icmpSeq(let v): return IPProto.isICMP(p.ipProto) && p.icmpSeq == v
        case .sameIP: return p.ipVersion != 0 && p.source == p.destination
        case .fragbits(let f): return p.ipVersion == 4 && f.matches(p.ipFlags)
        }
    }
}

/// `flags:[+*!]FSRPAUCE0[,mask]`.
public struct TCPFlagsCheck: Sendable, Equatable {
    public enum Mode: Sendable { case exact, all, any, not }
    public var mode: Mode
    public var flags: UInt8
    public var ignore: UInt8

    static func bits(_ text: Substring) -> UInt8? {
        var v: UInt8 = 0
        for c in text {
            switch c {
            case "F", "f": v |= TCPFlags.fin
            case "S", "s": v |= TCPFlags.syn
            case "R", "r": v |= TCPFlags.rst
            case "P", "p": v |= TCPFlags.psh
            case "A", "a": v |= TCPFlags.ack
            case "U", "u": v |= TCPFlags.urg
            case "C", "c", "2": v |= TCPFlags.cwr
            case "E", "e", "1": v |= TCPFlags.ece
            case "0": break
            default: return nil
            }
        }
        return v
    }

    static func parse(_ value: String) -> TCPFlagsCheck? {
        let parts = value.split(separator: ",", maxSplits: 1).map { $0.trimmingSpaces }
        guard var spec = parts.first, !spec.isEmpty else { return nil }
        var mode = Mode.exact
        // The modifier may come before or after the flags (Suricata accepts "S+" and "+S").
        for (ch, m) in [("+", Mode.all), ("*", .any), ("!", .not)] {
            if spec.hasPrefix(ch) { mode = m; spec = spec.dropFirst() } else if spec.hasSuffix(ch) { mode = m; spec = spec.dropLast() }
        }
        guard let flags = bits(spec) else { return nil }
        var ignore: UInt8 = 0
        if parts.count == 2 { guard let m = bits(parts[1]) else { return nil }; ignore = m }
        return .init(mode: mode, flags: flags, ignore: ignore)
    }

    func matches(_ packetFlags: UInt8) -> Bool {
        let f = packetFlags & ~ignore
        switch mode {
        case .exact: return f == flags
        case .all: return f & flags == flags
        case .any: return f & flags != 0 || flags == 0
        case .not: return f & flags == 0
        }
    }
}

/// `fragbits:[+*!]MDR`.
public struct FragBitsCheck: Sendable, Equatable {
    public var mode: TCPFlagsCheck.Mode
    public var bits: UInt8  // 0x20 more fragments, 0x40 don't fragment, 0x80 reserved

    static func parse(_ value: String) -> FragBitsCheck? {
        var spec = Substring(value.trimmingSpaces)
        var mode = TCPFlagsCheck.Mode.exact
        for (ch, m) in [("+", TCPFlagsCheck.Mode.all), ("*", .any), ("!", .not)] where spec.hasPrefix(ch) {
            mode = m
            spec = spec.dropFirst()
        }
        var bits: UInt8 = 0
        for c in spec {
            switch c {
            case "M": bits |= 0x20
            case "D": bits |= 0x40
            case "R": bits |= 0x80
            default: return nil
            }
        }
        return .init(mode: mode, bits: bits)
    }

    func matches(_ ipFlags: UInt8) -> Bool {
        let f = ipFlags & 0xE0
        switch mode {
        case .exact: return f == bits
        case .all: return f & bits == bits
        case .any: return f & bits != 0
        case .not: return f & bits == 0
        }
    }
}

/// Checks on application-layer state that are not byte buffers (`tls.version`, `ssh.proto`
/// numbers, …). The application-layer parsers answer them; until a parser has seen the
/// transaction they do not match.
public enum AppCheck: Sendable {
    case tlsVersion(UInt16)
    /// `negated`: a leading `!` negates the whole list (`!tls1.3,tls1.2`: neither).
    case sslVersion([UInt16], negated: Bool)
    case sslState(String)
    case tlsCertExpired
    case tlsCertValid
    /// `original`: the first protocol of an upgraded flow rather than the current one.
    case appLayerProtocol(String, negated: Bool, original: Bool)
}

import Crypto
import HNDecode

/// Community ID flow hashing, version 1 (the Corelight specification Suricata and Zeek
/// implement): one string per flow that tools can join on. The hash is SHA-1 over the seed
/// (2 bytes, network order), the two addresses (4 or 16 bytes), the protocol, a zero byte and,
/// for TCP, UDP, SCTP and ICMP, the two ports (for ICMP the type and code, or the type and its
/// reply's type), ordered so both directions give the same value; written as "1:" + base64.
public enum CommunityID {
    /// ICMP (v4) request and reply types that pair as the two directions of one exchange.
    static let icmpPairs: [UInt8: UInt8] = [8: 0, 0: 8, 13: 14, 14: 13, 15: 16, 16: 15, 10: 9, 9: 10, 17: 18, 18: 17]
    /// ICMPv6 request and reply types that pair.
    static let icmpv6Pairs: [UInt8: UInt8] = [128: 129, 129: 128, 133: 134, 134: 133, 135: 136, 136: 135, 130: 131, 131: 130,
                                              144: 145, 145: 144, 139: 140, 140: 139]

    public static func v1(seed: UInt16, source: IPAddress, destination: IPAddress, sourcePort: UInt16, destinationPort: UInt16,
                          proto: UInt8, icmpType: UInt8 = 0, icmpCode: UInt8 = 0) -> String {
        var a = source, b = destination
        var pa = sourcePort, pb = destinationPort
        var oneWay = false
        let icmp = proto == IPProto.icmp || proto == IPProto.icmpv6
        if icmp {
            let pairs = proto == IPProto.icmp ? icmpPairs : icmpv6Pairs
            pa = UInt16(icmpType)
            if let reply = pairs[icmpType] { pb = UInt16(reply) } else { pb = UInt16(icmpCode); oneWay = true }
        }
        let ports = IPProto.hasPorts(proto) || icmp
        if !oneWay && !(less(a, b) || (a == b && (!ports || pa < pb))) {
            swap(&a, &b)
            swap(&pa, &pb)
        }
        var input: [UInt8] = [UInt8(seed >> 8), UInt8(seed & 0xFF)]
        append(a, to: &input)
        append(b, to: &input)
        input += [proto, 0]
        if ports { input += [UInt8(pa >> 8), UInt8(pa & 0xFF), UInt8(pb >> 8), UInt8(pb & 0xFF)] }
        let digest = Array(Insecure.SHA1.hash(data: input))
        return "1:" + digest.withUnsafeBytes { Base64.encode($0) }
    }

    /// Address order of the specification: by the address bytes as sent on the wire.
    static func less(_ x: IPAddress, _ y: IPAddress) -> Bool {
        if x.isIPv4 && y.isIPv4 { return x.ipv4Value < y.ipv4Value }
        return (x.high, x.low) < (y.high, y.low)
    }

    static func append(_ address: IPAddress, to bytes: inout [UInt8]) {
        if address.isIPv4 {
            let v = address.ipv4Value
            bytes += [UInt8(v >> 24), UInt8((v >> 16) & 0xFF), UInt8((v >> 8) & 0xFF), UInt8(v & 0xFF)]
            return
        }
        for word in [address.high, address.low] {
            for shift in stride(from: 56, through: 0, by: -8) { bytes.append(UInt8((word >> UInt64(shift)) & 0xFF)) }
        }
    }
}

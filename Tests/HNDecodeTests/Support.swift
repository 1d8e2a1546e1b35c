import HNCapGen
@testable import HNDecode

/// Decodes `frame` with a fresh decoder and returns the verdict, the packet and the decoder.
func decode(_ frame: [UInt8], linkType: Int32 = LinkType.ethernet, decoder: inout Decoder, at time: Int64 = 1_000_000_000) -> (DecodeVerdict, Packet) {
    var packet = Packet()
    packet.timestamp = time
    packet.captureLength = frame.count
    packet.wireLength = frame.count
    let verdict = frame.withUnsafeBytes { decoder.decode(ByteView($0), linkType: linkType, into: &packet) }
    return (verdict, packet)
}

func decode(_ frame: [UInt8], linkType: Int32 = LinkType.ethernet) -> (DecodeVerdict, Packet) {
    var decoder = Decoder()
    return decode(frame, linkType: linkType, decoder: &decoder)
}

enum Sample {
    static let clientMAC: [UInt8] = [0x02, 0, 0, 0, 0, 1]
    static let serverMAC: [UInt8] = [0x02, 0, 0, 0, 0, 2]
    static let client4 = Frames.ipv4("10.20.1.15")
    static let server4 = Frames.ipv4("10.20.2.80")
    static let client6 = Frames.ipv6("2001:db8::15")
    static let server6 = Frames.ipv6("2001:db8::80")

    static func ipv4(_ proto: UInt8, _ l4: [UInt8], flags: UInt16 = 0x4000, id: UInt16 = 7) -> [UInt8] {
        Frames.ipv4Header(src: client4, dst: server4, proto: proto, id: id, ttl: 64, payloadLength: l4.count, flags: flags) + l4
    }

    static func ether(_ type: UInt16, _ payload: [UInt8], vlan: UInt16? = nil) -> [UInt8] {
        Frames.ethernet(src: clientMAC, dst: serverMAC, type: type, vlan: vlan, payload)
    }

    static var tcpSYN: [UInt8] {
        let options: [UInt8] = [2, 4, 0x05, 0xB4, 4, 2, 8, 10, 0, 0, 0, 1, 0, 0, 0, 0, 1, 3, 3, 7]
        return ether(0x0800, ipv4(6, Frames.tcp(src: client4, dst: server4, sport: 49_152, dport: 80, seq: 1000, ack: 0, flags: 0x02, options: options)))
    }

    static var tcpData: [UInt8] {
        ether(0x0800, ipv4(6, Frames.tcp(src: client4, dst: server4, sport: 49_152, dport: 80, seq: 1001, ack: 5, flags: 0x18, payload: Array("GET / HTTP/1.1\r\n\r\n".utf8))))
    }

    static var udpDNS: [UInt8] {
        ether(0x0800, ipv4(17, Frames.udp(src: client4, dst: server4, sport: 5353, dport: 53, payload: Payloads.dnsQuery(id: 1, name: "a.lu"))))
    }

    static var icmpEcho: [UInt8] {
        ether(0x0800, ipv4(1, Frames.icmpEcho(type: 8, id: 1, seq: 1, payload: [1, 2, 3, 4])))
    }

    static var tcp6: [UInt8] {
        let l4 = Frames.tcp(src: client6, dst: server6, sport: 40_000, dport: 443, seq: 1, ack: 0, flags: 0x02)
        return ether(0x86DD, Frames.ipv6Header(src: client6, dst: server6, next: 6, hopLimit: 64, payloadLength: l4.count) + l4)
    }

    /// Every sample frame, for the truncation sweeps.
    static var all: [[UInt8]] { [tcpSYN, tcpData, udpDNS, icmpEcho, tcp6] }
}

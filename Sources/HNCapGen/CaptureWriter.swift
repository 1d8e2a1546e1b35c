/// Serialises frames into a capture file in memory: classic pcap (microsecond or nanosecond
/// timestamps) or pcapng (one Ethernet interface, nanosecond resolution).
public struct CaptureWriter {
    public enum Format: Sendable {
        case pcapMicro
        case pcapNano
        case pcapng
    }

    public let format: Format
    public let linkType: UInt32
    public private(set) var bytes: [UInt8] = []
    public private(set) var frames = 0

    public init(format: Format = .pcapMicro, linkType: UInt32 = 1, snaplen: UInt32 = 262_144) {
        self.format = format
        self.linkType = linkType
        switch format {
        case .pcapMicro, .pcapNano:
            le32(format == .pcapMicro ? 0xA1B2_C3D4 : 0xA1B2_3C4D)
            le16(2); le16(4)          // version 2.4
            le32(0); le32(0)          // thiszone, sigfigs
            le32(snaplen); le32(linkType)
        case .pcapng:
            // Section Header Block
            le32(0x0A0D_0D0A); le32(28); le32(0x1A2B_3C4D); le16(1); le16(0)
            le32(0xFFFF_FFFF); le32(0xFFFF_FFFF); le32(28)
            // Interface Description Block with if_tsresol = 9 (nanoseconds)
            le32(1); le32(32); le16(UInt16(linkType)); le16(0); le32(snaplen)
            le16(9); le16(1); bytes += [9, 0, 0, 0]
            le16(0); le16(0)
            le32(32)
        }
    }

    /// The bytes written so far, handed over (for writing a large capture in pieces).
    public mutating func take() -> [UInt8] {
        defer { bytes.removeAll(keepingCapacity: true) }
        return bytes
    }

    /// Appends one frame captured at `nanos` since the epoch. `wireLength` defaults to the
    /// frame length (a shorter frame simulates a snaplen cut).
    public mutating func append(_ frame: [UInt8], at nanos: Int64, wireLength: Int? = nil) {
        frames += 1
        let wire = UInt32(wireLength ?? frame.count)
        switch format {
        case .pcapMicro, .pcapNano:
            le32(UInt32(nanos / 1_000_000_000))
            let fraction = nanos % 1_000_000_000
            le32(UInt32(format == .pcapMicro ? fraction / 1_000 : fraction))
            le32(UInt32(frame.count)); le32(wire)
            bytes += frame
        case .pcapng:
            let padded = (frame.count + 3) & ~3
            let total = UInt32(32 + padded)
            le32(6); le32(total); le32(0)
            le32(UInt32(UInt64(nanos) >> 32)); le32(UInt32(UInt64(nanos) & 0xFFFF_FFFF))
            le32(UInt32(frame.count)); le32(wire)
            bytes += frame
            bytes += [UInt8](repeating: 0, count: padded - frame.count)
            le32(total)
        }
    }

    private mutating func le16(_ v: UInt16) { bytes += [UInt8(v & 0xFF), UInt8(v >> 8)] }
    private mutating func le32(_ v: UInt32) {
        bytes += [UInt8(v & 0xFF), UInt8((v >> 8) & 0xFF), UInt8((v >> 16) & 0xFF), UInt8(v >> 24)]
    }
}

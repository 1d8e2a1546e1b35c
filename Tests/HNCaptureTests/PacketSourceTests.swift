import Foundation
import HNCapGen
import Testing
@testable import HNCapture

func temporaryFile(_ name: String, _ bytes: [UInt8]) throws -> String {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("hnsensor-tests-\(getpid())")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    let url = dir.appendingPathComponent(name)
    try Data(bytes).write(to: url)
    return url.path
}

func readAll(_ source: PacketSource) -> (times: [Int64], lengths: [(Int, Int)], result: PacketSource.ReadResult) {
    var times: [Int64] = [], lengths: [(Int, Int)] = []
    while true {
        let r = source.next { _, ts, cap, wire in
            times.append(ts)
            lengths.append((cap, wire))
        }
        if r != .packet { return (times, lengths, r) }
    }
}

@Suite struct PacketSourceTests {
    static let stamps: [Int64] = [1_793_606_400_000_000_000, 1_793_606_400_123_456_000, 1_793_606_401_999_999_000]

    func sample(_ format: CaptureWriter.Format) -> [UInt8] {
        var w = CaptureWriter(format: format)
        for (i, t) in PacketSourceTests.stamps.enumerated() {
            w.append([UInt8](repeating: UInt8(i), count: 60 + i), at: t, wireLength: 100 + i)
        }
        return w.bytes
    }

    @Test(arguments: [CaptureWriter.Format.pcapMicro, .pcapNano, .pcapng])
    func readsEveryFormatWithExactTimestamps(format: CaptureWriter.Format) throws {
        let path = try temporaryFile("sample-\(format).pcap", sample(format))
        let source = try PacketSource(file: path)
        #expect(source.linkType == 1)
        let (times, lengths, result) = readAll(source)
        #expect(result == .endOfFile)
        #expect(times == PacketSourceTests.stamps)
        #expect(lengths.map(\.0) == [60, 61, 62])
        #expect(lengths.map(\.1) == [100, 101, 102])
    }

    @Test func nanosecondsSurviveInNanosecondFiles() throws {
        var w = CaptureWriter(format: .pcapNano)
        w.append([1, 2, 3], at: 1_000_000_000_000_000_123)
        let source = try PacketSource(file: try temporaryFile("ns.pcap", w.bytes))
        #expect(readAll(source).times == [1_000_000_000_000_000_123])
    }

    @Test func missingFileErrorNamesTheFile() {
        #expect {
            _ = try PacketSource(file: "/nonexistent/capture.pcap")
        } throws: { error in
            "\(error)".contains("/nonexistent/capture.pcap")
        }
    }

    @Test func corruptHeaderIsRefusedWithTheFileName() throws {
        let path = try temporaryFile("garbage.pcap", Array("this is not a capture file at all".utf8))
        #expect {
            _ = try PacketSource(file: path)
        } throws: { error in
            "\(error)".hasPrefix(path + ":")
        }
    }

    @Test func truncatedLastRecordKeepsTheEarlierPackets() throws {
        let bytes = sample(.pcapMicro)
        let path = try temporaryFile("truncated.pcap", Array(bytes.dropLast(10)))
        let source = try PacketSource(file: path)
        let (times, _, result) = readAll(source)
        #expect(times.count == 2)
        guard case .damaged(let message) = result else {
            Issue.record("expected a damaged-file result, got \(result)")
            return
        }
        #expect(message.contains(path) && message.contains("after packet 2"))
    }

    /// Live capture on the loopback interface: needs root (CAP_NET_RAW).
    @Test func liveCaptureOnLoopbackSeesAUDPDatagram() throws {
        guard getuid() == 0 else {
            print("skipped liveCaptureOnLoopbackSeesAUDPDatagram: live capture needs root (CAP_NET_RAW)")
            return
        }
        var options = PacketSource.LiveOptions()
        options.bpf = "udp and dst port 39999"
        options.bufferSize = 1 << 20
        let source = try PacketSource(interface: "lo", options: options)
        // Send a datagram to ourselves on loopback.
        let fd = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = UInt16(39999).bigEndian
        address.sin_addr.s_addr = UInt32(0x7F00_0001).bigEndian
        let payload = Array("hnsensor-live-test".utf8)
        var seen = false
        for _ in 0..<20 where !seen {
            _ = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    sendto(fd, payload, payload.count, 0, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
                }
            }
            _ = source.next { bytes, _, _, _ in
                seen = bytes.count >= payload.count && Array(bytes.suffix(payload.count)) == payload
            }
        }
        #expect(seen)
        #expect(source.stats().received >= 1)
    }

    @Test func liveCaptureOnAMissingInterfaceFailsClearly() throws {
        guard getuid() == 0 else {
            print("skipped liveCaptureOnAMissingInterfaceFailsClearly: needs root")
            return
        }
        #expect {
            _ = try PacketSource(interface: "hn-no-such-if0", options: .init())
        } throws: { error in
            "\(error)".hasPrefix("hn-no-such-if0:")
        }
    }
}

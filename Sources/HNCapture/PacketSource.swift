import CPcap
#if canImport(Glibc)
import Glibc
#endif

/// A capture handle over libpcap: a file (pcap or pcapng, any timestamp precision) or a live
/// interface. Packets are handed out as borrowed views of libpcap's own buffer, valid only
/// inside the `next` callback: nothing is copied and nothing is allocated per packet.
/// Nothing downstream of this type knows libpcap.
public final class PacketSource {
    public struct CaptureError: Error, CustomStringConvertible {
        public let description: String
    }

    /// Options of a live capture (Suricata's `pcap` section, tcpdump's flags).
    public struct LiveOptions: Sendable {
        public var snaplen: Int32 = 262_144
        public var promiscuous = true
        /// Deliver packets as they arrive instead of when the kernel buffer fills.
        public var immediate = true
        /// Kernel buffer in bytes (0 keeps libpcap's default).
        public var bufferSize: Int32 = 32 << 20
        /// Read timeout in milliseconds, so a quiet interface still returns to the caller.
        public var timeoutMillis: Int32 = 100
        public var bpf: String? = nil
        public init() {}
    }

    /// Counters from the kernel (live) or the file reader.
    public struct Stats: Sendable {
        public var received: UInt64 = 0
        public var kernelDropped: UInt64 = 0
        public var interfaceDropped: UInt64 = 0
    }

    /// What `next` found.
    public enum ReadResult: Equatable {
        case packet
        /// A live capture's read timeout passed with no packet.
        case timeout
        case endOfFile
        /// The file is damaged past this point (truncated record, bad length): what came
        /// before was delivered; the message says where.
        case damaged(String)
    }

    public let name: String
    public let linkType: Int32
    public let isLive: Bool
    private let handle: OpaquePointer
    public private(set) var packetsRead: UInt64 = 0

    /// Opens a capture file (`-`: standard input, as libpcap and tcpdump read it). Nanosecond
    /// precision is requested so pcapng and nanosecond pcap files keep their full timestamps;
    /// microsecond files are scaled by libpcap.
    ///
    /// The file is opened here with a 1 MiB stdio buffer and handed to libpcap (which closes
    /// it): with the default buffer (the file system's 4 KiB block) libpcap's reads cost one
    /// system call per 4 KiB of capture.
    public init(file path: String) throws(CaptureError) {
        var errbuf = [CChar](repeating: 0, count: Int(PCAP_ERRBUF_SIZE) + 1)
        // Standard input through a duplicate descriptor: libpcap closes the stream it is given.
        guard let file = path == "-" ? fdopen(dup(STDIN_FILENO), "rb") : fopen(path, "rb") else {
            throw CaptureError(description: "\(path): \(String(cString: strerror(errno)))")
        }
        // glibc ignores the size unless it is given the buffer.
        let buffer = UnsafeMutablePointer<CChar>.allocate(capacity: PacketSource.fileBufferSize)
        setvbuf(file, buffer, _IOFBF, PacketSource.fileBufferSize)
        guard let h = pcap_fopen_offline_with_tstamp_precision(file, UInt32(PCAP_TSTAMP_PRECISION_NANO), &errbuf) else {
            fclose(file)
            buffer.deallocate()
            let message = PacketSource.text(errbuf)
            throw CaptureError(description: message.hasPrefix(path + ":") ? message : "\(path): \(message)")
        }
        handle = h
        fileBuffer = buffer
        name = path
        isLive = false
        linkType = pcap_datalink(h)
    }

    /// Opens a live capture on `interface`. Needs CAP_NET_RAW (root, or the systemd unit's
    /// ambient capabilities).
    public init(interface: String, options: LiveOptions) throws(CaptureError) {
        var errbuf = [CChar](repeating: 0, count: Int(PCAP_ERRBUF_SIZE) + 1)
        guard let h = pcap_create(interface, &errbuf) else {
            throw CaptureError(description: "\(interface): \(PacketSource.text(errbuf))")
        }
        func check(_ status: Int32, _ what: String) throws(CaptureError) {
            if status != 0 {
                let message = String(cString: pcap_geterr(h))
                pcap_close(h)
                throw CaptureError(description: "\(interface): cannot set \(what): \(message)")
            }
        }
        try check(pcap_set_snaplen(h, options.snaplen), "snaplen")
        try check(pcap_set_promisc(h, options.promiscuous ? 1 : 0), "promiscuous mode")
        try check(pcap_set_timeout(h, options.timeoutMillis), "timeout")
        try check(pcap_set_immediate_mode(h, options.immediate ? 1 : 0), "immediate mode")
        if options.bufferSize > 0 { try check(pcap_set_buffer_size(h, options.bufferSize), "buffer size") }
        _ = pcap_set_tstamp_precision(h, Int32(PCAP_TSTAMP_PRECISION_NANO))
        let status = pcap_activate(h)
        if status < 0 {
            let message = status == PCAP_ERROR ? String(cString: pcap_geterr(h)) : String(cString: pcap_statustostr(status))
            pcap_close(h)
            throw CaptureError(description: "\(interface): cannot start capture: \(message)")
        }
        handle = h
        fileBuffer = nil
        name = interface
        isLive = true
        linkType = pcap_datalink(h)
        precisionIsNano = pcap_get_tstamp_precision(h) == Int32(PCAP_TSTAMP_PRECISION_NANO)
        if let bpf = options.bpf { try setFilter(bpf) }
    }

    private var precisionIsNano = true

    static func text(_ buffer: [CChar]) -> String {
        let bytes = buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }
        return String(decoding: bytes, as: UTF8.self)
    }

    deinit {
        pcap_close(handle)  // closes a capture file's stream before its buffer goes
        fileBuffer?.deallocate()
    }

    /// The stdio buffer of a capture file (nil for a live capture).
    private let fileBuffer: UnsafeMutablePointer<CChar>?
    static let fileBufferSize = 1 << 20

    /// Compiles and installs a BPF filter.
    public func setFilter(_ expression: String) throws(CaptureError) {
        var program = bpf_program()
        guard pcap_compile(handle, &program, expression, 1, PCAP_NETMASK_UNKNOWN) == 0 else {
            throw CaptureError(description: "\(name): bad BPF filter '\(expression)': \(String(cString: pcap_geterr(handle)))")
        }
        defer { pcap_freecode(&program) }
        guard pcap_setfilter(handle, &program) == 0 else {
            throw CaptureError(description: "\(name): cannot install BPF filter: \(String(cString: pcap_geterr(handle)))")
        }
    }

    /// Reads the next packet and hands it to `body` with its timestamp (ns since the epoch),
    /// captured length and wire length. The bytes are valid only during the call.
    @inline(__always)
    public func next(_ body: (UnsafeRawBufferPointer, Int64, Int, Int) -> Void) -> ReadResult {
        var header: UnsafeMutablePointer<pcap_pkthdr>? = nil
        var data: UnsafePointer<UInt8>? = nil
        let status = pcap_next_ex(handle, &header, &data)
        switch status {
        case 1:
            guard let header, let data else { return .timeout }
            packetsRead &+= 1
            let h = header.pointee
            let fraction = Int64(h.ts.tv_usec) * (precisionIsNano ? 1 : 1_000)
            let ts = Int64(h.ts.tv_sec) &* 1_000_000_000 &+ fraction
            body(UnsafeRawBufferPointer(start: data, count: Int(h.caplen)), ts, Int(h.caplen), Int(h.len))
            return .packet
        case 0:
            return .timeout
        case PCAP_ERROR_BREAK:
            return .endOfFile
        default:
            return .damaged("\(name): after packet \(packetsRead): \(String(cString: pcap_geterr(handle)))")
        }
    }

    /// Switches a live capture to non-blocking reads: `next` returns `.timeout` at once when no
    /// packet waits, so one thread can serve several interfaces from `poll`.
    public func setNonblocking() throws(CaptureError) {
        var errbuf = [CChar](repeating: 0, count: Int(PCAP_ERRBUF_SIZE) + 1)
        guard pcap_setnonblock(handle, 1, &errbuf) == 0 else {
            throw CaptureError(description: "\(name): cannot set non-blocking mode: \(PacketSource.text(errbuf))")
        }
    }

    /// A descriptor `poll` reports readable when packets wait (-1 when there is none).
    public var selectableDescriptor: Int32 { pcap_get_selectable_fd(handle) }

    /// Makes a blocking `next` on a live capture return (from a signal handler or another thread).
    public func breakLoop() { pcap_breakloop(handle) }

    /// Kernel counters of a live capture (zero for files).
    public func stats() -> Stats {
        guard isLive else { return Stats(received: packetsRead) }
        var s = pcap_stat()
        guard pcap_stats(handle, &s) == 0 else { return Stats(received: packetsRead) }
        return Stats(received: UInt64(s.ps_recv), kernelDropped: UInt64(s.ps_drop), interfaceDropped: UInt64(s.ps_ifdrop))
    }

    /// The library's version string, for `hnsensor version`.
    public static var libraryVersion: String { String(cString: pcap_lib_version()) }
}

import HNDecode

/// Idle timeouts per protocol and flow state, in seconds of packet time. The defaults are
/// Suricata's `flow-timeouts` defaults.
public struct FlowTimeouts: Sendable, Equatable {
    public struct PerState: Sendable, Equatable {
        public var new: Int64
        public var established: Int64
        public var closed: Int64
        public init(new: Int64, established: Int64, closed: Int64) {
            self.new = new
            self.established = established
            self.closed = closed
        }
    }

    public var tcp = PerState(new: 60, established: 600, closed: 60)
    public var udp = PerState(new: 30, established: 300, closed: 0)
    public var icmp = PerState(new: 30, established: 300, closed: 0)
    /// Every other IP protocol (GRE, ESP, SCTP, …).
    public var other = PerState(new: 30, established: 300, closed: 0)

    public init() {}

    /// The timeout in nanoseconds for a flow of `proto` in `state`.
    @inlinable
    public func nanos(proto: UInt8, state: FlowState) -> Int64 {
        let table: PerState
        switch proto {
        case IPProto.tcp: table = tcp
        case IPProto.udp: table = udp
        case 1, 58: table = icmp
        default: table = other
        }
        let seconds: Int64
        switch state {
        case .new: seconds = table.new
        case .established: seconds = table.established
        case .closed: seconds = table.closed
        }
        return seconds &* 1_000_000_000
    }
}

/// The lifecycle state EVE reports in `flow.state`.
public enum FlowState: UInt8, Sendable {
    /// Packets seen in one direction only (or a TCP handshake not completed).
    case new
    /// Traffic in both directions (for TCP: handshake completed or picked up midstream).
    case established
    /// TCP connection finished by FIN exchange or reset.
    case closed

    public var name: String {
        switch self {
        case .new: "new"
        case .established: "established"
        case .closed: "closed"
        }
    }
}

/// Why a flow record was written.
public enum FlowEndReason: UInt8, Sendable {
    /// Idle longer than its timeout.
    case timeout
    /// Evicted to make room under the flow memory cap.
    case forced
    /// Still open when the capture ended or the sensor stopped.
    case shutdown
    /// A new TCP connection reused the tuple of a closed one.
    case tcpReuse

    public var name: String {
        switch self {
        case .timeout: "timeout"
        case .forced: "forced"
        case .shutdown: "shutdown"
        case .tcpReuse: "tcp_reuse"
        }
    }
}

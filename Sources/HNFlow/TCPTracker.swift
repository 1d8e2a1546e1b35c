import HNDecode

/// TCP connection state of a flow, following the RFC 793 states as Suricata reports them in
/// EVE `tcp.state`. A state machine that returns what the flow should do; the flow table
/// performs it.
public enum TCPState: UInt8, Sendable {
    case none
    case synSent
    case synReceived
    case established
    /// The server sent FIN first (Suricata names the states from the server's side).
    case finWait1
    /// The client acknowledged the server's FIN.
    case finWait2
    /// Both sent FIN before either was acknowledged.
    case closing
    /// The client sent FIN first.
    case closeWait
    /// The server answered the client's FIN with its own.
    case lastAck
    /// The client answered the server's FIN with its own.
    case timeWait
    case closed

    /// The name EVE writes in `tcp.state`.
    public var name: String {
        switch self {
        case .none: "none"
        case .synSent: "syn_sent"
        case .synReceived: "syn_recv"
        case .established: "established"
        case .finWait1: "fin_wait1"
        case .finWait2: "fin_wait2"
        case .closing: "closing"
        case .closeWait: "close_wait"
        case .lastAck: "last_ack"
        case .timeWait: "time_wait"
        case .closed: "closed"
        }
    }

    /// The connection finished: both sides closed, or it was reset.
    public var isFinished: Bool {
        switch self {
        case .closing, .lastAck, .timeWait, .closed: true
        default: false
        }
    }

    public enum Action: Equatable {
        case none
        /// A SYN opened a new connection on the tuple of a finished one: end the old flow.
        case reuse
    }

    /// Advances the state for a segment with `flags` travelling `toServer`. `reset` is set
    /// when a RST closed the connection.
    public mutating func onSegment(flags: UInt8, toServer: Bool, midstream: Bool = true, reset: inout Bool) -> Action {
        let syn = flags & TCPFlags.syn != 0
        let ack = flags & TCPFlags.ack != 0
        let fin = flags & TCPFlags.fin != 0
        if syn && !ack && toServer && self == .closed {
            return .reuse
        }
        if flags & TCPFlags.rst != 0 {
            self = .closed
            reset = true
            return .none
        }
        switch self {
        case .none:
            if syn && !ack {
                self = .synSent
            } else if syn && ack {
                self = .synReceived
            } else if midstream {
                self = .established
            } else {
                // Without midstream pick-up a connection whose handshake was missed is not tracked.
                return .none
            }
        case .synSent:
            if syn && ack && !toServer { self = .synReceived }
        case .synReceived:
            if ack && !syn && toServer { self = .established }
        case .established:
            break
        case .finWait1:
            if toServer { self = fin ? (ack ? .timeWait : .closing) : (ack ? .finWait2 : self) }
            return .none
        case .finWait2:
            if toServer && fin { self = .timeWait }
            return .none
        case .closing:
            if ack { self = .timeWait }
            return .none
        case .closeWait:
            if !toServer && fin { self = .lastAck }
            return .none
        case .lastAck:
            if toServer && ack { self = .closed }
            return .none
        case .timeWait:
            if !toServer && ack { self = .closed }
            return .none
        case .closed:
            return .none
        }
        if fin && (self == .established || self == .synReceived || self == .synSent) {
            self = toServer ? .closeWait : .finWait1
        }
        return .none
    }
}

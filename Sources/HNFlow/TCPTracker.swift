import HNDecode

/// TCP connection state of a flow, driven by the segments seen in each direction. A state
/// machine that returns what the flow should do; the flow table performs it.
public enum TCPState: UInt8, Sendable {
    case none
    /// SYN seen from the client.
    case synSent
    /// SYN-ACK seen from the server.
    case synReceived
    /// Handshake completed (or data seen on a connection picked up midstream).
    case established
    /// A FIN has been seen in at least one direction.
    case closing
    /// FINs seen in both directions.
    case closed
    /// A RST was seen.
    case reset

    /// The name EVE writes in `tcp.state`.
    public var name: String {
        switch self {
        case .none: "none"
        case .synSent: "syn_sent"
        case .synReceived: "syn_recv"
        case .established: "established"
        case .closing: "closing"
        case .closed: "closed"
        case .reset: "reset"
        }
    }

    public enum Action: Equatable {
        case none
        /// A SYN opened a new connection on the tuple of a finished one: end the old flow.
        case reuse
    }

    /// Advances the state for a segment with `flags` travelling `toServer`. `finToServer` and
    /// `finToClient` remember which directions have sent a FIN.
    public mutating func onSegment(flags: UInt8, toServer: Bool, midstream: Bool = true, finToServer: inout Bool,
                                   finToClient: inout Bool) -> Action {
        let syn = flags & TCPFlags.syn != 0
        let ack = flags & TCPFlags.ack != 0
        if flags & TCPFlags.rst != 0 {
            self = .reset
            return .none
        }
        if syn && !ack && toServer && (self == .closed || self == .reset) {
            return .reuse
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
        case .established, .closing, .closed, .reset:
            break
        }
        if flags & TCPFlags.fin != 0 {
            if toServer { finToServer = true } else { finToClient = true }
            if self == .established || self == .synReceived || self == .synSent { self = .closing }
            if finToServer && finToClient { self = .closed }
        }
        return .none
    }
}

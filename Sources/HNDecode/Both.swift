/// A value for each direction of a flow (to the server: 0, to the client: 1), stored inline:
/// per-direction state (a parser's buffers, a flow's waiting transactions) costs no array of
/// its own, and an element is modified in place.
public struct Both<T> {
    public var toServer: T
    public var toClient: T

    public init(_ value: T) {
        toServer = value
        toClient = value
    }

    @inlinable
    public subscript(direction: Int) -> T {
        get { direction == 0 ? toServer : toClient }
        _modify {
            if direction == 0 { yield &toServer } else { yield &toClient }
        }
    }
}

extension Both: Sendable where T: Sendable {}

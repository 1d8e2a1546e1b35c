import HNDecode

/// Reassembles the two byte streams of TCP flows and delivers them in order.
///
/// - In-order data is delivered straight from the packet (no copy); out-of-order segments are
///   copied and held until the gap before them fills, within a per-flow and a global cap.
/// - Overlaps: the first data received for a sequence number wins (the policy of Linux
///   targets and of Suricata's default "first"); later overlapping bytes are dropped and
///   counted. Pure retransmissions are ignored.
/// - Depth: after `depth` bytes per direction, data is no longer delivered; the flow is still
///   tracked.
/// - Gaps: when the peer acknowledges data that was never seen (lost in capture), the stream
///   skips ahead and the consumer is told, so a parser can resynchronise or stop.
/// - Delivery: in IDS mode (the default, as Suricata's `stream.inline: false`) in-order data
///   is handed on when the receiver acknowledges it, so the application layer sees what the
///   receiver really got; in inline mode it is handed on as it arrives.
public final class StreamReassembler {
    public struct Limits: Sendable {
        /// Bytes delivered per direction at most (Suricata's `stream.reassembly.depth`).
        public var depth = 1 << 20
        /// Out-of-order bytes held per direction.
        public var perFlowMemcap = 256 << 10
        /// Out-of-order bytes held over all flows.
        public var memcap = 64 << 20
        /// Deliver data as it arrives instead of when acknowledged.
        public var inline = false
        public init() {}
    }

    public struct Stats: Sendable {
        public var segments: UInt64 = 0
        public var delivered: UInt64 = 0
        public var outOfOrder: UInt64 = 0
        public var retransmissions: UInt64 = 0
        public var overlaps: UInt64 = 0
        public var gaps: UInt64 = 0
        public var depthReached: UInt64 = 0
        public var memcapDrops: UInt64 = 0
        /// In-order bytes handed on before their acknowledgement because the bytes waiting for
        /// acknowledgement over all flows reached the memcap.
        public var unackedForced: UInt64 = 0
        public init() {}
    }

    /// What the consumer is handed.
    public enum Chunk {
        case data(ByteView)
        /// Bytes were lost before the next data.
        case gap(Int)
        /// In-order bytes a gap handed on: those that waited for acknowledgement before it,
        /// and those held past it that its skip made deliverable. Parsers take them as data;
        /// stream-level matching does not see them (as it never has: noted in ARCHITECTURE.md).
        case released(ByteView)

        /// The bytes of a data chunk, released or not.
        public var bytes: ByteView? {
            switch self {
            case .data(let b), .released(let b): b
            case .gap: nil
            }
        }
    }

    struct Held {
        var seq: UInt32
        var bytes: [UInt8]
    }

    /// (Fields ordered and sized so they pack: 40 bytes a direction, 80 a flow.)
    struct Direction {
        /// In-order bytes waiting for the peer's acknowledgement (IDS mode), and the sequence
        /// number of the first of them.
        var unacked: [UInt8] = []
        var held: [Held] = []
        /// Bytes handed on (counted up to 4 GiB: a depth beyond that is unlimited).
        var deliveredCount: UInt32 = 0
        /// Bytes of the held segments (bounded by the per-flow cap, itself under 4 GiB).
        var heldCount: UInt32 = 0
        var delivered: Int {
            get { Int(deliveredCount) }
            set { deliveredCount = UInt32(clamping: newValue) }
        }
        var heldBytes: Int {
            get { Int(heldCount) }
            set { heldCount = UInt32(newValue) }
        }
        var unackedSeq: UInt32 = 0
        /// Sequence number of the next byte to deliver.
        var next: UInt32 = 0
        var started = false
        var depthReached = false
    }

    struct State {
        var toServer = Direction()
        var toClient = Direction()
    }

    public let limits: Limits
    /// Bytes accepted from the current segment, reused from segment to segment.
    var scratch: [UInt8] = []
    public private(set) var stats = Stats()
    public private(set) var memoryUsed = 0
    /// In-order bytes waiting for acknowledgement over all flows (IDS mode), capped by
    /// `limits.memcap` as well: past it, data is handed on without waiting (counted).
    public private(set) var unackedUsed = 0
    /// Per flow, at its slot in the flow table (`Flow.slot`); reset when the flow ends.
    var states: [State] = []
    /// Storage an emptied per-direction buffer keeps for the next bytes.
    static let keptCapacity = 4096

    public init(limits: Limits = Limits()) {
        self.limits = limits
    }

    /// Delivers what is still waiting for acknowledgement and forgets the flow's streams
    /// (call when the flow ends). `deliver` gets each chunk with its direction.
    public func flowEnded(slot: Int, deliver: (Chunk, Bool) -> Void = { _, _ in }) {
        guard slot < states.count else { return }
        var s = State()
        swap(&s, &states[slot])
        memoryUsed -= s.toServer.heldBytes + s.toClient.heldBytes
        flushUnacked(&s.toServer, toServer: true, deliver: deliver)
        flushUnacked(&s.toClient, toServer: false, deliver: deliver)
    }

    func flushUnacked(_ dir: inout Direction, toServer: Bool, deliver: (Chunk, Bool) -> Void) {
        guard !dir.unacked.isEmpty else { return }
        let bytes = dir.unacked
        unackedUsed -= bytes.count
        dir.unacked = []
        dir.unackedSeq = dir.unackedSeq &+ UInt32(bytes.count)
        bytes.withUnsafeBytes { deliver(.data(ByteView($0)), toServer) }
    }

    /// Hands on the bytes of `dir` that `ack` acknowledges.
    func deliverAcked(_ dir: inout Direction, ack: UInt32, toServer: Bool, deliver: (Chunk, Bool) -> Void) {
        guard !dir.unacked.isEmpty else { return }
        let covered = min(dir.unacked.count, StreamReassembler.distance(dir.unackedSeq, ack))
        guard covered > 0 else { return }
        // Handed on from the buffer itself, then dropped from it; an emptied buffer keeps its
        // storage for the next bytes unless it grew large (an idle flow keeps little).
        dir.unacked.withUnsafeBytes { raw in
            deliver(.data(ByteView(UnsafeRawBufferPointer(rebasing: raw[0..<covered]))), toServer)
        }
        if covered == dir.unacked.count {
            if dir.unacked.capacity > StreamReassembler.keptCapacity { dir.unacked = [] } else { dir.unacked.removeAll(keepingCapacity: true) }
        } else {
            dir.unacked.removeFirst(covered)
        }
        unackedUsed -= covered
        dir.unackedSeq = dir.unackedSeq &+ UInt32(covered)
    }

    /// Runs `body` on one direction of `state` in place (no copy of its buffers).
    @inline(__always)
    func withDirection<R>(_ state: inout State, _ toServer: Bool, _ body: (inout Direction) -> R) -> R {
        toServer ? body(&state.toServer) : body(&state.toClient)
    }

    /// Feeds one TCP segment of the flow at `slot` (`Flow.slot`). `deliver` receives in-order
    /// chunks with the direction they belong to (acknowledged data of the other direction
    /// comes first).
    ///
    /// A gap (bytes the peer acknowledged that never passed here) arrives as a `.gap` chunk
    /// in its place: the bytes that waited for acknowledgement before it, the gap, then what
    /// the skip made deliverable.
    /// Bytes of one direction of the flow at `slot` handed on so far: the stream offset just
    /// past the last byte delivered.
    public func delivered(slot: Int, toServer: Bool) -> Int {
        guard slot < states.count else { return 0 }
        return toServer ? states[slot].toServer.delivered : states[slot].toClient.delivered
    }

    public func segment(slot: Int, toServer: Bool, packet: Packet, deliver: (Chunk, Bool) -> Void) {
        if slot >= states.count { states.append(contentsOf: repeatElement(State(), count: slot + 1 - states.count)) }
        // Worked on in place in the array (buffers never copied).
        segment(&states[slot], toServer: toServer, packet: packet, deliver: deliver)
        guard !pendingGaps.isEmpty else { return }
        let gaps = pendingGaps, flushed = gapFlush
        pendingGaps.removeAll()
        gapFlush.removeAll()
        for (direction, bytes) in flushed { bytes.withUnsafeBytes { deliver(.released(ByteView($0)), direction) } }
        for gap in gaps {
            deliver(.gap(gap.bytes), gap.toServer)
            drainAfterGap(slot: slot, toServer: gap.toServer, deliver: deliver)
        }
    }

    func segment(_ state: inout State, toServer: Bool, packet: Packet, deliver: (Chunk, Bool) -> Void) {
        let flags = packet.tcpFlags
        // The peer's acknowledgement can reveal bytes lost in this direction's opposite stream,
        // and releases the opposite stream's acknowledged bytes.
        if flags & TCPFlags.ack != 0 {
            checkGap(&state, ackedDirectionIsToServer: !toServer, ack: packet.tcpAck)
            withDirection(&state, !toServer) { deliverAcked(&$0, ack: packet.tcpAck, toServer: !toServer, deliver: deliver) }
        }
        // The first data byte's sequence number (a SYN takes one before it).
        var seq = packet.tcpSeq
        let payload = packet.payload
        if flags & TCPFlags.syn != 0 {
            withDirection(&state, toServer) { dir in
                dir.started = true
                dir.next = packet.tcpSeq &+ 1
            }
            // TCP Fast Open (RFC 7413): data may ride on the SYN.
            guard payload.count > 0 else { return }
            seq = packet.tcpSeq &+ 1
        }
        if payload.count > 0 {
            stats.segments &+= 1
            // The scratch buffer is moved out (not shared, so clearing it never reallocates).
            var collected: [UInt8] = []
            swap(&collected, &scratch)
            collected.removeAll(keepingCapacity: true)
            defer { swap(&collected, &scratch) }
            var forced: [UInt8] = []
            let inline = limits.inline
            withDirection(&state, toServer) { dir in
                if !dir.started {
                    // Picked up midstream (or the SYN was missed): start at this segment.
                    dir.started = true
                    dir.next = seq
                }
                guard !inline else {
                    accept(&dir, seq: seq, payload: payload) { chunk in
                        if case .data(let bytes) = chunk { collected.append(contentsOf: bytes.rawBuffer) }
                    }
                    return
                }
                // IDS mode: in-order bytes go straight to the end of the bytes waiting for
                // acknowledgement (the buffer is moved out while `accept` works on `dir`).
                var unacked: [UInt8] = []
                swap(&unacked, &dir.unacked)
                let before = unacked.count
                accept(&dir, seq: seq, payload: payload) { chunk in
                    if case .data(let bytes) = chunk { unacked.append(contentsOf: bytes.rawBuffer) }
                }
                let added = unacked.count - before
                if added > 0 {
                    if unackedUsed + added > limits.memcap {
                        // Too much waits for acknowledgement over all flows: hand this
                        // direction's bytes on now rather than grow.
                        stats.unackedForced &+= UInt64(unacked.count)
                        unackedUsed -= before
                        forced = unacked
                        dir.unackedSeq = dir.next
                        return
                    }
                    // The new bytes end where the stream now stands.
                    if before == 0 { dir.unackedSeq = dir.next &- UInt32(added) }
                    unackedUsed += added
                }
                swap(&unacked, &dir.unacked)
            }
            if !forced.isEmpty {
                forced.withUnsafeBytes { deliver(.data(ByteView($0)), toServer) }
            } else if !collected.isEmpty && limits.inline {
                collected.withUnsafeBytes { deliver(.data(ByteView($0)), toServer) }
            }
        }
        // A FIN takes one sequence number after the data: count it so the peer's ACK of the
        // FIN is not mistaken for lost data.
        if flags & TCPFlags.fin != 0 {
            let finEnd = seq &+ UInt32(payload.count)
            withDirection(&state, toServer) { d in
                if d.started && StreamReassembler.distance(d.next, finEnd) == 0 { d.next = d.next &+ 1 }
            }
        }
        // A reset ends both streams: whatever was in flight is handed on.
        if flags & TCPFlags.rst != 0 {
            flushUnacked(&state.toServer, toServer: true, deliver: deliver)
            flushUnacked(&state.toClient, toServer: false, deliver: deliver)
        }
    }

    /// Signed distance from `a` to `b` in sequence space.
    @inline(__always)
    static func distance(_ a: UInt32, _ b: UInt32) -> Int { Int(Int32(bitPattern: b &- a)) }

    func accept(_ dir: inout Direction, seq: UInt32, payload: ByteView, deliver: (Chunk) -> Void) {
        var offset = StreamReassembler.distance(dir.next, seq)
        var data = payload
        if offset + data.count <= 0 {
            stats.retransmissions &+= 1
            return
        }
        if offset < 0 {
            // The start overlaps bytes already delivered: keep the first copy.
            stats.overlaps &+= 1
            data = data.suffix(from: -offset) ?? .empty
            offset = 0
        }
        if offset > 0 {
            hold(&dir, seq: dir.next &+ UInt32(offset), data: data)
            return
        }
        emit(&dir, data, deliver: deliver)
        drain(&dir, deliver: deliver)
    }

    func emit(_ dir: inout Direction, _ data: ByteView, deliver: (Chunk) -> Void) {
        dir.next = dir.next &+ UInt32(data.count)
        guard !dir.depthReached else { return }
        let room = limits.depth - dir.delivered
        let part = data.prefix(room)
        if part.count > 0 {
            dir.delivered += part.count
            stats.delivered &+= UInt64(part.count)
            deliver(.data(part))
        }
        if dir.delivered >= limits.depth {
            dir.depthReached = true
            stats.depthReached &+= 1
            releaseHeld(&dir)
        }
    }

    /// Copies an out-of-order segment, trimming bytes that overlap what is already held.
    func hold(_ dir: inout Direction, seq: UInt32, data: ByteView) {
        stats.outOfOrder &+= 1
        guard !dir.depthReached else { return }
        var start = StreamReassembler.distance(dir.next, seq)
        var bytes = data.toArray()
        // First wins against held segments.
        for h in dir.held {
            let hs = StreamReassembler.distance(dir.next, h.seq), he = hs + h.bytes.count
            let e = start + bytes.count
            if e <= hs || start >= he { continue }
            stats.overlaps &+= 1
            if start >= hs && e <= he { return }
            if start < hs && e > he {
                bytes = Array(bytes[0..<(hs - start)])  // keep the part before; the tail is dropped
            } else if start < hs {
                bytes = Array(bytes[0..<(hs - start)])
            } else {
                bytes = Array(bytes[(he - start)...])
                start = he
            }
            if bytes.isEmpty { return }
        }
        guard dir.heldBytes + bytes.count <= min(limits.perFlowMemcap, Int(UInt32.max)), memoryUsed + bytes.count <= limits.memcap else {
            stats.memcapDrops &+= 1
            return
        }
        dir.held.append(Held(seq: dir.next &+ UInt32(start), bytes: bytes))
        dir.held.sort { StreamReassembler.distance(dir.next, $0.seq) < StreamReassembler.distance(dir.next, $1.seq) }
        dir.heldBytes += bytes.count
        memoryUsed += bytes.count
    }

    /// Delivers held segments that are now in order.
    func drain(_ dir: inout Direction, deliver: (Chunk) -> Void) {
        while let first = dir.held.first {
            let offset = StreamReassembler.distance(dir.next, first.seq)
            if offset > 0 { return }
            dir.held.removeFirst()
            dir.heldBytes -= first.bytes.count
            memoryUsed -= first.bytes.count
            let skip = -offset
            if skip >= first.bytes.count { stats.retransmissions &+= 1; continue }
            first.bytes.withUnsafeBytes { raw in
                let view = ByteView(raw).suffix(from: skip) ?? .empty
                emit(&dir, view, deliver: deliver)
            }
        }
    }

    func releaseHeld(_ dir: inout Direction) {
        memoryUsed -= dir.heldBytes
        dir.heldBytes = 0
        dir.held.removeAll()
    }

    /// If the other side acknowledged bytes this side never delivered, skip the gap.
    func checkGap(_ state: inout State, ackedDirectionIsToServer: Bool, ack: UInt32) {
        withDirection(&state, ackedDirectionIsToServer) { dir in
            guard dir.started, StreamReassembler.distance(dir.next, ack) > 0, !dir.depthReached else { return }
            // Data up to `ack` was received by the peer but not seen here. Held data past the
            // gap stays; delivery resumes at the first held byte or at `ack`.
            let target = dir.held.first.map { StreamReassembler.distance(dir.next, $0.seq) <= StreamReassembler.distance(dir.next, ack) ? $0.seq : ack } ?? ack
            let missing = StreamReassembler.distance(dir.next, target)
            guard missing > 0 else { return }
            stats.gaps &+= 1
            // Bytes still waiting for acknowledgement come before the gap: they go on as they are.
            if !dir.unacked.isEmpty {
                gapFlush.append((ackedDirectionIsToServer, dir.unacked))
                dir.unackedSeq = dir.unackedSeq &+ UInt32(dir.unacked.count)
                unackedUsed -= dir.unacked.count
                dir.unacked = []
            }
            dir.next = target
            pendingGaps.append((ackedDirectionIsToServer, missing))
        }
    }

    /// Unacknowledged bytes released by a gap, passed on before the gap.
    var gapFlush: [(toServer: Bool, bytes: [UInt8])] = []

    /// Gaps found while handling the segment, passed on at its end.
    var pendingGaps: [(toServer: Bool, bytes: Int)] = []

    /// Delivers what held segments became deliverable after a gap skip.
    func drainAfterGap(slot: Int, toServer: Bool, deliver: (Chunk, Bool) -> Void) {
        guard slot < states.count else { return }
        var state = State()
        swap(&state, &states[slot])
        var collected: [UInt8] = []
        withDirection(&state, toServer) { dir in
            drain(&dir) { chunk in
                if case .data(let bytes) = chunk { collected.append(contentsOf: bytes.rawBuffer) }
            }
        }
        swap(&state, &states[slot])
        if !collected.isEmpty { collected.withUnsafeBytes { deliver(.released(ByteView($0)), toServer) } }
    }
}

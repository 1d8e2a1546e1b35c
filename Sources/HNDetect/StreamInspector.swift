import HNAppLayer
import HNDecode
import HNFlow

/// Stream-level matching: the in-order bytes handed on for each direction on a packet (in IDS
/// mode, the other direction's acknowledged data) are inspected as one payload by the TCP
/// payload rules of established flows, so content that spans segments matches. The last bytes
/// of each inspection are kept and put in front of the next, so a match across two deliveries
/// is found too. One alert per signature for the same bytes, as Suricata reports them: a rule
/// that alerted on a packet is left out of the stream inspections until that packet's bytes
/// and the overlap after them have gone through, and a rule that alerted on the stream is
/// left out until the bytes it matched have left the overlap (the overlap can hold the
/// stream's first bytes again: a `depth` match would be found twice otherwise).
///
/// Per-flow state lives at the flow's slot (`Flow.slot`), made on first use and reused from
/// a bounded pool after the flow ends.
public final class StreamInspector {
    /// Overlap kept between stream inspections.
    public static let overlap = 256
    /// Flows whose tail is kept at most (a flood of connections cannot grow memory past it).
    public static let maxTailFlows = 1 << 16

    /// One flow's stream-matching state, per direction (to server, to client).
    final class State {
        /// Stream rules that alerted recently, per direction, with how many more stream bytes
        /// must go through before they are inspected again.
        var recent = Both<[Recent]>([])
        /// The last bytes inspected, and whether this flow counts against `maxTailFlows`.
        var tail = Both<[UInt8]>([])
        var hasTail = false

        func reset() {
            recent[0].removeAll(keepingCapacity: true)
            recent[1].removeAll(keepingCapacity: true)
            tail[0].removeAll(keepingCapacity: true)
            tail[1].removeAll(keepingCapacity: true)
            hasTail = false
        }

        /// Leaves `rule` out until `bytes` more stream bytes have gone through.
        func hold(_ rule: Int, direction d: Int, bytes: Int) {
            if let i = recent[d].firstIndex(where: { $0.rule == rule }) {
                recent[d][i].left = max(recent[d][i].left, bytes)
            } else {
                recent[d].append(Recent(rule: rule, left: bytes))
            }
        }
    }

    struct Recent {
        var rule: Int
        var left: Int
    }

    var states: [State?] = []
    var spare: [State] = []
    static let maxSpare = 1024
    var tailFlows = 0
    /// The window being inspected (reused).
    var window: [UInt8] = []
    var buffers = InspectionBuffers()

    public init() {}

    func state(_ slot: Int) -> State {
        if slot >= states.count { states.append(contentsOf: repeatElement(nil, count: slot + 1 - states.count)) }
        if let s = states[slot] { return s }
        let s = spare.popLast() ?? State()
        states[slot] = s
        return s
    }

    /// A stream rule alerted on a packet of this direction carrying `bytes` bytes: the stream
    /// inspections leave it out until those bytes and the overlap after them have gone through.
    public func packetAlerted(slot: Int, toServer: Bool, rule: Int, bytes: Int) {
        state(slot).hold(rule, direction: toServer ? 0 : 1, bytes: bytes + StreamInspector.overlap)
    }

    /// Inspects `data` (the stream bytes handed on this packet per direction, starting at
    /// `streamOffsets` in each direction's stream) for the flow at `slot`; `packet` is the
    /// packet being processed (its tuple is turned for the other direction). Anchored content
    /// (`depth`, `offset`, `startswith`) is placed in the stream, not in the window, as
    /// Suricata does: `depth:2` matches the stream's first two bytes only. Returns the
    /// strongest verdict, starting from `result`.
    public func inspect(_ packet: Packet, packetNumber: UInt64, flow: Flow, slot: Int, toServer: Bool, data: Both<[UInt8]>,
                        streamOffsets: Both<Int>, detection: DetectionEngine, facts: AppFacts?, result: DetectionEngine.Verdict,
                        emit: (Alert) -> Void) -> DetectionEngine.Verdict {
        var verdict = result
        for d in 0..<2 {
            let direction = d == 0
            guard !data[d].isEmpty else { continue }
            let existing = slot < states.count ? states[slot] : nil
            let skip: Set<Int> = existing.map { $0.recent[d].isEmpty ? [] : Set($0.recent[d].lazy.map(\.rule)) } ?? []
            if let existing, !existing.recent[d].isEmpty {
                // These bytes count against what the held rules wait for.
                let n = data[d].count
                for i in existing.recent[d].indices { existing.recent[d][i].left -= n }
                existing.recent[d].removeAll { $0.left <= 0 }
            }
            var view = packet
            if direction != toServer {
                swap(&view.source, &view.destination)
                swap(&view.sourcePort, &view.destinationPort)
            }
            // The window is built in a reused buffer: the tail kept from the last inspection,
            // then this packet's bytes. Moved out, not shared, so clearing it never reallocates.
            var window: [UInt8] = []
            swap(&window, &self.window)
            window.removeAll(keepingCapacity: true)
            defer { swap(&window, &self.window) }
            if let existing, existing.hasTail { window.append(contentsOf: existing.tail[d]) }
            let windowStart = max(0, streamOffsets[d] - window.count)
            window.append(contentsOf: data[d])
            var alerted: [Int] = []
            let next = window.withUnsafeBytes { raw -> DetectionEngine.Verdict in
                view.payload = ByteView(raw)
                buffers.clear()
                buffers.set(.payload, ByteView(raw))
                detection.streamStart = windowStart
                defer { detection.streamStart = 0 }
                return detection.inspect(view, packetNumber: packetNumber, flow: flow, flowKey: Int(flow.id), toServer: direction,
                                         buffers: buffers, facts: facts, streamOnly: true, skip: skip) { alert in
                    alerted.append(alert.ruleIndex)
                    emit(alert)
                }
            }
            let keeps = existing?.hasTail == true
            if tailFlows < StreamInspector.maxTailFlows || keeps {
                let s = existing ?? state(slot)
                if !s.hasTail {
                    s.hasTail = true
                    tailFlows += 1
                }
                // Updated in place: the tail's storage is reused from one packet to the next.
                s.tail[d].replaceSubrange(0..., with: window.suffix(StreamInspector.overlap))
                // What matched here stays in the overlap until that many new bytes came.
                for rule in alerted { s.hold(rule, direction: d, bytes: StreamInspector.overlap) }
            }
            if next != .accepted { verdict = next }
        }
        return verdict
    }

    /// The flow at `slot` ended: its state goes back to the pool.
    public func flowEnded(slot: Int) {
        guard slot < states.count, let s = states[slot] else { return }
        states[slot] = nil
        if s.hasTail { tailFlows -= 1 }
        if spare.count < StreamInspector.maxSpare {
            s.reset()
            spare.append(s)
        }
    }
}

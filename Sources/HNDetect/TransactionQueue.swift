import HNAppLayer
import HNDecode

/// The transactions a packet makes available, in the order detection inspects them: those of
/// the packet's direction left from earlier packets (their data was acknowledged by the peer),
/// then those this packet completed. Transactions of the other direction wait for the next
/// packet of their own direction, as in Suricata, with the stream bytes that completed them.
/// Waiting transactions are kept per flow at its slot (`Flow.slot`), both bounded.
public final class TransactionQueue {
    /// One transaction's inspection buffers.
    public struct Transaction {
        public var tx: Int
        /// Its events with buffers: the first, and any more (most transactions have one per
        /// packet, kept without an array).
        public var first: AppEvent
        public var more: [AppEvent] = []
        /// The reassembled stream bytes that completed it, inspected as its payload (a
        /// one-buffer block; empty when none).
        public var stream: BufferBlock
        /// Completed by the packet being inspected (it then sees that packet's payload).
        public var fromThisPacket: Bool

        public var events: [AppEvent] { [first] + more }
    }

    /// Flows with waiting transactions at most, and transactions waiting per direction: a
    /// flood of half-open transactions cannot grow memory.
    public static let maxFlows = 1 << 16
    public static let maxPerDirection = 64

    /// Per slot: waiting transactions to the server (0) and to the client (1).
    var waiting: [Both<[Transaction]>?] = []
    var waitingFlows = 0
    /// The transactions of the packet being inspected, in order (valid until the next `collect`).
    public private(set) var groups: [Transaction] = []
    var deferred: [Transaction] = []
    /// Builds the stream blocks of deferred transactions.
    var streamBlocks = BufferBlock.Builder()

    public init() {}

    /// Sorts the events of a packet of the flow at `slot` (nil: no flow) into `groups`, and
    /// keeps those of the other direction, with `streamData` of theirs, for later.
    public func collect(_ events: [AppEvent], slot: Int?, toServer: Bool, streamData: Both<[UInt8]>) {
        groups.removeAll(keepingCapacity: true)
        deferred.removeAll(keepingCapacity: true)
        let d = toServer ? 0 : 1
        if waitingFlows > 0, let slot, slot < waiting.count, waiting[slot] != nil, !waiting[slot]![d].isEmpty {
            groups.append(contentsOf: waiting[slot]![d])
            waiting[slot]![d].removeAll(keepingCapacity: true)
        }
        // The stream bytes of each direction, as a block shared by the transactions it completed.
        var streamBlock: (BufferBlock?, BufferBlock?) = (nil, nil)
        for event in events where !event.buffers.isEmpty {
            if event.toServer == toServer {
                if let i = groups.firstIndex(where: { $0.fromThisPacket && $0.tx == event.transactionID }) {
                    groups[i].more.append(event)
                } else {
                    groups.append(Transaction(tx: event.transactionID, first: event, stream: .empty, fromThisPacket: true))
                }
            } else if let i = deferred.firstIndex(where: { $0.tx == event.transactionID }) {
                deferred[i].more.append(event)
            } else {
                let e = event.toServer ? 0 : 1
                var block = e == 0 ? streamBlock.0 : streamBlock.1
                if block == nil {
                    if !streamData[e].isEmpty { streamBlocks.add(.payload, streamData[e]) }
                    block = streamBlocks.build()
                    if e == 0 { streamBlock.0 = block } else { streamBlock.1 = block }
                }
                deferred.append(Transaction(tx: event.transactionID, first: event, stream: block!, fromThisPacket: false))
            }
        }
        guard let slot, !deferred.isEmpty, waitingFlows < TransactionQueue.maxFlows else { return }
        let other = 1 - d
        if slot >= waiting.count { waiting.append(contentsOf: repeatElement(nil, count: slot + 1 - waiting.count)) }
        if waiting[slot] != nil {
            let room = TransactionQueue.maxPerDirection - waiting[slot]![other].count
            waiting[slot]![other].append(contentsOf: deferred.prefix(room))
        } else {
            var slots = Both<[Transaction]>([])
            slots[other] = Array(deferred.prefix(TransactionQueue.maxPerDirection))
            waiting[slot] = slots
            waitingFlows += 1
        }
    }

    /// The flow at `slot` ended: the events of its transactions still waiting (both
    /// directions, to the server first), without their records (written when produced).
    public func flowEnded(slot: Int) -> [AppEvent] {
        guard waitingFlows > 0, slot < waiting.count, let left = waiting[slot] else { return [] }
        waiting[slot] = nil
        waitingFlows -= 1
        guard !left[0].isEmpty || !left[1].isEmpty else { return [] }
        return (left[0] + left[1]).flatMap(\.events).map { e -> AppEvent in
            var copy = e
            copy.record = nil
            return copy
        }
    }
}

import HNDecode

/// The table of live flows: an open-addressing hash index over a slab of inline `Flow`
/// records, with a timer wheel that expires idle flows by packet time.
///
/// - Lookup: linear probing on a power-of-two index of slab positions, keyed by a hash seeded
///   per table (so crafted tuples cannot force collisions) and compared field by field.
/// - Expiry: each flow is filed in the wheel under the second its timeout would fall; when
///   packet time passes that second the flow is checked and either expired or filed again
///   (lazy rescheduling: a packet never moves a flow in the wheel unless its expiry moved
///   earlier). Output order therefore depends only on the packets, never on hashing.
/// - Memory: at most `maxFlows` records; when full, the flow nearest its timeout is evicted
///   (reason `forced`) and counted. Nothing allocates per packet once the slab has grown.
public final class FlowTable {
    public struct Stats: Sendable {
        public var created: UInt64 = 0
        public var tcp: UInt64 = 0
        public var udp: UInt64 = 0
        public var icmp: UInt64 = 0
        public var other: UInt64 = 0
        public var timedOut: UInt64 = 0
        /// Flows evicted because the table was at its memory cap.
        public var evicted: UInt64 = 0
        public var reused: UInt64 = 0
        public var flushed: UInt64 = 0
        /// Packets that did not belong to a flow (no IP layer, or a fragment being held).
        public var notTracked: UInt64 = 0
        public var peakActive: Int = 0
        public init() {}
    }

    /// Approximate bytes one flow costs: its slab record plus its share of the index.
    public static let bytesPerFlow = MemoryLayout<Flow>.stride + 2 * MemoryLayout<UInt32>.stride

    public let timeouts: FlowTimeouts
    public let maxFlows: Int
    /// Pick up TCP connections whose handshake was not seen (Suricata's `stream.midstream`,
    /// off by default): when false such a flow stays `new` and never counts as established.
    public let midstream: Bool
    public private(set) var stats = Stats()

    @usableFromInline var slab: [Flow] = []
    @usableFromInline var freeList: [UInt32] = []
    /// Positions of the flows one `advance` ends (kept to reuse its storage).
    @usableFromInline var expiring: [Int] = []
    /// Open-addressing index: slab position + 1, 0 = empty slot.
    @usableFromInline var index: [UInt32]
    @usableFromInline var indexMask: Int
    @usableFromInline var active = 0
    @usableFromInline let seed: UInt64

    static let wheelSize = 4096
    @usableFromInline var wheel = [UInt32](repeating: 0, count: FlowTable.wheelSize)
    /// Last flow of each bucket: flows are appended, so a bucket lists flows in filing order.
    @usableFromInline var wheelTail = [UInt32](repeating: 0, count: FlowTable.wheelSize)
    /// The last second whose wheel bucket has been processed.
    @usableFromInline var wheelNow: Int64 = Int64.min

    /// - Parameters:
    ///   - memcap: bytes the table may use; sets `maxFlows`.
    ///   - seed: hash seed for the index. Changing it changes nothing in the output.
    public init(timeouts: FlowTimeouts = FlowTimeouts(), memcap: Int = 128 << 20, midstream: Bool = false,
                seed: UInt64 = 0x9E37_79B9_7F4A_7C15) {
        self.timeouts = timeouts
        self.midstream = midstream
        self.maxFlows = max(16, memcap / FlowTable.bytesPerFlow)
        self.seed = seed
        self.index = [UInt32](repeating: 0, count: 1024)
        self.indexMask = 1023
    }

    public var activeFlows: Int { active }

    /// The flow at a slab position (valid until the table is next mutated).
    /// Inlinable, so a caller's in-place access needs no coroutine frame (which, for a
    /// 160-byte struct across modules, was a heap allocation per access).
    @inlinable
    public subscript(position: Int) -> Flow {
        get { slab[position] }
        _modify { yield &slab[position] }
    }

    // MARK: Hashing


    static func mix(_ x: UInt64) -> UInt64 {
        var z = x
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// A direction-independent hash of the flow key.

    static func keyHash(_ a: IPAddress, _ pa: UInt16, _ b: IPAddress, _ pb: UInt16, proto: UInt8,
                        vlan: UInt32, segment: UInt16, depth: UInt8 = 0, seed: UInt64) -> UInt64 {
        let ha = mix(a.high ^ mix(a.low ^ UInt64(pa)))
        let hb = mix(b.high ^ mix(b.low ^ UInt64(pb)))
        // Addition is symmetric, so both directions hash alike.
        return mix((ha &+ hb) ^ seed ^ UInt64(proto) << 56 ^ UInt64(vlan) << 8 ^ UInt64(segment) << 40 ^ UInt64(depth) << 62)
    }

    // MARK: Packet path

    public enum Direction: Sendable { case toServer, toClient }

    /// The result of `track`: the slab position of the packet's flow and its direction, or
    /// nil for packets that are not tracked.
    public struct Tracked: Sendable {
        public var position: Int
        public var direction: Direction
        public var created: Bool
    }

    /// Finds or creates the flow of `packet`, updates its counters and state, and expires
    /// idle flows up to the packet's time. Expired and evicted flows are handed to `onEnd`
    /// before the table reuses their slot.

    public func track(_ packet: Packet, onEnd: (Flow, FlowEndReason) -> Void) -> Tracked? {
        advance(to: packet.timestamp, onEnd: onEnd)
        guard packet.ipVersion != 0, !packet.isFragment else {
            stats.notTracked &+= 1
            return nil
        }
        // An ICMPv4 error about a tracked flow's packet belongs to that flow (Suricata counts
        // it there): found by the returned header's tuple, travelling back to its sender.
        if packet.ipProto == IPProto.icmp, let tracked = icmpError(packet, onEnd: onEnd) { return tracked }
        var sport = packet.sourcePort, dport = packet.destinationPort
        let proto = packet.ipProto
        if !IPProto.hasPorts(proto) { sport = 0; dport = 0 }
        // ESP: each security association (SPI) is a flow of its own, as Suricata keys them;
        // the SPI stands in the port fields.
        if proto == IPProto.esp { sport = UInt16(packet.espSPI >> 16); dport = UInt16(packet.espSPI & 0xFFFF) }
        // ICMPv4 queries and their replies (echo, timestamp, information, address mask): the
        // query's type on the asker's side, so a reply joins the flow of the query it answers
        // and a reply with no query is a flow of its own (as Suricata pairs them).
        if proto == IPProto.icmp, let (query, isReply) = FlowTable.icmpQuery(packet.icmpType) {
            if isReply { dport = UInt16(query) } else { sport = UInt16(query) }
        }
        let depth = packet.tunnelDepth
        let vlan = UInt32(packet.vlan0) << 16 | UInt32(packet.vlan1)
        let hash = FlowTable.keyHash(packet.source, sport, packet.destination, dport, proto: proto,
                                     vlan: vlan, segment: packet.segment, depth: depth, seed: seed)
        if let (position, direction) = probe(hash: hash, packet.source, sport, packet.destination, dport, proto: proto, like: packet) {
            if update(position, packet, direction, onEnd: onEnd) {
                return Tracked(position: position, direction: direction, created: false)
            }
            // The old connection ended (TCP port reuse): start a new flow below.
        }
        return create(packet, sport: sport, dport: dport, hash: hash, onEnd: onEnd)
    }

    /// The flow an ICMPv4 error (unreachable, source quench, redirect, time exceeded,
    /// parameter problem) is about, when tracked: its body carries the IPv4 header and the
    /// first 8 bytes of the packet that caused it.
    func icmpError(_ packet: Packet, onEnd: (Flow, FlowEndReason) -> Void) -> Tracked? {
        guard [3, 4, 5, 11, 12].contains(packet.icmpType) else { return nil }
        let body = packet.payload
        guard let first = body.u8(0), first >> 4 == 4, let proto = body.u8(9), IPProto.hasPorts(proto),
              let source = body.u32(12), let destination = body.u32(16) else { return nil }
        let headerLength = Int(first & 0x0F) * 4
        guard headerLength >= 20, let sport = body.u16(headerLength), let dport = body.u16(headerLength + 2) else { return nil }
        let inner = (source: IPAddress(ipv4: source), destination: IPAddress(ipv4: destination))
        let vlan = UInt32(packet.vlan0) << 16 | UInt32(packet.vlan1)
        let hash = FlowTable.keyHash(inner.source, sport, inner.destination, dport, proto: proto, vlan: vlan, segment: packet.segment,
                                     depth: packet.tunnelDepth, seed: seed)
        // The error goes back to the sender of the packet it quotes.
        guard let (position, quoted) = probe(hash: hash, inner.source, sport, inner.destination, dport, proto: proto, like: packet) else { return nil }
        let direction: Direction = quoted == .toServer ? .toClient : .toServer
        _ = update(position, packet, direction, onEnd: onEnd)
        return Tracked(position: position, direction: direction, created: false)
    }

    /// The flow of a tuple (with the VLANs, segment and tunnel depth of `like`), and the
    /// direction the tuple goes in it: the index probed from `hash`, records read in place.
    @inline(__always)
    func probe(hash: UInt64, _ source: IPAddress, _ sport: UInt16, _ destination: IPAddress, _ dport: UInt16, proto: UInt8,
               like packet: Packet) -> (Int, Direction)? {
        var slot = Int(truncatingIfNeeded: hash) & indexMask
        while true {
            let entry = index[slot]
            if entry == 0 { return nil }
            let position = Int(entry - 1)
            let direction = slab.withUnsafeBufferPointer { flows -> Direction? in
                // Fields read through the pointer: the record is not copied.
                let f = flows.baseAddress! + position
                guard f.pointee.proto == proto, f.pointee.vlan0 == packet.vlan0, f.pointee.vlan1 == packet.vlan1,
                      f.pointee.segment == packet.segment, f.pointee.tunnelDepth == packet.tunnelDepth else { return nil }
                if f.pointee.client == source && f.pointee.server == destination
                    && f.pointee.clientPort == sport && f.pointee.serverPort == dport { return .toServer }
                if f.pointee.server == source && f.pointee.client == destination
                    && f.pointee.serverPort == sport && f.pointee.clientPort == dport { return .toClient }
                return nil
            }
            if let direction { return (position, direction) }
            slot = (slot + 1) & indexMask
        }
    }

    /// An ICMPv4 query/reply type's query type, and whether it is the reply.
    @inline(__always)
    static func icmpQuery(_ type: UInt8) -> (UInt8, Bool)? {
        switch type {
        case 8, 13, 15, 17: (type, false)
        case 0: (8, true)
        case 14, 16, 18: (type - 1, true)
        default: nil
        }
    }

    /// Updates an existing flow; returns false when the flow was ended for TCP reuse.
    /// Works on the record's fields in place (the 144-byte record is never copied).
    @usableFromInline
    func update(_ position: Int, _ packet: Packet, _ direction: Direction,
                onEnd: (Flow, FlowEndReason) -> Void) -> Bool {
        let toServer = direction == .toServer
        let midstream = midstream, timeouts = timeouts
        let (reuse, oldExpiry, newExpiry) = slab.withUnsafeMutableBufferPointer { flows -> (Bool, Int64, Int64) in
            let f = flows.baseAddress! + position
            if packet.ipProto == IPProto.tcp {
                var tcp = f.pointee.tcpState, reset = f.pointee.reset
                let action = tcp.onSegment(flags: packet.tcpFlags, toServer: toServer, midstream: midstream, reset: &reset)
                f.pointee.tcpState = tcp
                f.pointee.reset = reset
                if action == .reuse { return (true, 0, 0) }
            }
            let oldExpiry = FlowTable.expiry(last: f.pointee.last, proto: f.pointee.proto, state: f.pointee.state, timeouts)
            let length = UInt64(packet.captureLength)
            if toServer {
                f.pointee.packetsToServer &+= 1
                f.pointee.bytesToServer &+= length
                f.pointee.tcpFlagsToServer |= packet.tcpFlags
            } else {
                f.pointee.packetsToClient &+= 1
                f.pointee.bytesToClient &+= length
                f.pointee.tcpFlagsToClient |= packet.tcpFlags
                if !f.pointee.hasResponseICMP && IPProto.isICMP(packet.ipProto) && IPProto.isICMP(f.pointee.proto) {
                    f.pointee.hasResponseICMP = true
                    f.pointee.responseICMPType = packet.icmpType
                    f.pointee.responseICMPCode = packet.icmpCode
                }
            }
            if packet.timestamp > f.pointee.last { f.pointee.last = packet.timestamp }
            let state = FlowTable.flowState(proto: f.pointee.proto, tcp: f.pointee.tcpState,
                                            toServer: f.pointee.packetsToServer, toClient: f.pointee.packetsToClient)
            f.pointee.state = state
            return (false, oldExpiry, FlowTable.expiry(last: f.pointee.last, proto: f.pointee.proto, state: state, timeouts))
        }
        if reuse {
            stats.reused &+= 1
            end(position, reason: .tcpReuse, onEnd: onEnd)
            return false
        }
        if newExpiry < oldExpiry { reschedule(position, newExpiry) }
        return true
    }

    @usableFromInline
    static func flowState(_ f: Flow) -> FlowState {
        flowState(proto: f.proto, tcp: f.tcpState, toServer: f.packetsToServer, toClient: f.packetsToClient)
    }

    @usableFromInline
    static func flowState(proto: UInt8, tcp: TCPState, toServer: UInt64, toClient: UInt64) -> FlowState {
        if proto == IPProto.tcp {
            if tcp.isFinished { return .closed }
            switch tcp {
            case .none, .synSent, .synReceived: return .new
            default: return .established
            }
        }
        return toClient > 0 && toServer > 0 ? .established : .new
    }

    @usableFromInline
    func create(_ packet: Packet, sport: UInt16, dport: UInt16, hash: UInt64,
                onEnd: (Flow, FlowEndReason) -> Void) -> Tracked {
        if active >= maxFlows { evictOne(onEnd: onEnd) }
        var f = Flow()
        // A first SYN-ACK means we missed the SYN: the sender is the server.
        let synAck = packet.ipProto == IPProto.tcp && packet.tcpFlags & (TCPFlags.syn | TCPFlags.ack) == (TCPFlags.syn | TCPFlags.ack)
        // A connection picked up midstream: a well-known source port talking to an ephemeral
        // one is the server answering.
        let midstreamServer = midstream && packet.ipProto == IPProto.tcp && packet.tcpFlags & TCPFlags.syn == 0
            && sport < 1024 && dport >= 1024
        // A UDP flow whose first datagram is a DNS response (QR set) from port 53.
        let dnsResponse = packet.ipProto == IPProto.udp && sport == 53 && dport != 53 && packet.payload.count >= 12
            && (packet.payload.u8(2) ?? 0) & 0x80 != 0
        let reversed = synAck || midstreamServer || dnsResponse
        f.startedWithResponse = dnsResponse
        f.client = reversed ? packet.destination : packet.source
        f.server = reversed ? packet.source : packet.destination
        f.clientPort = reversed ? dport : sport
        f.serverPort = reversed ? sport : dport
        f.proto = packet.ipProto
        f.ipVersion = packet.ipVersion
        f.vlanCount = packet.vlanCount
        f.vlan0 = packet.vlan0
        f.vlan1 = packet.vlan1
        f.segment = packet.segment
        f.tunnelDepth = packet.tunnelDepth
        f.start = packet.timestamp
        f.last = packet.timestamp
        f.id = FlowTable.flowID(f)
        f.inUse = true
        if IPProto.isICMP(packet.ipProto) {
            f.icmpType = packet.icmpType
            f.icmpCode = packet.icmpCode
        }
        let toServer = !reversed
        if packet.ipProto == IPProto.tcp {
            _ = f.tcpState.onSegment(flags: packet.tcpFlags, toServer: toServer, midstream: midstream, reset: &f.reset)
            // Picked up without the client's SYN (Suricata's midstream, a SYN-ACK first too).
            f.midstream = midstream && (packet.tcpFlags & TCPFlags.syn == 0 || synAck)
        }
        let length = UInt64(packet.captureLength)
        if toServer {
            f.packetsToServer = 1; f.bytesToServer = length; f.tcpFlagsToServer = packet.tcpFlags
        } else {
            f.packetsToClient = 1; f.bytesToClient = length; f.tcpFlagsToClient = packet.tcpFlags
        }
        f.state = FlowTable.flowState(f)

        let position: Int
        if let free = freeList.popLast() {
            position = Int(free)
            f.slot = free
            slab[position] = f
        } else {
            position = slab.count
            f.slot = UInt32(position)
            slab.append(f)
        }
        active += 1
        if active > stats.peakActive { stats.peakActive = active }
        stats.created &+= 1
        switch f.proto {
        case IPProto.tcp: stats.tcp &+= 1
        case IPProto.udp: stats.udp &+= 1
        case 1, 58: stats.icmp &+= 1
        default: stats.other &+= 1
        }
        if active * 2 > index.count { growIndex() }
        insertIndex(position, hash: hash)
        schedule(position, expiry(of: slab[position]))
        return Tracked(position: position, direction: toServer ? .toServer : .toClient, created: true)
    }

    /// A deterministic 51-bit identifier (exactly representable in JSON numbers).
    static func flowID(_ f: Flow) -> UInt64 {
        var h = mix(f.client.high ^ mix(f.client.low ^ UInt64(f.clientPort) << 16 ^ UInt64(f.serverPort)))
        h = mix(h ^ f.server.high ^ mix(f.server.low ^ UInt64(f.proto)))
        h = mix(h ^ UInt64(bitPattern: f.start) ^ UInt64(f.vlan0) << 20 ^ UInt64(f.segment) << 36 ^ UInt64(f.tunnelDepth) << 60)
        return h & ((1 << 51) - 1)
    }

    // MARK: Index

    @usableFromInline
    func insertIndex(_ position: Int, hash: UInt64) {
        var slot = Int(truncatingIfNeeded: hash) & indexMask
        while index[slot] != 0 { slot = (slot + 1) & indexMask }
        index[slot] = UInt32(position + 1)
    }

    func hashOf(_ f: Flow) -> UInt64 {
        FlowTable.keyHash(f.client, f.clientPort, f.server, f.serverPort, proto: f.proto,
                          vlan: UInt32(f.vlan0) << 16 | UInt32(f.vlan1), segment: f.segment, depth: f.tunnelDepth, seed: seed)
    }

    func growIndex() {
        let newCount = index.count * 2
        index = [UInt32](repeating: 0, count: newCount)
        indexMask = newCount - 1
        for position in slab.indices where slab[position].inUse {
            insertIndex(position, hash: hashOf(slab[position]))
        }
    }

    /// Removes a position from the index with backward-shift deletion (no tombstones).
    func removeIndex(_ position: Int) {
        var slot = Int(truncatingIfNeeded: hashOf(slab[position])) & indexMask
        while index[slot] != UInt32(position + 1) {
            guard index[slot] != 0 else { return }
            slot = (slot + 1) & indexMask
        }
        var hole = slot
        var next = (hole + 1) & indexMask
        while index[next] != 0 {
            let home = Int(truncatingIfNeeded: hashOf(slab[Int(index[next] - 1)])) & indexMask
            // Move the entry back if its home is not cyclically within (hole, next].
            let distanceToNext = (next - home) & indexMask
            let distanceToHole = (hole - home) & indexMask
            if distanceToHole < distanceToNext {
                index[hole] = index[next]
                hole = next
            }
            next = (next + 1) & indexMask
        }
        index[hole] = 0
    }

    // MARK: Expiry

    @usableFromInline
    func expiry(of f: Flow) -> Int64 {
        FlowTable.expiry(last: f.last, proto: f.proto, state: f.state, timeouts)
    }

    /// When a flow last seen at `last` times out in `state`.
    @inline(__always)
    static func expiry(last: Int64, proto: UInt8, state: FlowState, _ timeouts: FlowTimeouts) -> Int64 {
        last &+ timeouts.nanos(proto: proto, state: state)
    }

    /// The second of the timer wheel a time falls in (floor division, so times before 1970
    /// fall in the second before). Workers' clock ticks use it too.
    @inlinable
    public static func second(_ nanos: Int64) -> Int64 {
        nanos >= 0 ? nanos / 1_000_000_000 : (nanos - 999_999_999) / 1_000_000_000
    }

    @usableFromInline
    func schedule(_ position: Int, _ expiry: Int64) {
        var second = FlowTable.second(expiry)
        if wheelNow != Int64.min && second <= wheelNow { second = wheelNow + 1 }
        let bucket = Int(truncatingIfNeeded: second) & (FlowTable.wheelSize - 1)
        let tail = wheelTail[bucket]
        let entry = UInt32(position + 1)
        slab[position].wheelSecond = second
        slab[position].wheelPrev = tail
        slab[position].wheelNext = 0
        if tail != 0 { slab[Int(tail - 1)].wheelNext = entry } else { wheel[bucket] = entry }
        wheelTail[bucket] = entry
    }

    @usableFromInline
    func unschedule(_ position: Int) {
        let prev = slab[position].wheelPrev, next = slab[position].wheelNext
        let bucket = Int(truncatingIfNeeded: slab[position].wheelSecond) & (FlowTable.wheelSize - 1)
        let entry = UInt32(position + 1)
        if prev != 0 {
            slab[Int(prev - 1)].wheelNext = next
        } else if wheel[bucket] == entry {
            wheel[bucket] = next
        }
        if next != 0 {
            slab[Int(next - 1)].wheelPrev = prev
        } else if wheelTail[bucket] == entry {
            wheelTail[bucket] = prev
        }
        slab[position].wheelNext = 0
        slab[position].wheelPrev = 0
    }

    @usableFromInline
    func reschedule(_ position: Int, _ expiry: Int64) {
        unschedule(position)
        schedule(position, expiry)
    }

    /// Processes the wheel up to `now`: every flow idle past its timeout is ended. The flows
    /// that expire together are ended in (second filed under, flow id) order, which depends on
    /// each flow alone: several workers, each with a share of the flows, end theirs in an order
    /// the merge reproduces exactly.
    public func advance(to now: Int64, onEnd: (Flow, FlowEndReason) -> Void) {
        let nowSecond = FlowTable.second(now)
        if wheelNow == Int64.min { wheelNow = nowSecond - 1; return }
        guard nowSecond - 1 > wheelNow else { return }
        let target = nowSecond - 1
        // Beyond one turn of the wheel every bucket is visited once.
        let first = max(wheelNow + 1, target - Int64(FlowTable.wheelSize) + 1)
        wheelNow = target
        var second = first
        expiring.removeAll(keepingCapacity: true)
        while second <= target {
            collectBucket(second, now: now)
            second += 1
        }
        guard !expiring.isEmpty else { return }
        if expiring.count > 1 {
            expiring.sort { (slab[$0].wheelSecond, slab[$0].id) < (slab[$1].wheelSecond, slab[$1].id) }
        }
        for position in expiring {
            stats.timedOut &+= 1
            release(position, reason: .timeout, onEnd: onEnd)
        }
    }

    /// Takes one second's bucket off the wheel: flows past their timeout go to `expiring`
    /// (still filed under that second), the others are filed again at their new expiry.
    @usableFromInline
    func collectBucket(_ second: Int64, now: Int64) {
        let bucket = Int(truncatingIfNeeded: second) & (FlowTable.wheelSize - 1)
        var entry = wheel[bucket]
        wheel[bucket] = 0
        wheelTail[bucket] = 0
        while entry != 0 {
            let position = Int(entry - 1)
            entry = slab[position].wheelNext
            if entry != 0 { slab[Int(entry - 1)].wheelPrev = 0 }
            slab[position].wheelNext = 0
            slab[position].wheelPrev = 0
            let due = expiry(of: slab[position])
            if due < now {
                slab[position].wheelSecond = second
                expiring.append(position)
            } else {
                schedule(position, due)
            }
        }
    }

    /// Ends the flow nearest its timeout to make room.
    func evictOne(onEnd: (Flow, FlowEndReason) -> Void) {
        let start = wheelNow == Int64.min ? 0 : wheelNow + 1
        for offset in 0..<Int64(FlowTable.wheelSize) {
            let bucket = Int(truncatingIfNeeded: start + offset) & (FlowTable.wheelSize - 1)
            let head = wheel[bucket]
            if head != 0 {
                stats.evicted &+= 1
                end(Int(head - 1), reason: .forced, onEnd: onEnd)
                return
            }
        }
    }

    func end(_ position: Int, reason: FlowEndReason, onEnd: (Flow, FlowEndReason) -> Void) {
        unschedule(position)
        release(position, reason: reason, onEnd: onEnd)
    }

    @usableFromInline
    func release(_ position: Int, reason: FlowEndReason, onEnd: (Flow, FlowEndReason) -> Void) {
        onEnd(slab[position], reason)
        removeIndex(position)
        slab[position].inUse = false
        freeList.append(UInt32(position))
        active -= 1
    }

    /// Ends every remaining flow (end of capture, shutdown), oldest first.
    public func flush(onEnd: (Flow, FlowEndReason) -> Void) {
        var positions = slab.indices.filter { slab[$0].inUse }
        positions.sort { (slab[$0].start, slab[$0].id) < (slab[$1].start, slab[$1].id) }
        for position in positions {
            stats.flushed &+= 1
            end(position, reason: .shutdown, onEnd: onEnd)
        }
    }
}

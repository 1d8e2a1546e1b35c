import HNAppLayer
import HNDecode
import HNAlert
import HNFlow

/// Writes Suricata-compatible EVE JSON records, one object per line. Field names and order
/// follow Suricata's eve.json; time is the packets' time, so output is deterministic.
public final class EVEWriter {
    let file: OutputFile
    var json = JSONWriter(capacity: 2048)
    public private(set) var records: UInt64 = 0
    public private(set) var countsByType: [String: UInt64] = [:]
    /// Optional sensor name written as `host` (Suricata's `sensor-name`).
    public let sensorName: String?
    /// Names of the segments by index, written as `in_iface`.
    public let segmentNames: [String]
    /// What the file holds (event types and their options, Suricata's eve-log settings).
    public var settings = EVESettings()
    /// Does an alert need its packet's payload (`payload`, `payload-printable`)? The whole
    /// packet (`packet`) comes with the alert itself.
    public var includePayload: Bool { settings.alertPayload || settings.alertPayloadPrintable }
    var communityIDSeed: UInt16? { settings.communityIDSeed }

    public init(file: OutputFile, sensorName: String? = nil, segmentNames: [String] = []) {
        self.file = file
        self.sensorName = sensorName
        self.segmentNames = segmentNames
    }

    func header(_ timestamp: Int64, type: String, flowID: UInt64?, segment: UInt16?) {
        json.clear()
        json.beginObject()
        json.time("timestamp", timestamp)
        if let flowID { json.field("flow_id", flowID) }
        if let segment, Int(segment) < segmentNames.count { json.field("in_iface", segmentNames[Int(segment)]) }
        json.field("event_type", type)
        if let sensorName { json.field("host", sensorName) }
    }

    func finish(type: String) throws(OutputFile.Failure) {
        json.endObject()
        json.bytes.append(0x0A)
        try file.write(json.bytes)
        records += 1
        countsByType[type, default: 0] += 1
    }

    /// `ether` of a record about one packet or one side of a flow.
    func ether(source: UInt64, destination: UInt64) {
        json.beginObject("ether")
        json.field("src_mac", FlowMACs.text(source))
        json.field("dest_mac", FlowMACs.text(destination))
        json.endObject()
    }

    /// libpcap's name of a link type, as Suricata writes it in `packet_info`.
    static func linkTypeName(_ t: Int32) -> String? {
        switch t {
        case 0: "NULL"
        case 1: "EN10MB"
        case 101: "RAW"
        case 113: "LINUX_SLL"
        case 228: "IPv4"
        case 229: "IPv6"
        case 276: "LINUX_SLL2"
        default: nil
        }
    }

    /// An address as EVE writes it (IPv6 in full unless `ipv6-compress`).
    @inline(__always) func ip(_ a: IPAddress) -> String { settings.ipv6Compress || a.isIPv4 ? a.description : a.expanded }

    /// `community_id` of a flow, when enabled.
    func communityID(_ f: Flow) {
        guard let seed = communityIDSeed else { return }
        json.field("community_id", CommunityID.v1(seed: seed, source: f.client, destination: f.server, sourcePort: f.clientPort,
                                                  destinationPort: f.serverPort, proto: f.proto, icmpType: f.icmpType, icmpCode: f.icmpCode))
    }

    /// The flow's VLAN ids (`vlan`), outermost first.
    func vlans(_ f: Flow) {
        guard f.vlanCount > 0 else { return }
        json.beginArray("vlan")
        json.number(Int(f.vlan0))
        if f.vlanCount > 1 { json.number(Int(f.vlan1)) }
        json.endArray()
    }

    /// The common tuple fields of a flow: src/dest as client/server.
    func tuple(_ f: Flow) {
        vlans(f)
        json.field("src_ip", ip(f.client))
        if IPProto.hasPorts(f.proto) { json.field("src_port", Int(f.clientPort)) }
        json.field("dest_ip", ip(f.server))
        if IPProto.hasPorts(f.proto) { json.field("dest_port", Int(f.serverPort)) }
        json.field("ip_v", Int(f.ipVersion))
        json.field("proto", IPProto.name(f.proto))
        if f.proto == IPProto.esp { json.field("spi", Int(f.clientPort) << 16 | Int(f.serverPort)) }
        communityID(f)
        if IPProto.isICMP(f.proto) {
            json.field("icmp_type", Int(f.icmpType))
            json.field("icmp_code", Int(f.icmpCode))
            if f.hasResponseICMP {
                json.field("response_icmp_type", Int(f.responseICMPType))
                json.field("response_icmp_code", Int(f.responseICMPCode))
            }
        }
    }

    /// An `event_type: flow` record, written when a flow ends.
    public func writeFlow(_ f: Flow, reason: FlowEndReason, macs: FlowMACs? = nil, traffic: TrafficTags? = nil) throws(OutputFile.Failure) {
        guard settings.writes("flow") else { return }
        let appProto = AppProtocol.name(f.appProto)
        header(f.start, type: "flow", flowID: f.id, segment: f.segment)
        tuple(f)
        if let macs, settings.ethernet {
            json.beginObject("ether")
            json.beginArray("src_macs")
            for m in macs.client { json.string(FlowMACs.text(m)) }
            json.endArray()
            json.beginArray("dest_macs")
            for m in macs.server { json.string(FlowMACs.text(m)) }
            json.endArray()
            json.endObject()
        }
        if let appProto { json.field("app_proto", appProto) }
        if f.appProtoOrig != f.appProto, let orig = AppProtocol.name(f.appProtoOrig) { json.field("app_proto_orig", orig) }
        if f.appProtoToClient != 0, f.appProtoToClient != f.appProto, let tc = AppProtocol.name(f.appProtoToClient) { json.field("app_proto_tc", tc) }
        json.beginObject("flow")
        json.field("pkts_toserver", f.packetsToServer)
        json.field("pkts_toclient", f.packetsToClient)
        json.field("bytes_toserver", f.bytesToServer)
        json.field("bytes_toclient", f.bytesToClient)
        json.time("start", f.start)
        json.time("end", f.last)
        // As Suricata: the difference of the two timestamps' whole seconds.
        json.field("age", Int(f.last / 1_000_000_000 - f.start / 1_000_000_000))
        json.field("state", f.state.name)
        json.field("reason", reason.name)
        json.field("alerted", f.alerted)
        if let action = f.action.name { json.field("action", action) }
        if f.midstream {
            // The exception policy applied (Suricata 7.0.12+): midstream pick-up allowed.
            json.beginArray("exception_policy")
            json.beginObject(nil)
            json.field("target", "stream_midstream")
            json.field("policy", "ignore")
            json.endObject()
            json.endArray()
        }
        json.endObject()
        if let traffic { writeTraffic(traffic) }
        if f.proto == IPProto.tcp {
            json.beginObject("tcp")
            json.field("tcp_flags", hex(f.tcpFlags))
            json.field("tcp_flags_ts", hex(f.tcpFlagsToServer))
            json.field("tcp_flags_tc", hex(f.tcpFlagsToClient))
            let flags = f.tcpFlags
            if flags & TCPFlags.fin != 0 { json.field("fin", true) }
            if flags & TCPFlags.syn != 0 { json.field("syn", true) }
            if flags & TCPFlags.rst != 0 { json.field("rst", true) }
            if flags & TCPFlags.psh != 0 { json.field("psh", true) }
            if flags & TCPFlags.ack != 0 { json.field("ack", true) }
            if flags & TCPFlags.urg != 0 { json.field("urg", true) }
            if flags & TCPFlags.ece != 0 { json.field("ecn", true) }
            if flags & TCPFlags.cwr != 0 { json.field("cwr", true) }
            json.field("state", f.tcpState.name)
            if f.midstream { json.field("midstream", true) }
            json.endObject()
        }
        try finish(type: "flow")
    }

    /// `traffic: {id: […], label: […]}` (the flow's tagging flowbits).
    func writeTraffic(_ traffic: TrafficTags) {
        json.beginObject("traffic")
        if !traffic.ids.isEmpty {
            json.beginArray("id")
            for id in traffic.ids { json.string(id) }
            json.endArray()
        }
        if !traffic.labels.isEmpty {
            json.beginArray("label")
            for label in traffic.labels { json.string(label) }
            json.endArray()
        }
        json.endObject()
    }

    func hex(_ value: UInt8) -> String {
        // Two ASCII characters: a small string, no allocation.
        String(unsafeUninitializedCapacity: 2) { out in
            out[0] = JSONWriter.hexDigits[Int(value >> 4)]
            out[1] = JSONWriter.hexDigits[Int(value & 0xF)]
            return 2
        }
    }

    /// A `stats` record: a tree of named counters, written in the order given.
    public func writeStats(timestamp: Int64, uptime: Int64, counters: StatsTree) throws(OutputFile.Failure) {
        guard settings.writes("stats") else { return }
        header(timestamp, type: "stats", flowID: nil, segment: nil)
        json.beginObject("stats")
        json.field("uptime", uptime)
        write(counters)
        json.endObject()
        try finish(type: "stats")
    }

    func write(_ tree: StatsTree) {
        for (name, node) in tree.children {
            switch node {
            case .value(let v): json.field(name, v)
            case .tree(let sub):
                json.beginObject(name)
                write(sub)
                json.endObject()
            }
        }
    }

    /// An `event_type: alert` record in Suricata's layout, for signature, indicator and
    /// detector alerts alike (hnsensor adds `alert.origin` for the latter two).
    public func writeAlert(_ alert: SecurityAlert, flow: Flow?, payload: ByteView = .empty, app: AlertApp? = nil) throws(OutputFile.Failure) {
        guard settings.writes("alert") else { return }
        header(alert.timestamp, type: "alert", flowID: alert.flowID, segment: alert.segment)
        if let n = alert.packetNumber { json.field("pcap_cnt", n) }
        if let flow { vlans(flow) }
        let ports = IPProto.hasPorts(alert.ipProto)
        json.field("src_ip", ip(alert.source))
        if ports { json.field("src_port", Int(alert.sourcePort)) }
        json.field("dest_ip", ip(alert.destination))
        if ports { json.field("dest_port", Int(alert.destinationPort)) }
        json.field("ip_v", alert.source.isIPv4 ? 4 : 6)
        json.field("proto", IPProto.name(alert.ipProto))
        if settings.ethernet, alert.sourceMAC | alert.destinationMAC != 0 { ether(source: alert.sourceMAC, destination: alert.destinationMAC) }
        if alert.packetNumber != nil {
            // Where the packet came from, as Suricata names it, and the tunnel it came out of.
            if let t = alert.tunnel {
                json.field("pkt_src", t.version == 6 ? "ipv6 tunnel" : "ipv4 tunnel")
                json.beginObject("tunnel")
                json.field("src_ip", ip(t.source))
                json.field("dest_ip", ip(t.destination))
                json.field("proto", IPProto.name(t.proto))
                json.field("depth", Int(t.depth) - 1)
                json.field("pkt_src", "wire/pcap")
                json.endObject()
            } else {
                json.field("pkt_src", "wire/pcap")
            }
        }
        if let seed = communityIDSeed {
            if let flow { communityID(flow) } else {
                json.field("community_id", CommunityID.v1(seed: seed, source: alert.source, destination: alert.destination,
                                                          sourcePort: alert.sourcePort, destinationPort: alert.destinationPort, proto: alert.ipProto))
            }
        }
        if let app { json.field("tx_id", app.transactionID) }
        if let appProto = alert.appProto { json.field("app_proto", appProto) }
        if let toServer = alert.toServer { json.field("direction", toServer ? "to_server" : "to_client") }
        json.beginObject("alert")
        json.field("action", alert.blocked ? "blocked" : "allowed")
        json.field("gid", Int(alert.gid))
        json.field("signature_id", Int(alert.sid))
        json.field("rev", Int(alert.rev))
        json.field("signature", alert.signature)
        json.field("category", alert.category)
        json.field("severity", alert.severity)
        if !alert.metadata.isEmpty {
            json.beginObject("metadata")
            for (key, values) in alert.metadata {
                json.beginArray(key)
                for v in values { json.string(v) }
                json.endArray()
            }
            json.endObject()
        }
        if let target = alert.target {
            let targetIsSource = (target == "src_ip")
            json.beginObject("source")
            json.field("ip", ip(targetIsSource ? alert.destination : alert.source))
            if ports { json.field("port", Int(targetIsSource ? alert.destinationPort : alert.sourcePort)) }
            json.endObject()
            json.beginObject("target")
            json.field("ip", ip(targetIsSource ? alert.source : alert.destination))
            if ports { json.field("port", Int(targetIsSource ? alert.sourcePort : alert.destinationPort)) }
            json.endObject()
        }
        switch alert.origin {
        case .signature: break
        case .indicator(let source):
            json.beginObject("origin")
            json.field("kind", "indicator")
            json.field("source", source)
            json.endObject()
        case .detector(let name):
            json.beginObject("origin")
            json.field("kind", "detector")
            json.field("detector", name)
            json.endObject()
        }
        json.endObject()
        if let app { for (key, value) in app.objects { writeValue(key, value) } }
        // `metadata: no` leaves out the alert's flow (and app-layer) objects, as in Suricata.
        if let flow, settings.alertMetadata {
            json.beginObject("flow")
            json.field("pkts_toserver", flow.packetsToServer)
            json.field("pkts_toclient", flow.packetsToClient)
            json.field("bytes_toserver", flow.bytesToServer)
            json.field("bytes_toclient", flow.bytesToClient)
            json.time("start", flow.start)
            json.field("src_ip", ip(flow.client))
            json.field("dest_ip", ip(flow.server))
            if IPProto.hasPorts(flow.proto) {
                json.field("src_port", Int(flow.clientPort))
                json.field("dest_port", Int(flow.serverPort))
            }
            json.endObject()
        }
        if let traffic = alert.traffic { writeTraffic(traffic) }
        if settings.alertPayload && payload.count > 0 { json.field("payload", Base64.encode(payload.rawBuffer)) }
        if settings.alertPayload { json.field("stream", alert.streamMatch ? 1 : 0) }
        if settings.alertPacket, let packet = alert.packet {
            packet.withUnsafeBytes { json.field("packet", Base64.encode($0)) }
            json.beginObject("packet_info")
            json.field("linktype", Int(alert.linkType))
            if let name = EVEWriter.linkTypeName(alert.linkType) { json.field("linktype_name", name) }
            json.endObject()
        }
        if settings.alertPayloadPrintable && payload.count > 0 {
            json.field("payload_printable", String(decoding: payload.rawBuffer.map { $0 >= 0x20 && $0 < 0x7F ? $0 : UInt8(ascii: ".") }, as: UTF8.self))
        }
        try finish(type: "alert")
    }

    /// An application-layer record (`http`, `dns`, `tls`, `ssh`, …). DNS records take the
    /// packet's direction for src/dest (as Suricata writes them); the others the flow's.
    public func writeApp(_ event: AppEvent, flow: Flow, timestamp: Int64, packetNumber: UInt64?, packetToServer: Bool,
                         macs: FlowMACs? = nil) throws(OutputFile.Failure) {
        guard let record = event.record, settings.writes(event.eventType) else { return }
        if event.eventType == "smb", let kinds = settings.smbTypes, !kinds.contains(event.kind ?? "generic") { return }
        if event.eventType == "dns" && !settings.dnsAsParsed {
            for body in DNSLayout.records(record, settings: settings) {
                try writeApp(body, event, flow: flow, timestamp: timestamp, packetNumber: packetNumber, macs: macs)
            }
            return
        }
        if event.eventType == "http", !settings.httpExtended, case .object(let fields) = record {
            let basic = JSONValue.object(fields.filter { EVESettings.basicHTTPFields.contains($0.0) })
            try writeApp(basic, event, flow: flow, timestamp: timestamp, packetNumber: packetNumber, macs: macs)
            return
        }
        try writeApp(record, event, flow: flow, timestamp: timestamp, packetNumber: packetNumber, macs: macs)
    }

    func writeApp(_ record: JSONValue, _ event: AppEvent, flow: Flow, timestamp: Int64, packetNumber: UInt64?, macs: FlowMACs?) throws(OutputFile.Failure) {
        header(timestamp, type: event.eventType, flowID: flow.id, segment: flow.segment)
        if let packetNumber { json.field("pcap_cnt", packetNumber) }
        vlans(flow)
        // DNS responses in version 3 go server to client (as the message did), except the one
        // that began a flow reversed by it, which Suricata turns round with the flow; version
        // 2 records and the other protocols' take the flow's direction.
        let reversed = event.eventType == "dns" && !event.toServer && settings.dnsVersion == 3
            && !(flow.startedWithResponse && flow.packetsToServer + flow.packetsToClient == 1)
        let ports = IPProto.hasPorts(flow.proto)
        json.field("src_ip", ip(reversed ? flow.server : flow.client))
        if ports { json.field("src_port", Int(reversed ? flow.serverPort : flow.clientPort)) }
        json.field("dest_ip", ip(reversed ? flow.client : flow.server))
        if ports { json.field("dest_port", Int(reversed ? flow.clientPort : flow.serverPort)) }
        json.field("ip_v", Int(flow.ipVersion))
        json.field("proto", IPProto.name(flow.proto))
        if packetNumber != nil { json.field("pkt_src", "wire/pcap") }
        if let macs, let c = macs.client.first, let sv = macs.server.first {
            ether(source: reversed ? sv : c, destination: reversed ? c : sv)
        }
        communityID(flow)
        if event.eventType != "dns" { json.field("tx_id", event.transactionID) }
        if let app = AppProtocol.name(flow.appProto), event.eventType == "http" { json.field("app_proto", app) }
        writeValue(event.eventType, record)
        for (key, value) in event.siblings { writeValue(key, value) }
        try finish(type: event.eventType)
    }

    func writeValue(_ key: String?, _ value: JSONValue) {
        switch value {
        case .string(let s): if let key { json.field(key, s) } else { json.string(s) }
        case .int(let i): if let key { json.field(key, i) } else { json.number(Int(i)) }
        case .bool(let b): if let key { json.field(key, b) } else { json.bool(b) }
        case .array(let items):
            json.beginArray(key)
            for item in items { writeValue(nil, item) }
            json.endArray()
        case .object(let pairs):
            json.beginObject(key)
            for (k, v) in pairs { writeValue(k, v) }
            json.endObject()
        }
    }

    public func commit() throws(OutputFile.Failure) { try file.commit() }
    /// The output file (a worker's in-memory one is emptied by the merge).
    public var output: OutputFile { file }
    /// Copies records another writer formatted (a worker's, in packet order) to this file.
    public func writeFormatted(_ bytes: UnsafeRawBufferPointer) throws(OutputFile.Failure) { try file.write(bytes) }
    public func flush() throws(OutputFile.Failure) { try file.flush() }
    /// Starts a new file after log rotation (append mode).
    public func reopen() throws(OutputFile.Failure) { try file.reopen() }
    public var droppedBytes: UInt64 { file.droppedBytes }
    public func abandon() { file.abandon() }
}

/// Named counters in a fixed order, nested by layer (`decoder.event.ipv4.hlen_too_small`).
public struct StatsTree: Sendable {
    public indirect enum Node: Sendable {
        case value(UInt64)
        case tree(StatsTree)
    }
    public var children: [(String, Node)] = []

    public init() {}

    public mutating func set(_ name: String, _ value: UInt64) {
        children.append((name, .value(value)))
    }

    public mutating func set(_ name: String, _ tree: StatsTree) {
        children.append((name, .tree(tree)))
    }

    /// The value at a dotted path, for tests and summaries.
    public func value(_ path: String) -> UInt64? {
        var node = Node.tree(self)
        for part in path.split(separator: ".") {
            guard case .tree(let t) = node, let child = t.children.first(where: { $0.0 == part }) else { return nil }
            node = child.1
        }
        if case .value(let v) = node { return v }
        return nil
    }
}

/// Standard base64 (RFC 4648), for payloads in alerts and community ids.

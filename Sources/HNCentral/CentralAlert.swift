import HNAlert
import HNDecode
import HNStore
import NIOCore

/// An alert as a sensor sends it to the central store: the alert's fields, the evidence
/// (excerpt already sealed with the evidence key, or none), and its stable key: the sensor's
/// name, the source it came from (a capture file or an interface, with the run's start) and
/// its sequence number there. The key makes a batch sent twice stored once.
public struct CentralAlert: Sendable, Equatable {
    public var sensor: String
    public var source: String
    public var seq: Int64
    public var timestamp: Int64
    public var gid: Int64
    public var sid: Int64
    public var rev: Int64
    public var signature: String
    public var classtype: String
    public var category: String
    public var severity: Int
    public var origin: String
    public var originName: String?
    public var sourceIP: String
    public var sourcePort: Int
    public var destinationIP: String
    public var destinationPort: Int
    public var proto: Int
    public var appProto: String?
    /// The segment's name (live capture), nil in replay.
    public var segment: String?
    /// `src_ip` or `dest_ip` when the rule names its target.
    public var target: String?
    public var action: String
    /// The metadata as a JSON object of string arrays.
    public var metadata: String
    public var captureFile: String?
    public var packetNumber: Int64?
    public var flowID: Int64?
    public var excerpt: [UInt8]?

    /// The row for an alert raised by this sensor.
    public init(_ a: SecurityAlert, sensor: String, source: String, seq: Int64, segmentName: String?, captureFile: String?, sealedExcerpt: [UInt8]?) {
        self.sensor = sensor
        self.source = source
        self.seq = seq
        timestamp = a.timestamp
        gid = Int64(a.gid)
        sid = Int64(a.sid)
        rev = Int64(a.rev)
        signature = a.signature
        classtype = a.classtype
        category = a.category
        severity = a.severity
        origin = a.origin.kind
        switch a.origin {
        case .signature: originName = nil
        case .indicator(let s): originName = s
        case .detector(let n): originName = n
        }
        sourceIP = a.source.description
        sourcePort = Int(a.sourcePort)
        destinationIP = a.destination.description
        destinationPort = Int(a.destinationPort)
        proto = Int(a.ipProto)
        appProto = a.appProto
        segment = segmentName
        target = a.target
        action = a.blocked ? "blocked" : "allowed"
        metadata = JSONText.metadata(a.metadata)
        self.captureFile = captureFile
        packetNumber = a.packetNumber.map { Int64(bitPattern: $0) }
        flowID = a.flowID.map { Int64(bitPattern: $0) }
        excerpt = sealedExcerpt
    }

    /// The alert as the correlator sees it. `segmentIndex` maps a segment name to the
    /// correlator's configuration (an unknown name or none: no segment).
    public func securityAlert(segmentIndex: (String) -> Int?) -> SecurityAlert {
        var a = SecurityAlert(timestamp: timestamp, packetNumber: packetNumber.map { UInt64(bitPattern: $0) },
                              flowID: flowID.map { UInt64(bitPattern: $0) },
                              segment: segment.flatMap(segmentIndex).map { UInt16(clamping: $0) } ?? UInt16.max,
                              source: IPAddress(sourceIP) ?? .zero, destination: IPAddress(destinationIP) ?? .zero,
                              sourcePort: UInt16(clamping: sourcePort), destinationPort: UInt16(clamping: destinationPort),
                              ipProto: UInt8(clamping: proto), appProto: appProto, toServer: nil, sid: UInt32(clamping: sid),
                              signature: signature, classtype: classtype, category: category, severity: severity)
        a.gid = UInt32(clamping: gid)
        a.rev = UInt32(clamping: rev)
        a.target = target
        a.blocked = action == "blocked"
        switch origin {
        case "indicator": a.origin = .indicator(source: originName ?? "")
        case "detector": a.origin = .detector(name: originName ?? "")
        default: a.origin = .signature
        }
        return a
    }

    /// The columns of the alerts table a sensor writes, in this order everywhere.
    static let columns = ["sensor", "source", "seq", "timestamp", "gid", "sid", "rev", "signature", "classtype", "category", "severity",
                          "origin", "origin_name", "src_ip", "src_port", "dest_ip", "dest_port", "proto", "app_proto", "segment", "target",
                          "action", "metadata", "capture_file", "pcap_cnt", "flow_id", "excerpt"]


    /// The batch as one array per column, in the order of `columns` (NULLs as the insert
    /// statement reads them: empty, or `Int64.min`).
    static func columnArrays(_ alerts: [CentralAlert]) -> [PGValue] {
        func texts(_ f: (CentralAlert) -> String?) -> PGValue { .texts(alerts.map { f($0) ?? "" }) }
        func ints(_ f: (CentralAlert) -> Int64?) -> PGValue { .ints(alerts.map { f($0) ?? Int64.min }) }
        return [texts(\.sensor), texts(\.source), ints(\.seq), ints(\.timestamp), ints(\.gid), ints(\.sid), ints(\.rev), texts(\.signature),
                texts(\.classtype), texts(\.category), ints { Int64($0.severity) }, texts(\.origin), texts(\.originName), texts(\.sourceIP),
                ints { Int64($0.sourcePort) }, texts(\.destinationIP), ints { Int64($0.destinationPort) }, ints { Int64($0.proto) }, texts(\.appProto),
                texts(\.segment), texts(\.target), texts(\.action), texts(\.metadata), texts(\.captureFile), ints(\.packetNumber), ints(\.flowID),
                .blobs(alerts.map { ByteBuffer(bytes: $0.excerpt ?? []) })]
    }

    /// Reads a row with `columns` (the spool's or the central store's).
    init(sensor: String, source: String, seq: Int64, timestamp: Int64, gid: Int64, sid: Int64, rev: Int64, signature: String, classtype: String,
         category: String, severity: Int, origin: String, originName: String?, sourceIP: String, sourcePort: Int, destinationIP: String,
         destinationPort: Int, proto: Int, appProto: String?, segment: String?, target: String?, action: String, metadata: String,
         captureFile: String?, packetNumber: Int64?, flowID: Int64?, excerpt: [UInt8]?) {
        self.sensor = sensor
        self.source = source
        self.seq = seq
        self.timestamp = timestamp
        self.gid = gid
        self.sid = sid
        self.rev = rev
        self.signature = signature
        self.classtype = classtype
        self.category = category
        self.severity = severity
        self.origin = origin
        self.originName = originName
        self.sourceIP = sourceIP
        self.sourcePort = sourcePort
        self.destinationIP = destinationIP
        self.destinationPort = destinationPort
        self.proto = proto
        self.appProto = appProto
        self.segment = segment
        self.target = target
        self.action = action
        self.metadata = metadata
        self.captureFile = captureFile
        self.packetNumber = packetNumber
        self.flowID = flowID
        self.excerpt = excerpt
    }

    /// The approximate bytes an alert takes in the spool (for `store.spool_max`).
    var spoolBytes: Int {
        160 + sensor.utf8.count + source.utf8.count + signature.utf8.count + classtype.utf8.count + category.utf8.count
            + metadata.utf8.count + (captureFile?.utf8.count ?? 0) + (excerpt?.count ?? 0) + (appProto?.utf8.count ?? 0)
    }
}

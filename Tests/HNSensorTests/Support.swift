import Foundation
import HNDecode
import HNSensor

/// The repository root, found from this file's location.
let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
let capturesFolder = repositoryRoot.appendingPathComponent("Captures")
let sharedFolder = repositoryRoot.deletingLastPathComponent().appendingPathComponent("shared")

func scratchFolder() throws -> URL {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("hnsensor-\(getpid())-\(UUID().uuidString.prefix(8))")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    return dir
}

/// Parses an EVE file into one dictionary per line; fails the caller on invalid JSON.
func readEVE(_ path: String) throws -> [[String: Any]] {
    let text = try String(contentsOfFile: path, encoding: .utf8)
    return try text.split(separator: "\n").map { line in
        guard let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] else {
            throw CocoaError(.coderReadCorrupt)
        }
        return object
    }
}

/// The comparable fields of a flow, from an EVE record or from a labels file entry.
struct FlowFacts: Hashable, CustomStringConvertible {
    var srcIP: String, srcPort: Int, destIP: String, destPort: Int, proto: String
    var pktsToServer: Int, pktsToClient: Int, bytesToServer: Int, bytesToClient: Int
    var state: String, tcpState: String?, appProto: String?, appProtoOrig: String?

    init(eve r: [String: Any]) {
        let flow = r["flow"] as? [String: Any] ?? [:]
        // EVE writes IPv6 in full (as Suricata); the labels in the compressed form.
        srcIP = (r["src_ip"] as? String).map { IPAddress($0)?.description ?? $0 } ?? ""
        srcPort = r["src_port"] as? Int ?? 0
        destIP = (r["dest_ip"] as? String).map { IPAddress($0)?.description ?? $0 } ?? ""
        destPort = r["dest_port"] as? Int ?? 0
        proto = r["proto"] as? String ?? ""
        pktsToServer = flow["pkts_toserver"] as? Int ?? -1
        pktsToClient = flow["pkts_toclient"] as? Int ?? -1
        bytesToServer = flow["bytes_toserver"] as? Int ?? -1
        bytesToClient = flow["bytes_toclient"] as? Int ?? -1
        state = flow["state"] as? String ?? ""
        tcpState = (r["tcp"] as? [String: Any])?["state"] as? String
        appProto = r["app_proto"] as? String
        appProtoOrig = r["app_proto_orig"] as? String
    }

    init(label r: [String: Any]) {
        // EVE writes IPv6 in full (as Suricata); the labels in the compressed form.
        srcIP = (r["src_ip"] as? String).map { IPAddress($0)?.description ?? $0 } ?? ""
        srcPort = r["src_port"] as? Int ?? 0
        destIP = (r["dest_ip"] as? String).map { IPAddress($0)?.description ?? $0 } ?? ""
        destPort = r["dest_port"] as? Int ?? 0
        proto = r["proto"] as? String ?? ""
        pktsToServer = r["pkts_toserver"] as? Int ?? -1
        pktsToClient = r["pkts_toclient"] as? Int ?? -1
        bytesToServer = r["bytes_toserver"] as? Int ?? -1
        bytesToClient = r["bytes_toclient"] as? Int ?? -1
        state = r["state"] as? String ?? ""
        tcpState = r["tcp_state"] as? String
        appProto = r["app_proto"] as? String
        appProtoOrig = r["app_proto_orig"] as? String
    }

    var description: String {
        "\(proto) \(srcIP):\(srcPort) -> \(destIP):\(destPort) \(pktsToServer)/\(pktsToClient) pkts \(bytesToServer)/\(bytesToClient) B \(state) \(tcpState ?? "-") \(appProto ?? "-")\(appProtoOrig.map { " (was \($0))" } ?? "")"
    }
}

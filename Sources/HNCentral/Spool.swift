import Foundation
import GRDB
import HNStore

#if canImport(Glibc)
import Glibc
#endif

/// A sensor's local journal of alerts not yet in the central store: SQLite (WAL), first in
/// first out, bounded in bytes. Alerts go in as the pipeline raises them and leave once the
/// central store has committed them, so a database that is away, slow or restarting never
/// blocks the sensor nor loses what fits. Past the bound the oldest alerts are dropped and
/// counted. The file survives a restart: what it holds is forwarded first.
public final class Spool: @unchecked Sendable {
    public let path: String
    public let maxBytes: Int64
    let queue: DatabaseQueue
    /// Bytes held now (the alerts' approximate sizes), alerts dropped over the bound since
    /// the file was made.
    public private(set) var bytes: Int64 = 0
    public private(set) var count: Int = 0
    public private(set) var dropped: Int64 = 0

    public init(path: String, maxBytes: Int64) throws(StoreError) {
        self.path = path
        self.maxBytes = maxBytes
        if access(path, F_OK) != 0 {
            let fd = open(path, O_CREAT | O_WRONLY | O_EXCL, 0o600)
            if fd < 0 { throw StoreError("\(path): cannot create the spool: \(String(cString: strerror(errno))) (set store.spool or --spool)") }
            close(fd)
        }
        var config = Configuration()
        config.busyMode = .timeout(5)
        do {
            queue = try DatabaseQueue(path: path, configuration: config)
            try queue.writeWithoutTransaction { db in
                try db.execute(sql: "PRAGMA journal_mode = WAL")
                try db.execute(sql: "PRAGMA synchronous = NORMAL")
            }
            try queue.write { db in
                let columns = CentralAlert.columns.map { c -> String in
                    switch c {
                    case "sensor", "source", "signature", "classtype", "category", "origin", "src_ip", "dest_ip", "action", "metadata": return "\(c) TEXT NOT NULL"
                    case "origin_name", "app_proto", "segment", "target", "capture_file": return "\(c) TEXT"
                    case "pcap_cnt", "flow_id": return "\(c) INTEGER"
                    case "excerpt": return "\(c) BLOB"
                    default: return "\(c) INTEGER NOT NULL"
                    }
                }
                try db.execute(sql: """
                    CREATE TABLE IF NOT EXISTS spool (id INTEGER PRIMARY KEY, queued_at INTEGER NOT NULL, bytes INTEGER NOT NULL, \(columns.joined(separator: ", ")));
                    CREATE TABLE IF NOT EXISTS spool_meta (key TEXT PRIMARY KEY NOT NULL, value INTEGER NOT NULL);
                    INSERT OR IGNORE INTO spool_meta(key, value) VALUES ('dropped', 0);
                    """)
                let row = try Row.fetchOne(db, sql: "SELECT count(*) AS n, coalesce(sum(bytes), 0) AS b FROM spool")!
                count = row["n"]
                bytes = row["b"]
                dropped = try Int64.fetchOne(db, sql: "SELECT value FROM spool_meta WHERE key = 'dropped'") ?? 0
            }
        } catch let error as StoreError {
            throw error
        } catch {
            throw StoreError("\(path): the spool: \(Spool.describe(error))")
        }
    }

    static func describe(_ error: any Error) -> String {
        if let e = error as? DatabaseError { return e.message ?? "\(e.resultCode)" }
        return "\(error)"
    }

    /// Appends alerts in one transaction; then drops the oldest while the spool is over its
    /// bound (the newest are kept: they are the ones an analyst needs next).
    public func append(_ alerts: [CentralAlert], queuedAt: Int64) throws(StoreError) {
        guard !alerts.isEmpty else { return }
        do {
            try queue.write { db in
                let sql = "INSERT INTO spool(queued_at, bytes, " + CentralAlert.columns.joined(separator: ", ") + ") VALUES ("
                    + Array(repeating: "?", count: CentralAlert.columns.count + 2).joined(separator: ", ") + ")"
                let statement = try db.cachedStatement(sql: sql)
                var added: Int64 = 0
                for a in alerts {
                    var arguments: [any DatabaseValueConvertible & Sendable] = [queuedAt, a.spoolBytes]
                    arguments += a.sqliteValues
                    try statement.execute(arguments: StatementArguments(arguments.map { $0 as (any DatabaseValueConvertible)? }))
                    added += Int64(a.spoolBytes)
                }
                bytes += added
                count += alerts.count
                if bytes > maxBytes {
                    // Oldest first, until under the bound.
                    var excess = bytes - maxBytes
                    var cut: Int64 = 0, n = 0, freed: Int64 = 0
                    let rows = try Row.fetchCursor(db, sql: "SELECT id, bytes FROM spool ORDER BY id")
                    while excess > 0, let row = try rows.next() {
                        let b: Int64 = row["bytes"]
                        excess -= b
                        freed += b
                        cut = row["id"]
                        n += 1
                    }
                    try db.execute(sql: "DELETE FROM spool WHERE id <= ?", arguments: [cut])
                    try db.execute(sql: "UPDATE spool_meta SET value = value + ? WHERE key = 'dropped'", arguments: [n])
                    bytes -= freed
                    count -= n
                    dropped += Int64(n)
                }
            }
        } catch {
            throw StoreError("\(path): cannot write the spool: \(Spool.describe(error))")
        }
    }

    /// The oldest alerts, at most `limit`, with their spool ids.
    public func oldest(_ limit: Int) throws(StoreError) -> [(Int64, CentralAlert)] {
        do {
            return try queue.read { db in
                try Row.fetchAll(db, sql: "SELECT * FROM spool ORDER BY id LIMIT ?", arguments: [limit]).map { row in
                    (row["id"], CentralAlert(sensor: row["sensor"], source: row["source"], seq: row["seq"], timestamp: row["timestamp"], gid: row["gid"],
                                             sid: row["sid"], rev: row["rev"], signature: row["signature"], classtype: row["classtype"],
                                             category: row["category"], severity: row["severity"], origin: row["origin"], originName: row["origin_name"],
                                             sourceIP: row["src_ip"], sourcePort: row["src_port"], destinationIP: row["dest_ip"],
                                             destinationPort: row["dest_port"], proto: row["proto"], appProto: row["app_proto"], segment: row["segment"],
                                             target: row["target"], action: row["action"], metadata: row["metadata"], captureFile: row["capture_file"],
                                             packetNumber: row["pcap_cnt"], flowID: row["flow_id"],
                                             excerpt: (row["excerpt"] as Data?).map { [UInt8]($0) }))
                }
            }
        } catch {
            throw StoreError("\(path): cannot read the spool: \(Spool.describe(error))")
        }
    }

    /// Removes the alerts up to spool id `last` (they are in the central store).
    public func remove(upTo last: Int64) throws(StoreError) {
        do {
            try queue.write { db in
                let row = try Row.fetchOne(db, sql: "SELECT count(*) AS n, coalesce(sum(bytes), 0) AS b FROM spool WHERE id <= ?", arguments: [last])!
                try db.execute(sql: "DELETE FROM spool WHERE id <= ?", arguments: [last])
                count -= row["n"] as Int
                bytes -= row["b"] as Int64
            }
        } catch {
            throw StoreError("\(path): cannot write the spool: \(Spool.describe(error))")
        }
    }

    /// When the oldest alert still held was queued (nanoseconds, wall clock), if any.
    public func oldestQueuedAt() -> Int64? {
        try? queue.read { db in try Int64.fetchOne(db, sql: "SELECT queued_at FROM spool ORDER BY id LIMIT 1") }
    }
}

extension CentralAlert {
    var sqliteValues: [any DatabaseValueConvertible & Sendable] {
        func opt<T: DatabaseValueConvertible & Sendable>(_ v: T?) -> any DatabaseValueConvertible & Sendable { v.map { $0 as any DatabaseValueConvertible & Sendable } ?? DatabaseValue.null }
        return [sensor, source, seq, timestamp, gid, sid, rev, signature, classtype, category, severity, origin, opt(originName), sourceIP, sourcePort,
                destinationIP, destinationPort, proto, opt(appProto), opt(segment), opt(target), action, metadata, opt(captureFile), opt(packetNumber),
                opt(flowID), opt(excerpt.map { Data($0) })]
    }
}

import Foundation
import GRDB
import HNCorrelate
import HNDecode
import HNAlert
@testable import HNStore
import Testing

@Suite struct EvidenceTests {
    @Test func credentialsAreRedactedFromExcerpts() {
        func r(_ s: String) -> String { String(decoding: CredentialRedaction.redact(Array(s.utf8)), as: UTF8.self) }
        #expect(r("GET / HTTP/1.1\r\nAuthorization: Basic YWxpY2U6c2VjcmV0\r\nHost: x\r\n") == "GET / HTTP/1.1\r\nAuthorization: [redacted]\r\nHost: x\r\n")
        #expect(r("PASS hunter2\r\n") == "PASS [redacted]\r\n")
        #expect(r("USER anna\r\npass secret\r\n") == "USER anna\r\npass [redacted]\r\n")
        #expect(r("a001 LOGIN anna secret\r\n") == "a001 LOGIN [redacted]\r\n")
        #expect(r("AUTH PLAIN AGFubmEAc2VjcmV0\r\n") == "AUTH [redacted]\r\n")
        #expect(r("proxy-authorization: Digest x") == "proxy-authorization: [redacted]")
        #expect(r("GET /index.html HTTP/1.1\r\n") == "GET /index.html HTTP/1.1\r\n")
    }

    @Test func excerptsAreSealedAndOnlyTheKeyOpensThem() throws {
        let path = try scratch()
        let keyPath = path + ".key"
        let key = try EvidenceKey.loadOrCreate(path: keyPath)
        #expect(try FileManager.default.attributesOfItem(atPath: keyPath)[.posixPermissions] as? Int == 0o600)
        let store = try IncidentStore(path: path)
        store.evidenceKey = key
        let c = try correlator()
        var a = alert("198.51.100.1", "10.1.0.5", at: t0)
        a.excerpt = Array("GET /patient/4711/record HTTP/1.1".utf8)
        c.ingest(a)
        try store.commit(c.takeBatch(), actor: "test")
        // The database file holds no plaintext, and the key is not in it.
        let raw = try Data(contentsOf: URL(fileURLWithPath: path))
        #expect(raw.range(of: Data("patient/4711".utf8)) == nil)
        let keyBytes = try Data(contentsOf: URL(fileURLWithPath: keyPath))
        #expect(raw.range(of: keyBytes) == nil)
        let sealed = try #require(try store.alerts(incident: 1).first?.excerpt)
        #expect(String(decoding: try key.open(sealed), as: UTF8.self) == "GET /patient/4711/record HTTP/1.1")
        // Another key cannot open it; a key readable by others is refused.
        let other = try EvidenceKey.loadOrCreate(path: path + ".other")
        #expect(throws: StoreError.self) { try other.open(sealed) }
        chmod(keyPath, 0o644)
        #expect(throws: StoreError.self) { try EvidenceKey.load(path: keyPath) }
    }

    @Test func withoutAKeyNoExcerptIsStored() throws {
        let store = try IncidentStore(path: try scratch())
        let c = try correlator()
        var a = alert("198.51.100.1", "10.1.0.5", at: t0)
        a.excerpt = Array("secret".utf8)
        c.ingest(a)
        try store.commit(c.takeBatch(), actor: "test")
        #expect(try store.alerts(incident: 1).first?.excerpt == nil)
    }

    @Test func purgeRemovesExpiredEvidence() throws {
        let store = try IncidentStore(path: try scratch())
        store.evidenceKey = try EvidenceKey.loadOrCreate(path: try scratch("k"))
        let c = try correlator()
        var a = alert("198.51.100.1", "10.1.0.5", at: t0)
        a.excerpt = Array("x".utf8)
        c.ingest(a)
        try store.commit(c.takeBatch(), actor: "test")
        _ = try store.update(1, status: .falsePositive, assignee: nil, note: nil, actor: "t", at: t0)
        _ = try store.purge(before: t0 + second)
        let left = try store.pool.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM evidence") }
        #expect(left == 0)
    }
}

import Foundation
import HNConsole
import HNStore
import Testing

@Suite struct AccountPolicyTests {
    @Test func shortAndNameLikePasswordsAreRefused() {
        #expect(AccountBook.weakness(of: "short", name: "alice") != nil)
        #expect(AccountBook.weakness(of: "aliceALICEalice", name: "aliceALICEalice") != nil)
        #expect(AccountBook.weakness(of: "aaaaaaaaaaaaaaaa", name: "alice") != nil)
        #expect(AccountBook.weakness(of: "correct-horse-battery", name: "alice") == nil)
    }

    @Test func throttleRefusesPastTheLimitUntilTheWindowPasses() {
        var limits = LoginThrottle.Limits()
        limits.perAccount = 3
        let throttle = LoginThrottle(limits: limits)
        for t in 0..<3 { throttle.failed(account: "alice", address: "10.0.0.1", now: Int64(t)) }
        #expect(throttle.retryAfter(account: "alice", address: "10.0.0.1", now: 10) != nil)
        #expect(throttle.retryAfter(account: "bob", address: "10.0.0.2", now: 10) == nil)
        #expect(throttle.retryAfter(account: "alice", address: "10.0.0.1", now: limits.window + 3) == nil)
    }

    @Test func accountsAreStoredHashedAndVerified() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("hn-console-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let store = try IncidentStore(path: dir.appendingPathComponent("s.db").path)
        let book = AccountBook(store: store, cost: 4)
        try book.add(name: "alice", role: .analyst, password: "correct-horse-battery", actor: "test", at: 1)
        #expect(try store.account("alice")?.passwordHash.contains("correct") == false)
        #expect(try book.verify(name: "alice", password: "correct-horse-battery")?.1 == .analyst)
        #expect(try book.verify(name: "alice", password: "wrong-horse-battery") == nil)
        try book.setDisabled(name: "alice", true, actor: "test", at: 2)
        #expect(try book.verify(name: "alice", password: "correct-horse-battery") == nil)
        #expect(try store.accountAudit().map(\.action) == ["disabled", "created"])
    }
}

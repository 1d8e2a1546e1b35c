import Foundation
import HNStore
import HummingbirdBcrypt
import Synchronization

/// What an account may do. viewer reads; analyst also moves incidents, assigns, notes, marks
/// reported and exports; admin also manages accounts.
public enum Role: String, CaseIterable, Sendable, Codable {
    case viewer, analyst, admin

    public var changesIncidents: Bool { self != .viewer }
    public var exports: Bool { self != .viewer }
    public var managesAccounts: Bool { self == .admin }
}

/// Console accounts in the CSIRT store: names, roles, bcrypt hashes. The CLI's `users`
/// commands and the console's account page both go through it.
public struct AccountBook: Sendable {
    public let store: any CSIRTStore
    /// bcrypt's cost (2^cost rounds); 12 by default, lower only in tests.
    public let cost: UInt8

    public init(store: any CSIRTStore, cost: UInt8 = 12) {
        self.store = store
        self.cost = cost
    }

    /// One line saying what is wrong with a new password, or nil.
    public static func weakness(of password: String, name: String) -> String? {
        if password.count < 12 { return "the password must have at least 12 characters" }
        if password.utf8.count > 72 { return "the password must have at most 72 bytes (bcrypt reads no further)" }
        if password.lowercased() == name.lowercased() { return "the password must not be the account name" }
        if Set(password).count < 4 { return "the password must use at least 4 different characters" }
        return nil
    }

    /// Account names: 1 to 64 of a-z, 0-9, '.', '_', '-' (they appear in audit trails).
    public static func validName(_ name: String) -> Bool {
        !name.isEmpty && name.count <= 64 && name.allSatisfy { ("a"..."z").contains($0) || ("0"..."9").contains($0) || "._-".contains($0) }
    }

    public func add(name: String, role: Role, password: String, actor: String, at time: Int64) throws(StoreError) {
        guard AccountBook.validName(name) else { throw StoreError("account name '\(name)': use 1 to 64 of a-z, 0-9, '.', '_', '-'") }
        if let weak = AccountBook.weakness(of: password, name: name) { throw StoreError("account \(name): \(weak)") }
        try store.addAccount(name: name, role: role.rawValue, passwordHash: Bcrypt.hash(password, cost: cost), actor: actor, at: time)
    }

    public func setPassword(name: String, password: String, actor: String, at time: Int64) throws(StoreError) {
        if let weak = AccountBook.weakness(of: password, name: name) { throw StoreError("account \(name): \(weak)") }
        try store.changeAccount(name, passwordHash: Bcrypt.hash(password, cost: cost), role: nil, disabled: nil, actor: actor, at: time)
    }

    public func setDisabled(name: String, _ disabled: Bool, actor: String, at time: Int64) throws(StoreError) {
        try store.changeAccount(name, passwordHash: nil, role: nil, disabled: disabled, actor: actor, at: time)
    }

    public func setRole(name: String, _ role: Role, actor: String, at time: Int64) throws(StoreError) {
        try store.changeAccount(name, passwordHash: nil, role: role.rawValue, disabled: nil, actor: actor, at: time)
    }

    /// A hash to verify against when the account does not exist, so that a wrong name takes as
    /// long as a wrong password.
    static let decoy = Bcrypt.hash("hnsensor-decoy-password", cost: 12)

    /// The enabled account whose password this is, or nil (unknown, disabled or wrong).
    public func verify(name: String, password: String) throws(StoreError) -> (IncidentStore.Account, Role)? {
        guard let account = try store.account(name), let role = Role(rawValue: account.role) else {
            _ = Bcrypt.verify(password, hash: AccountBook.decoy)
            return nil
        }
        guard Bcrypt.verify(password, hash: account.passwordHash), !account.disabled else { return nil }
        return (account, role)
    }
}

/// Refused logins per account and per client address within a window: past the limit, further
/// attempts are refused without checking the password until the oldest failure leaves the
/// window. A success clears the account's failures (not the address's).
public final class LoginThrottle: Sendable {
    public struct Limits: Sendable {
        public var perAccount = 5
        public var perAddress = 20
        /// Nanoseconds (15 minutes).
        public var window: Int64 = 15 * 60_000_000_000
        public init() {}
    }

    let limits: Limits
    let failures = Mutex<[String: [Int64]]>([:])

    public init(limits: Limits = Limits()) { self.limits = limits }

    /// Seconds to wait before the next attempt, or nil when one may be made now.
    public func retryAfter(account: String, address: String, now: Int64) -> Int? {
        failures.withLock { table in
            var wait: Int64 = 0
            for (key, limit) in [("a:" + account, limits.perAccount), ("ip:" + address, limits.perAddress)] {
                let recent = (table[key] ?? []).filter { $0 > now - limits.window }
                table[key] = recent.isEmpty ? nil : recent
                if recent.count >= limit, let oldest = recent.first {
                    wait = max(wait, oldest + limits.window - now)
                }
            }
            return wait > 0 ? Int((wait + 999_999_999) / 1_000_000_000) : nil
        }
    }

    public func failed(account: String, address: String, now: Int64) {
        failures.withLock { table in
            table["a:" + account, default: []].append(now)
            table["ip:" + address, default: []].append(now)
            // Bound the table: forget the oldest keys when an attacker sprays names.
            if table.count > 100_000 {
                for key in table.keys.prefix(table.count - 50_000) { table[key] = nil }
            }
        }
    }

    public func succeeded(account: String) {
        failures.withLock { table in table["a:" + account] = nil }
    }
}

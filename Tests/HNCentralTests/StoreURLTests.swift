import Testing
@testable import HNCentral
import HNStore

@Suite struct StoreURLTests {
    @Test func fullURLIsReadPartByPart() throws {
        let url = try StoreURL(parsing: "postgresql://csirt:s%40cret@db.healthnet.lu:6543/hnsensor?sslmode=require", environment: [:])
        #expect(url.user == "csirt")
        #expect(url.password == "s@cret")
        #expect(url.host == "db.healthnet.lu")
        #expect(url.port == 6543)
        #expect(url.database == "hnsensor")
        #expect(url.sslMode == .require)
    }

    @Test func descriptionNeverShowsThePassword() throws {
        let url = try StoreURL(parsing: "postgresql://csirt:topsecret@127.0.0.1/hn", environment: [:])
        #expect(url.description == "postgresql://csirt@127.0.0.1:5432/hn")
        #expect(!url.description.contains("topsecret"))
    }

    @Test func environmentSuppliesUserPasswordAndSSLMode() throws {
        let url = try StoreURL(parsing: "postgres://[::1]:5433/hn", environment: ["PGUSER": "ops", "PGPASSWORD": "pw", "PGSSLMODE": "disable"])
        #expect(url.user == "ops")
        #expect(url.password == "pw")
        #expect(url.host == "::1")
        #expect(url.port == 5433)
        #expect(url.sslMode == .disable)
        #expect(url.description == "postgresql://ops@[::1]:5433/hn?sslmode=disable")
    }

    @Test(arguments: [
        ("postgresql://u@h/db?sslmode=sometimes", "sslmode 'sometimes'"),
        ("postgresql://u@h:99999/db", "the port must be a number from 1 to 65535"),
        ("postgresql://u@h", "no database name"),
        ("postgresql://h/db", "no user"),
        ("postgresql://u@h/db?pool=3", "unknown parameter 'pool'"),
        ("mysql://u@h/db", "expected postgresql://"),
    ])
    func badURLsAreOneLineErrorsNamingThePart(text: String, expected: String) {
        #expect {
            _ = try StoreURL(parsing: text, environment: [:])
        } throws: { error in
            let message = "\(error)"
            return message.contains(expected) && !message.contains("\n")
        }
    }

    @Test func aPasswordInABadURLIsHiddenInTheError() {
        #expect {
            _ = try StoreURL(parsing: "postgresql://u:hunter2@h:0/db", environment: [:])
        } throws: { error in !"\(error)".contains("hunter2") }
    }

    @Test func partitionNamesAreUTCDays() {
        // 2026-12-07T13:00:00Z
        let t: Int64 = 1_796_648_400 * 1_000_000_000
        #expect(PGSchema.partitionName(day: PGSchema.dayStart(t)) == "alerts_20261207")
        #expect(PGSchema.dayStart(t) % PGSchema.day == 0)
        #expect(PGSchema.partitionName(day: 0) == "alerts_19700101")
    }
}

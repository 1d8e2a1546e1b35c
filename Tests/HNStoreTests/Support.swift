import GRDB
@testable import HNStore

/// Applies the store's migrations only up to a version, as an older release left the file.
struct DatabaseQueueForTests {
    let queue: DatabaseQueue
    init(path: String) throws { queue = try DatabaseQueue(path: path) }
    func migrate(upTo version: String) throws { try Schema.migrator.migrate(queue, upTo: version) }
}

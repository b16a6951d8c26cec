import AshraiTestSupport
import Foundation
import Postgres
import Synchronization

/// One database and one pool for the whole PostgresTests target.
enum Shared {
    static let database = Task { try await TestDatabase.create("pg") }

    static let client = Task { () throws -> PostgresClient in
        let testDatabase = try await Shared.database.value
        return PostgresClient(configuration: testDatabase.ownerConfiguration, maxConnections: 4, logger: makeTestLogger())
    }

    /// A unique name for a table or channel, so tests can run in parallel.
    static func unique(_ prefix: String) -> String { "\(prefix)_\(UInt32.random(in: 0...UInt32.max))" }
}

/// A counter tasks can share (Atomic itself cannot be captured by escaping closures).
final class Counter: Sendable {
    private let value = Atomic<Int>(0)
    /// Adds one and returns the new value.
    @discardableResult func increment() -> Int { value.wrappingAdd(1, ordering: .relaxed).newValue }
    var current: Int { value.load(ordering: .relaxed) }
}

/// A set tasks can share.
final class SharedSet<Element: Hashable & Sendable>: Sendable {
    private let storage = Mutex(Set<Element>())
    func insert(_ element: Element) { storage.withLock { _ = $0.insert(element) } }
    var count: Int { storage.withLock { $0.count } }
}

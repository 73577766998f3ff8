import Synchronization

/// A count shared between a test and the tasks it starts.
final class SharedCount: Sendable {
    private let value = Atomic<Int>(0)

    var current: Int { value.load(ordering: .relaxed) }

    @discardableResult
    func increment() -> Int {
        value.add(1, ordering: .relaxed).newValue
    }
}

import Combo
import NIOCore
import Synchronization

/// Several Combo nodes inside one process, connected without any network.
///
/// The reference adapter: it proves the `ComboConformance` suite, and it is
/// the test kit for your own unit tests, so code that uses a ``PubSub`` can be
/// tested as a cluster without sockets or servers.
///
/// ```swift
/// let cluster = InMemoryCluster()
/// let a = try PubSub(configuration: .init(name: "app"), adapter: cluster.node("a"))
/// let b = try PubSub(configuration: .init(name: "app"), adapter: cluster.node("b"))
/// // run both (ServiceGroup or tasks), then:
/// try await cluster.waitForMembers(["a", "b"])
/// ```
///
/// Like a real transport, each node runs `poolSize` receiving lanes that
/// deliver in order; an envelope sent on shard `s` is received on lane
/// `s % poolSize`, so nodes with different pool sizes lose nothing. Envelopes
/// are passed as the very bytes a real adapter would send, and go through the
/// receiving node's decoder.
public final class InMemoryCluster: Sendable {
    struct State {
        var members: [NodeName: InMemoryAdapter] = [:]
        var waiters: [(id: UInt64, names: Set<NodeName>, continuation: CheckedContinuation<Void, any Error>)] = []
        var nextWaiter: UInt64 = 0
    }

    let state = Mutex(State())
    private let dropped = Atomic<Int>(0)

    /// Envelopes a node did not take because one of its lanes held
    /// ``laneLimit`` unread envelopes already (a node that stopped reading).
    public var droppedEnvelopes: Int { dropped.load(ordering: .relaxed) }

    /// The unread envelopes one lane of a node may hold; past it envelopes are
    /// dropped and counted in ``droppedEnvelopes``, as a network would drop them.
    public static let laneLimit = 1 << 20

    /// Counts one envelope a lane could not take.
    func countDropped() {
        dropped.add(1, ordering: .relaxed)
    }

    /// Creates an empty cluster.
    public init() {}

    /// The adapter factory of a node named `name` in this cluster.
    public func node(_ name: NodeName) -> InMemoryNode {
        InMemoryNode(cluster: self, nodeName: name)
    }

    /// The nodes whose ``PubSub`` is running, by name.
    public var members: [NodeName: NodeIdentity] {
        state.withLock { state in state.members.mapValues(\.node) }
    }

    /// Waits until every node in `names` is running.
    ///
    /// - Throws: ``InMemoryClusterError/timedOut(waitingFor:)`` after `timeout`.
    public func waitForMembers(_ names: Set<NodeName>, timeout: Duration = .seconds(10)) async throws {
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await self.membersPresent(names) }
            group.addTask {
                try await Task.sleep(for: timeout)
                throw InMemoryClusterError.timedOut(waitingFor: names.sorted().map(\.rawValue))
            }
            defer { group.cancelAll() }
            try await group.next()
        }
    }

    private func membersPresent(_ names: Set<NodeName>) async throws {
        let id = state.withLock { state in
            state.nextWaiter += 1
            return state.nextWaiter
        }
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                let ready: Bool = state.withLock { state in
                    if names.isSubset(of: state.members.keys) { return true }
                    if Task.isCancelled {
                        continuation.resume(throwing: CancellationError())
                        return false
                    }
                    state.waiters.append((id, names, continuation))
                    return false
                }
                if ready { continuation.resume() }
            }
        } onCancel: {
            let waiter = state.withLock { state in
                state.waiters.firstIndex { $0.id == id }.map { state.waiters.remove(at: $0) }
            }
            waiter?.continuation.resume(throwing: CancellationError())
        }
    }

    func join(_ adapter: InMemoryAdapter) throws(InMemoryClusterError) {
        let ready = try state.withLock { (state) throws(InMemoryClusterError) in
            if let existing = state.members[adapter.node.name] {
                throw .duplicateNodeName(adapter.node.name, running: existing.node.incarnation)
            }
            state.members[adapter.node.name] = adapter
            let members = Set(state.members.keys)
            let ready = state.waiters.filter { $0.names.isSubset(of: members) }
            state.waiters.removeAll { $0.names.isSubset(of: members) }
            return ready
        }
        for waiter in ready { waiter.continuation.resume() }
    }

    func leave(_ adapter: InMemoryAdapter) {
        state.withLock { state in
            if state.members[adapter.node.name] === adapter {
                state.members[adapter.node.name] = nil
            }
        }
    }

    func peers(of adapter: InMemoryAdapter) -> [InMemoryAdapter] {
        state.withLock { state in state.members.values.filter { $0 !== adapter } }
    }

    func member(named name: NodeName) -> InMemoryAdapter? {
        state.withLock { $0.members[name] }
    }
}

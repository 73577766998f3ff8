import Combo
import NIOCore
import ServiceLifecycle
import Synchronization

/// The adapter of one ``InMemoryCluster`` node: `poolSize` ordered lanes, each
/// drained by its own task while the node runs.
final class InMemoryAdapter: Adapter, Sendable {
    let node: NodeIdentity
    private let cluster: InMemoryCluster
    private let receiver: InboundReceiver
    private let lanes: [(stream: AsyncStream<ByteBuffer>, continuation: AsyncStream<ByteBuffer>.Continuation)]
    private let running = Atomic<Bool>(false)

    init(cluster: InMemoryCluster, context: AdapterContext) {
        self.node = context.node
        self.cluster = cluster
        self.receiver = context.receiver
        self.lanes = (0..<context.poolSize).map { _ in
            AsyncStream<ByteBuffer>.makeStream(bufferingPolicy: .bufferingOldest(InMemoryCluster.laneLimit))
        }
    }

    nonisolated(nonsending) func broadcast(_ envelope: ByteBuffer, shard: Int) async throws {
        guard running.load(ordering: .acquiring) else { throw InMemoryClusterError.notRunning(node.name) }
        for peer in cluster.peers(of: self) {
            peer.enqueue(envelope, shard: shard)
        }
    }

    nonisolated(nonsending) func directBroadcast(_ envelope: ByteBuffer, to node: NodeName, shard: Int) async throws {
        guard running.load(ordering: .acquiring) else { throw InMemoryClusterError.notRunning(self.node.name) }
        cluster.member(named: node)?.enqueue(envelope, shard: shard)
    }

    private func enqueue(_ envelope: ByteBuffer, shard: Int) {
        if case .dropped = lanes[shard % lanes.count].continuation.yield(envelope) { cluster.countDropped() }
    }

    func run() async throws {
        try cluster.join(self)
        running.store(true, ordering: .releasing)
        defer {
            running.store(false, ordering: .releasing)
            cluster.leave(self)
            for lane in lanes { lane.continuation.finish() }
        }
        await withTaskGroup(of: Void.self) { group in
            for lane in lanes {
                group.addTask { [receiver] in
                    for await envelope in lane.stream {
                        // Rejections are counted and logged by the receiver.
                        _ = try? receiver.receive(envelope)
                    }
                }
            }
            group.addTask {
                try? await gracefulShutdown()
            }
            // The first child to end is the shutdown waiter (or cancellation): stop the lanes.
            await group.next()
            group.cancelAll()
        }
    }
}

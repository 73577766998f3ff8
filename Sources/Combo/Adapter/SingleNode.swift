import NIOCore
import ServiceLifecycle

/// The adapter of a ``PubSub`` that is alone: broadcasts reach this node's
/// subscribers only, and nothing is ever encoded.
///
/// The default when a PubSub is made without an adapter; use `AdapterMesh`,
/// `AdapterRedis` or `AdapterZMQ` to form a cluster.
public struct SingleNode: AdapterFactory {
    public let nodeName: NodeName

    /// A single node with the given name.
    public init(nodeName: NodeName = "local") {
        self.nodeName = nodeName
    }

    public func makeAdapter(context: AdapterContext) throws -> any Adapter {
        SingleNodeAdapter(node: context.node)
    }
}

/// The adapter that ``SingleNode`` makes.
struct SingleNodeAdapter: Adapter {
    let node: NodeIdentity

    nonisolated(nonsending) func broadcast(_ envelope: ByteBuffer, shard: Int) async throws {}

    nonisolated(nonsending) func directBroadcast(_ envelope: ByteBuffer, to node: NodeName, shard: Int) async throws {}

    func run() async throws {
        // Nothing to run: wait for graceful shutdown or cancellation, both a normal end.
        do {
            try await gracefulShutdown()
        } catch is CancellationError {}
    }
}

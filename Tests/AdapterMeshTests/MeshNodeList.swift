import AdapterMesh
import Metrics
import Synchronization

/// The nodes a test started.
final class MeshNodeList: Sendable {
    private let nodes = Mutex<[MeshTestNode]>([])

    /// Starts a node and keeps it for cleanup.
    @discardableResult
    func start(
        _ mesh: Mesh,
        name: String = "mesh-test",
        poolSize: Int = 2,
        maximumEnvelopeSize: Int = 16 * 1024 * 1024,
        metrics: (any MetricsFactory)? = nil
    ) throws -> MeshTestNode {
        let node = try MeshTestNode(mesh, name: name, poolSize: poolSize, maximumEnvelopeSize: maximumEnvelopeSize, metrics: metrics)
        nodes.withLock { $0.append(node) }
        return node
    }

    func stopAll() async {
        let all = nodes.withLock { nodes in
            defer { nodes = [] }
            return nodes
        }
        for node in all { node.task.cancel() }
        for node in all { _ = await node.task.result }
    }
}

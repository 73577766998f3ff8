@testable import AdapterMesh
import Combo
import Logging
import Metrics

/// One node of a test: a PubSub on the mesh, running in a task until stopped.
final class MeshTestNode: Sendable {
    let pubsub: PubSub
    let task: Task<Void, any Error>

    var adapter: MeshAdapter { pubsub.adapter as! MeshAdapter }

    init(
        _ mesh: Mesh,
        name: String = "mesh-test",
        poolSize: Int = 2,
        maximumEnvelopeSize: Int = 16 * 1024 * 1024,
        metrics: (any MetricsFactory)? = nil
    ) throws {
        let pubsub = try PubSub(
            configuration: .init(name: name, poolSize: poolSize, maximumEnvelopeSize: maximumEnvelopeSize),
            adapter: mesh,
            logger: Logger(label: "combo.mesh.test", factory: { _ in SwiftLogNoOpLogHandler() }),
            metricsFactory: metrics
        )
        self.pubsub = pubsub
        self.task = Task { try await pubsub.run() }
    }

    /// The address the node listens on, waited for up to 10 seconds.
    func address() async throws -> MeshAddress {
        let adapter = self.adapter
        return try await withThrowingTaskGroup(of: MeshAddress?.self) { group in
            group.addTask { try await adapter.boundAddress() }
            group.addTask {
                try await Task.sleep(for: .seconds(10))
                return nil
            }
            defer { group.cancelAll() }
            guard let address = try await group.next() ?? nil else { throw MeshError.notListening }
            return address
        }
    }

    /// Stops the node and waits for its run to end.
    func stop() async {
        task.cancel()
        _ = await task.result
    }
}

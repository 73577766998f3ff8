import AdapterMesh
import ArgumentParser
import Combo
import Logging

/// In-process mesh nodes, each running a PubSub and a Tracker, for the tracker benchmark.
final class TrackerBenchCluster {
    struct Node {
        let pubsub: PubSub
        let tracker: Tracker
        let task: Task<Void, any Error>
    }

    private let secret: [UInt8]
    private let trackerConfiguration: Tracker.Configuration
    private let logger = Logger(label: "combo.bench") { _ in SwiftLogNoOpLogHandler() }
    private var nodes: [String: Node] = [:]
    private var seed: MeshAddress?

    init(secret: [UInt8], trackerConfiguration: Tracker.Configuration) {
        self.secret = secret
        self.trackerConfiguration = trackerConfiguration
    }

    func start(_ name: String) async throws -> Node {
        let mesh = Mesh(nodeName: try NodeName(name), seeds: seed.map { [$0] } ?? [], secret: secret)
        let pubsub = try PubSub(configuration: .init(name: "bench"), adapter: mesh, logger: logger)
        let tracker = try Tracker(configuration: trackerConfiguration, pubsub: pubsub, logger: logger)
        let task = Task {
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await pubsub.run() }
                group.addTask { try await tracker.run() }
                try await group.waitForAll()
            }
        }
        let node = Node(pubsub: pubsub, tracker: tracker, task: task)
        nodes[name] = node
        if seed == nil, let adapter = pubsub.adapter as? MeshAdapter {
            seed = try await adapter.boundAddress()
        }
        return node
    }

    /// Waits until every node's mesh knows every other.
    func awaitConnected() async throws {
        let deadline = ContinuousClock.now + .seconds(10)
        for node in nodes.values {
            guard let mesh = node.pubsub.adapter as? MeshAdapter else { continue }
            while mesh.members.count < nodes.count - 1 {
                guard ContinuousClock.now < deadline else { throw ValidationError("the bench nodes did not connect") }
                try await Task.sleep(for: .milliseconds(5))
            }
        }
    }

    func stop(_ name: String) async {
        guard let node = nodes.removeValue(forKey: name) else { return }
        node.task.cancel()
        _ = await node.task.result
    }

    func stopAll() async {
        for name in Array(nodes.keys) { await stop(name) }
    }
}

import AdapterMesh
import Combo

/// Helpers shared by the mesh tests: running nodes, and waiting for conditions with a deadline.
enum MeshTestSupport {
    static let secret: [UInt8] = Array("combo-mesh-test-secret-1f2e3d".utf8)
    static let loopback = MeshAddress(host: "127.0.0.1", port: 0)

    /// A configuration with short timers, so tests observe liveness quickly.
    static func mesh(
        _ name: NodeName,
        seeds: [MeshAddress] = [],
        secret: [UInt8] = MeshTestSupport.secret,
        handshakeTimeout: Duration = .seconds(10),
        heartbeatInterval: Duration = .milliseconds(250),
        livenessTimeout: Duration = .seconds(3),
        onListening: (@Sendable (MeshAddress) -> Void)? = nil
    ) -> Mesh {
        Mesh(
            nodeName: name,
            listenAddress: loopback,
            seeds: seeds,
            secret: secret,
            heartbeatInterval: heartbeatInterval,
            livenessTimeout: livenessTimeout,
            handshakeTimeout: handshakeTimeout,
            reconnectBackoffBase: .milliseconds(20),
            reconnectBackoffCap: .milliseconds(300),
            onListening: onListening
        )
    }

    /// Polls `condition` until it holds or `timeout` passes; returns whether it held.
    static func eventually(
        within timeout: Duration = .seconds(30),
        _ condition: @Sendable () async throws -> Bool
    ) async rethrows -> Bool {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if try await condition() { return true }
            try? await Task.sleep(for: .milliseconds(10))
        }
        return try await condition()
    }
}

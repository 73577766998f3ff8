@testable import AdapterMesh
import Combo
import NIOCore
import NIOPosix
import Synchronization

/// A hand-made mesh listener that answers the handshake correctly and then
/// falls silent: no heartbeats, and, when `stopsReading`, no reads either (a
/// peer that cannot keep up). For liveness and slow-peer tests.
final class GhostListener: Sendable {
    let channel: any Channel
    let identity: NodeIdentity
    /// Connections whose handshake this listener answered.
    let handshakes = Mutex(0)
    /// The bodies of every frame the dialling node sent, concatenated.
    let received = Mutex<[UInt8]>([])

    private init(channel: any Channel, identity: NodeIdentity) {
        self.channel = channel
        self.identity = identity
    }

    static func start(name: NodeName, pubSubName: String = "mesh-test", stopsReading: Bool = false) async throws -> GhostListener {
        let identity = NodeIdentity(name: name, incarnation: .next())
        let box = GhostBox()
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(ChannelOptions.socketOption(.so_reuseaddr), value: 1)
            // Small buffers so that a peer that stops reading backs up quickly.
            .childChannelOption(ChannelOptions.socketOption(.so_rcvbuf), value: 4096)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandlers([
                        ByteToMessageHandler(MeshFrameDecoder(limit: MeshFrameLimit(maximum: 1 << 26))),
                        GhostHandler(identity: identity, pubSubName: pubSubName, stopsReading: stopsReading, box: box),
                    ])
                }
            }
            .bind(host: "127.0.0.1", port: 0)
            .get()
        let ghost = GhostListener(channel: channel, identity: identity)
        box.ghost.withLock { $0 = ghost }
        return ghost
    }

    var address: MeshAddress { MeshAddress(host: "127.0.0.1", port: channel.localAddress?.port ?? 0) }

    func close() async {
        try? await channel.close()
    }
}

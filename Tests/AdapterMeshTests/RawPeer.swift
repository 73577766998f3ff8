@testable import AdapterMesh
import NIOCore
import NIOPosix
import Synchronization

/// A plain TCP client for feeding a mesh node hostile or hand-made bytes, and
/// recording every byte the node writes back.
final class RawPeer: Sendable {
    let channel: any Channel
    private let sink: RawSink

    private init(channel: any Channel, sink: RawSink) {
        self.channel = channel
        self.sink = sink
    }

    static func connect(to address: MeshAddress) async throws -> RawPeer {
        let sink = RawSink()
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connectTimeout(.seconds(5))
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(RawCollector(sink: sink))
                }
            }
            .connect(host: address.host, port: address.port)
            .get()
        return RawPeer(channel: channel, sink: sink)
    }

    /// Everything the node has written so far.
    var received: [UInt8] { sink.bytes.withLock { $0 } }

    /// Whether the node closed the connection (or it was closed here).
    var isClosed: Bool { !channel.isActive }

    func send(_ bytes: [UInt8]) async throws {
        try await channel.writeAndFlush(ByteBuffer(bytes: bytes))
    }

    /// Sends one frame of the mesh's framing.
    func send(_ type: MeshFrameType, body: ByteBuffer) async throws {
        try await channel.writeAndFlush(MeshFrame.encode(type, body: body, allocator: channel.allocator))
    }

    /// The complete frames received so far (type byte, body).
    var frames: [(UInt8, [UInt8])] {
        var bytes = received[...]
        var frames: [(UInt8, [UInt8])] = []
        while bytes.count >= 5 {
            let length = bytes.prefix(4).reduce(0) { $0 << 8 | Int($1) }
            guard bytes.count >= 4 + length, length >= 1 else { break }
            let start = bytes.startIndex
            frames.append((bytes[start + 4], Array(bytes[(start + 5)..<(start + 4 + length)])))
            bytes = bytes[(start + 4 + length)...]
        }
        return frames
    }

    func close() async {
        try? await channel.close()
    }
}

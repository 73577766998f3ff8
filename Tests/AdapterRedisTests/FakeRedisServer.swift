import NIOCore
import NIOPosix

/// A TCP server that pretends to be Redis and answers every read with fixed
/// bytes: a hostile or broken server, for tests of what the adapter survives.
///
/// ``connections`` yields once per accepted connection, so a test can await
/// the adapter's reconnections instead of sleeping.
final class FakeRedisServer: Sendable {
    let channel: any Channel
    let connections: AsyncStream<Void>
    private let connectionsContinuation: AsyncStream<Void>.Continuation

    var port: Int { channel.localAddress?.port ?? 0 }

    init(answer: [UInt8]) async throws {
        let (connections, continuation) = AsyncStream.makeStream(of: Void.self)
        self.connections = connections
        self.connectionsContinuation = continuation
        channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { child in
                continuation.yield()
                return child.eventLoop.makeCompletedFuture {
                    try child.pipeline.syncOperations.addHandler(FakeRedisHandler(answer: answer))
                }
            }
            .bind(host: "127.0.0.1", port: 0)
            .get()
    }

    func stop() async {
        connectionsContinuation.finish()
        try? await channel.close()
    }
}

import NIOCore
import NIOPosix
import Synchronization

/// Plain TCP over SwiftNIO with the mesh's framing and batched writes: the
/// raw-transport figures `combo bench mesh` prints beside the mesh's.
enum RawTCPBaseline {
    /// Frames per second from one sender to one receiver over loopback.
    /// The sender runs on `senderGroup`, the receiver on `receiverGroup`.
    static func throughput(
        messages: Int, payload: ByteBuffer, batch: Int = 1000, senderGroup: any EventLoopGroup,
        receiverGroup: any EventLoopGroup
    ) async throws -> Double {
        let received = Atomic<Int>(0)
        let (done, doneContinuation) = AsyncStream<Void>.makeStream()
        let server = try await ServerBootstrap(group: receiverGroup)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(RawFrameHandler(echo: false) { _ in
                        if received.add(1, ordering: .relaxed).newValue == messages { doneContinuation.yield() }
                    })
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        defer { server.close(promise: nil) }
        let client = try await ClientBootstrap(group: senderGroup)
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .connect(to: server.localAddress!).get()
        defer { client.close(promise: nil) }
        var frame = ByteBuffer()
        frame.writeInteger(UInt32(payload.readableBytes))
        frame.writeImmutableBuffer(payload)
        let clock = ContinuousClock()
        let start = clock.now
        var sent = 0
        while sent < messages {
            let count = min(batch, messages - sent)
            let frameToSend = frame
            try await client.eventLoop.submit {
                for _ in 0..<count { client.write(frameToSend, promise: nil) }
                client.flush()
            }.get()
            sent += count
        }
        for await _ in done { break }
        return Double(messages) / LocalBenchCommand.seconds(start.duration(to: clock.now))
    }

    /// Round trips of one frame to an echo server and back, one at a time.
    /// The client runs on `senderGroup`, the echo server on `receiverGroup`.
    static func roundTrips(
        count: Int, payload: ByteBuffer, senderGroup: any EventLoopGroup, receiverGroup: any EventLoopGroup
    ) async throws -> [Duration] {
        let server = try await ServerBootstrap(group: receiverGroup)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(RawFrameHandler(echo: true))
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        defer { server.close(promise: nil) }
        let (replies, replyContinuation) = AsyncStream<Void>.makeStream()
        let client = try await ClientBootstrap(group: senderGroup)
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(RawFrameHandler(echo: false) { _ in
                        replyContinuation.yield()
                    })
                }
            }
            .connect(to: server.localAddress!).get()
        defer { client.close(promise: nil) }
        var frame = ByteBuffer()
        frame.writeInteger(UInt32(payload.readableBytes))
        frame.writeImmutableBuffer(payload)
        var iterator = replies.makeAsyncIterator()
        let clock = ContinuousClock()
        var durations: [Duration] = []
        durations.reserveCapacity(count)
        for _ in 0..<count {
            let start = clock.now
            try await client.writeAndFlush(frame)
            _ = await iterator.next()
            durations.append(start.duration(to: clock.now))
        }
        return durations
    }
}

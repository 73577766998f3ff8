import NIOCore

/// Appends every byte read to a ``RawSink``. Lives on its channel's event loop.
final class RawCollector: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    let sink: RawSink

    init(sink: RawSink) {
        self.sink = sink
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let buffer = unwrapInboundIn(data)
        sink.bytes.withLock { $0.append(contentsOf: buffer.readableBytesView) }
    }
}

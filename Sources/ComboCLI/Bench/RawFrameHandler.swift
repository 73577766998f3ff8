import NIOCore

/// The raw-TCP side of `combo bench mesh`: reads length-prefixed frames (the
/// framing the mesh uses) and hands each frame's payload to `onFrame`, or
/// echoes it back when `echo` is set.
final class RawFrameHandler: ChannelInboundHandler, @unchecked Sendable {
    // @unchecked: NIO calls a handler only on its channel's event loop, and
    // `onFrame` is set once before the channel is active.
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private var pending = ByteBuffer()
    private let echo: Bool
    private let onFrame: @Sendable (ByteBuffer) -> Void

    init(echo: Bool, onFrame: @escaping @Sendable (ByteBuffer) -> Void = { _ in }) {
        self.echo = echo
        self.onFrame = onFrame
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var incoming = unwrapInboundIn(data)
        pending.writeBuffer(&incoming)
        var echoed = false
        while let length = pending.getInteger(at: pending.readerIndex, as: UInt32.self),
            pending.readableBytes >= 4 + Int(length)
        {
            pending.moveReaderIndex(forwardBy: 4)
            let payload = pending.readSlice(length: Int(length))!
            if echo {
                var frame = context.channel.allocator.buffer(capacity: 4 + payload.readableBytes)
                frame.writeInteger(length)
                frame.writeImmutableBuffer(payload)
                context.write(wrapOutboundOut(frame), promise: nil)
                echoed = true
            } else {
                onFrame(payload)
            }
        }
        pending.discardReadBytes()
        if echoed { context.flush() }
    }
}

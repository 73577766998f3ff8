import NIOCore

/// Splits a connection's bytes into ``MeshFrame``s.
///
/// The length prefix is checked against the connection's ``MeshFrameLimit``
/// before the body is waited for, so an oversized prefix is refused without
/// buffering or allocating for it.
struct MeshFrameDecoder: ByteToMessageDecoder {
    typealias InboundOut = MeshFrame

    let limit: MeshFrameLimit

    mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        guard let length = buffer.getInteger(at: buffer.readerIndex, as: UInt32.self) else { return .needMoreData }
        guard length >= 1 else { throw MeshRejection.malformed }
        guard Int(length) + 4 <= limit.maximum else { throw MeshRejection.oversized }
        guard buffer.readableBytes >= 4 + Int(length) else { return .needMoreData }
        buffer.moveReaderIndex(forwardBy: 4)
        let rawType: UInt8 = buffer.readInteger()!
        let body = buffer.readSlice(length: Int(length) - 1)!
        guard let type = MeshFrameType(rawValue: rawType) else { throw MeshRejection.malformed }
        context.fireChannelRead(Self.wrapInboundOut(MeshFrame(type: type, body: body)))
        return .continue
    }

    mutating func decodeLast(context: ChannelHandlerContext, buffer: inout ByteBuffer, seenEOF: Bool) throws -> DecodingState {
        while try decode(context: context, buffer: &buffer) == .continue {}
        // Bytes left over at the end are the start of a frame that never finished.
        if buffer.readableBytes > 0 {
            buffer.moveReaderIndex(to: buffer.writerIndex)
            throw MeshRejection.truncated
        }
        return .needMoreData
    }
}

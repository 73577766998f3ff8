import NIOCore

/// Splits a connection's bytes into ``MeshFrame``s.
///
/// The length prefix is checked against the connection's ``MeshFrameLimit``
/// before the body is waited for, so an oversized prefix is refused without
/// buffering or allocating for it. The connection handler runs it through a
/// `NIOSingleStepByteToMessageProcessor`, so frames reach the handler as plain
/// values rather than one pipeline event each.
struct MeshFrameDecoder: NIOSingleStepByteToMessageDecoder {
    typealias InboundOut = MeshFrame

    let limit: MeshFrameLimit

    mutating func decode(buffer: inout ByteBuffer) throws -> MeshFrame? {
        guard let length = buffer.getInteger(at: buffer.readerIndex, as: UInt32.self) else { return nil }
        guard length >= 1 else { throw MeshRejection.malformed }
        guard Int(length) + 4 <= limit.maximum else { throw MeshRejection.oversized }
        guard buffer.readableBytes >= 4 + Int(length) else { return nil }
        buffer.moveReaderIndex(forwardBy: 4)
        let rawType: UInt8 = buffer.readInteger()!
        let body = buffer.readSlice(length: Int(length) - 1)!
        guard let type = MeshFrameType(rawValue: rawType) else { throw MeshRejection.malformed }
        return MeshFrame(type: type, body: body)
    }

    mutating func decodeLast(buffer: inout ByteBuffer, seenEOF: Bool) throws -> MeshFrame? {
        if let frame = try decode(buffer: &buffer) { return frame }
        // Bytes left over at the end are the start of a frame that never finished.
        if buffer.readableBytes > 0 {
            buffer.moveReaderIndex(to: buffer.writerIndex)
            throw MeshRejection.truncated
        }
        return nil
    }
}

import NIOCore

/// One frame of a mesh connection.
///
/// On the wire: a `u32` big-endian length counting the type byte and the
/// body, the type byte (``MeshFrameType``), then the body.
struct MeshFrame {
    /// The bytes before the body: length prefix and type.
    static let headerSize = 5

    let type: MeshFrameType
    let body: ByteBuffer

    /// Appends a frame with `body` to `buffer`.
    static func write(_ type: MeshFrameType, body: ByteBuffer, to buffer: inout ByteBuffer) {
        buffer.writeInteger(UInt32(body.readableBytes + 1))
        buffer.writeInteger(type.rawValue)
        buffer.writeImmutableBuffer(body)
    }

    /// A frame with `body`, as a buffer of its own.
    static func encode(_ type: MeshFrameType, body: ByteBuffer, allocator: ByteBufferAllocator) -> ByteBuffer {
        var buffer = allocator.buffer(capacity: headerSize + body.readableBytes)
        write(type, body: body, to: &buffer)
        return buffer
    }
}

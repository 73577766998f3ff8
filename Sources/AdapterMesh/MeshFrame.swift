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
        // One reservation for the whole frame: this runs once per envelope per peer.
        let length = body.readableBytes
        buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: headerSize + length) { memory in
            memory.storeBytes(of: UInt32(length + 1).bigEndian, toByteOffset: 0, as: UInt32.self)
            memory.storeBytes(of: type.rawValue, toByteOffset: 4, as: UInt8.self)
            body.withUnsafeReadableBytes { bytes in
                if length > 0 { (memory.baseAddress! + headerSize).copyMemory(from: bytes.baseAddress!, byteCount: length) }
            }
            return headerSize + length
        }
    }

    /// A frame with `body`, as a buffer of its own.
    static func encode(_ type: MeshFrameType, body: ByteBuffer, allocator: ByteBufferAllocator) -> ByteBuffer {
        var buffer = allocator.buffer(capacity: headerSize + body.readableBytes)
        write(type, body: body, to: &buffer)
        return buffer
    }
}

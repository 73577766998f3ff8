import NIOCore

/// Writes Redis commands in RESP2 (arrays of bulk strings).
///
/// We write RESP ourselves instead of calling hiredis' `redisFormatCommandArgv`:
/// that function needs every argument as contiguous C memory and returns a
/// new C buffer, so each envelope would be copied twice. Here a `PUBLISH` is a
/// small header, the envelope's own `ByteBuffer` (shared, not copied) and a
/// two-byte trailer, written with one gathering write.
enum RESPCommand {
    /// The parts of a command whose arguments are all given.
    static func encode(_ arguments: [ByteBuffer], allocator: ByteBufferAllocator) -> ByteBuffer {
        var buffer = allocator.buffer(capacity: 16 + arguments.reduce(0) { $0 + $1.readableBytes + 16 })
        buffer.writeString("*\(arguments.count)\r\n")
        for var argument in arguments {
            buffer.writeString("$\(argument.readableBytes)\r\n")
            buffer.writeBuffer(&argument)
            buffer.writeStaticString("\r\n")
        }
        return buffer
    }

    /// A command of text arguments.
    static func encode(_ arguments: [String], allocator: ByteBufferAllocator) -> ByteBuffer {
        encode(arguments.map { allocator.buffer(string: $0) }, allocator: allocator)
    }

    /// `PUBLISH channel message` as three parts: the header up to the message,
    /// the message itself (the caller's buffer, not copied), and the trailer.
    static func publish(channel: String, message: ByteBuffer, allocator: ByteBufferAllocator) -> [ByteBuffer] {
        var head = allocator.buffer(capacity: 48 + channel.utf8.count)
        head.writeStaticString("*3\r\n$7\r\nPUBLISH\r\n")
        head.writeString("$\(channel.utf8.count)\r\n")
        head.writeString(channel)
        head.writeString("\r\n$\(message.readableBytes)\r\n")
        return [head, message, allocator.buffer(staticString: "\r\n")]
    }
}

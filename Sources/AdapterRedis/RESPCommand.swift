import NIOCore

/// Writes Redis commands in RESP2 (arrays of bulk strings).
///
/// We write RESP ourselves instead of calling hiredis' `redisFormatCommandArgv`:
/// that function needs every argument as contiguous C memory and returns a
/// new C buffer, so each envelope would be copied twice. A `PUBLISH` here is
/// the channel's header, made once per channel, the envelope's length, the
/// envelope and a trailer, appended to the batch its connection writes next.
enum RESPCommand {
    /// The parts of a command whose arguments are all given.
    static func encode(_ arguments: [ByteBuffer], allocator: ByteBufferAllocator) -> ByteBuffer {
        var buffer = allocator.buffer(capacity: 16 + arguments.reduce(0) { $0 + $1.readableBytes + 16 })
        writeLength(arguments.count, marker: UInt8(ascii: "*"), into: &buffer)
        for argument in arguments {
            writeLength(argument.readableBytes, marker: UInt8(ascii: "$"), into: &buffer)
            buffer.writeImmutableBuffer(argument)
            buffer.writeStaticString("\r\n")
        }
        return buffer
    }

    /// A command of text arguments.
    static func encode(_ arguments: [String], allocator: ByteBufferAllocator) -> ByteBuffer {
        encode(arguments.map { allocator.buffer(string: $0) }, allocator: allocator)
    }

    /// `PUBLISH channel ` up to the message: `*3`, the command name and the
    /// channel as bulk strings. The same for every message on the channel.
    static func publishHeader(channel: String, allocator: ByteBufferAllocator) -> ByteBuffer {
        var head = allocator.buffer(capacity: 32 + channel.utf8.count)
        head.writeStaticString("*3\r\n$7\r\nPUBLISH\r\n")
        writeLength(channel.utf8.count, marker: UInt8(ascii: "$"), into: &head)
        head.writeString(channel)
        head.writeStaticString("\r\n")
        return head
    }

    /// Appends `PUBLISH channel message` to `buffer`, with `header` from
    /// ``publishHeader(channel:allocator:)``.
    static func writePublish(header: ByteBuffer, message: ByteBuffer, into buffer: inout ByteBuffer) {
        buffer.writeImmutableBuffer(header)
        writeLength(message.readableBytes, marker: UInt8(ascii: "$"), into: &buffer)
        buffer.writeImmutableBuffer(message)
        buffer.writeStaticString("\r\n")
    }

    /// The most bytes ``writePublish(header:message:into:)`` appends besides
    /// the header and the message: `$`, up to 20 digits, and two CRLFs.
    static let publishFraming = 25

    /// `*3\r\n` or `$42\r\n`: a marker, a non-negative decimal length, CRLF.
    /// Written in one go into the buffer's memory: string interpolation costs
    /// an allocation per message, and a write call per digit shows in profiles.
    static func writeLength(_ length: Int, marker: UInt8, into buffer: inout ByteBuffer) {
        var digits = 1
        var rest = length / 10
        while rest > 0 {
            digits += 1
            rest /= 10
        }
        buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: digits + 3) { output in
            output[0] = marker
            var value = length
            for index in stride(from: digits, to: 0, by: -1) {
                output[index] = UInt8(ascii: "0") &+ UInt8(truncatingIfNeeded: value % 10)
                value /= 10
            }
            output[digits + 1] = UInt8(ascii: "\r")
            output[digits + 2] = UInt8(ascii: "\n")
            return digits + 3
        }
    }
}

import CHiredis
import NIOCore

/// hiredis' RESP parser (`redisReader`), fed with the bytes NIO reads.
///
/// Not `Sendable`: the reader is mutable C state. One
/// ``RedisConnectionHandler`` owns it and uses it on its channel's event loop only.
final class RedisReplyReader {
    private let reader: UnsafeMutablePointer<redisReader>

    /// A new reader; `nil` when hiredis cannot allocate one.
    init?() {
        guard let reader = redisReaderCreate() else { return nil }
        self.reader = reader
    }

    deinit {
        redisReaderFree(reader)
    }

    /// Appends received bytes to the reader's buffer.
    func feed(_ bytes: ByteBuffer) throws(RedisError) {
        let status = bytes.withUnsafeReadableBytes { raw in
            redisReaderFeed(reader, raw.baseAddress?.assumingMemoryBound(to: CChar.self), raw.count)
        }
        guard status == REDIS_OK else { throw .protocolError(errorText()) }
    }

    /// The next complete reply, or `nil` when more bytes are needed.
    ///
    /// - Throws: ``RedisError/protocolError(_:)`` when the bytes are not RESP;
    ///   the reader is unusable afterwards and the connection must close.
    func next(allocator: ByteBufferAllocator) throws(RedisError) -> RESPValue? {
        var raw: UnsafeMutableRawPointer?
        guard redisReaderGetReply(reader, &raw) == REDIS_OK else { throw .protocolError(errorText()) }
        guard let raw else { return nil }
        defer { freeReplyObject(raw) }
        return Self.value(of: raw.assumingMemoryBound(to: redisReply.self), allocator: allocator)
    }

    private func errorText() -> String {
        withUnsafeBytes(of: reader.pointee.errstr) { raw in
            let bytes = raw.prefix { $0 != 0 }
            return String(decoding: bytes, as: UTF8.self)
        }
    }

    /// Copies a hiredis reply into a ``RESPValue`` (hiredis frees its own objects).
    private static func value(of reply: UnsafePointer<redisReply>, allocator: ByteBufferAllocator) -> RESPValue {
        let reply = reply.pointee
        switch reply.type {
        case REDIS_REPLY_STRING:
            return .bulkString(allocator.buffer(bytes: UnsafeRawBufferPointer(start: reply.str, count: Int(reply.len))))
        case REDIS_REPLY_STATUS:
            return .simpleString(text(reply))
        case REDIS_REPLY_ERROR:
            return .error(text(reply))
        case REDIS_REPLY_INTEGER:
            return .integer(Int64(reply.integer))
        case REDIS_REPLY_ARRAY:
            var elements: [RESPValue] = []
            elements.reserveCapacity(Int(reply.elements))
            for index in 0..<Int(reply.elements) {
                if let element = reply.element?[index] {
                    elements.append(value(of: element, allocator: allocator))
                } else {
                    elements.append(.null)
                }
            }
            return .array(elements)
        default:
            // REDIS_REPLY_NIL, and any type a newer hiredis might add.
            return .null
        }
    }

    private static func text(_ reply: redisReply) -> String {
        String(decoding: UnsafeRawBufferPointer(start: reply.str, count: Int(reply.len)), as: UTF8.self)
    }
}

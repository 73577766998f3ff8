import CHiredis
import NIOCore
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

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

    /// A reply, with pub/sub messages set apart.
    enum Reply {
        /// A well-formed pub/sub message (`["message", channel, payload]`):
        /// where its payload was copied in the caller's buffer.
        case message(Range<Int>)
        /// Any other reply.
        case value(RESPValue)
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

    /// The next complete reply, or `nil` when more bytes are needed. The
    /// payload of a pub/sub message is appended to `messages` and nothing
    /// else of it is copied: that is most of what a subscribed connection
    /// reads, so it skips building a ``RESPValue`` of four parts.
    ///
    /// - Throws: ``RedisError/protocolError(_:)`` when the bytes are not RESP;
    ///   the reader is unusable afterwards and the connection must close.
    func next(allocator: ByteBufferAllocator, messagesInto messages: inout ByteBuffer) throws(RedisError) -> Reply? {
        var raw: UnsafeMutableRawPointer?
        guard redisReaderGetReply(reader, &raw) == REDIS_OK else { throw .protocolError(errorText()) }
        guard let raw else { return nil }
        defer { freeReplyObject(raw) }
        let reply = raw.assumingMemoryBound(to: redisReply.self)
        if let payload = Self.messagePayload(of: reply.pointee) {
            let start = messages.writerIndex
            messages.writeBytes(payload)
            return .message(start..<messages.writerIndex)
        }
        return .value(Self.value(of: reply, allocator: allocator))
    }

    /// The payload of `["message", channel, payload]` with a bulk-string
    /// payload, pointing into hiredis' reply; `nil` for anything else.
    private static func messagePayload(of reply: redisReply) -> UnsafeRawBufferPointer? {
        guard reply.type == REDIS_REPLY_ARRAY, reply.elements == 3, let elements = reply.element,
            let kind = elements[0]?.pointee, kind.type == REDIS_REPLY_STRING, kind.len == 7, let text = kind.str,
            memcmp(text, "message", 7) == 0,
            let payload = elements[2]?.pointee, payload.type == REDIS_REPLY_STRING
        else {
            return nil
        }
        return UnsafeRawBufferPointer(start: payload.str, count: Int(payload.len))
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

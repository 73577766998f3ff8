import CHiredis
import NIOCore
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Reads Redis' replies from the bytes NIO reads: pub/sub messages and
/// integer replies through ``RESPFastPath``, everything else through
/// hiredis' RESP parser (`redisReader`).
///
/// The bytes stay in a `ByteBuffer` as NIO read them, and a message's payload
/// is handed on as a slice of it, with no copy. When a reply is anything else
/// (a `PING`'s `+PONG`, `SUBSCRIBE` confirmations, errors, or bytes that are
/// not RESP), the bytes from there on are fed to hiredis, which parses that
/// one reply; the bytes it has not parsed then come back to the fast path,
/// with a fresh hiredis reader for the next time.
///
/// Not `Sendable`: the hiredis reader is mutable C state. One
/// ``RedisConnectionHandler`` owns it and uses it on its channel's event loop only.
final class RedisReplyReader {
    /// A reply, with pub/sub messages set apart.
    enum Reply: Equatable {
        /// A well-formed pub/sub message (`["message", channel, payload]`): its payload.
        case message(ByteBuffer)
        /// Any other reply.
        case value(RESPValue)
    }

    // Used for every reply: the state opts out of dynamic exclusivity checks
    // (a `swift_beginAccess`, a thread-local look-up, per access). One event
    // loop uses the reader, and no access to a property overlaps another to
    // the same property.
    @exclusivity(unchecked) private var reader: UnsafeMutablePointer<redisReader>
    /// Bytes received and not yet read by the fast path.
    @exclusivity(unchecked) private var pending = ByteBuffer()
    /// hiredis holds part of a reply: everything goes to it until it returns one.
    @exclusivity(unchecked) private var inHiredis = false

    /// A new reader; `nil` when hiredis cannot allocate one.
    init?() {
        guard let reader = redisReaderCreate() else { return nil }
        self.reader = reader
    }

    deinit {
        redisReaderFree(reader)
    }

    /// Appends received bytes.
    func feed(_ bytes: ByteBuffer) throws(RedisError) {
        if inHiredis {
            try feedHiredis(bytes)
        } else if pending.readableBytes == 0 {
            pending = bytes
        } else {
            pending.writeImmutableBuffer(bytes)
        }
    }

    /// The next complete reply, or `nil` when more bytes are needed.
    ///
    /// - Throws: ``RedisError/protocolError(_:)`` when the bytes are not RESP;
    ///   the reader is unusable afterwards and the connection must close.
    func next(allocator: ByteBufferAllocator) throws(RedisError) -> Reply? {
        while true {
            if inHiredis { return try nextFromHiredis(allocator: allocator) }
            let scan = pending.withUnsafeReadableBytes { RESPFastPath.scan($0) }
            switch scan {
            case .message(let offset, let length, let replyLength):
                let payload = pending.getSlice(at: pending.readerIndex + offset, length: length)!
                pending.moveReaderIndex(forwardBy: replyLength)
                return .message(payload)
            case .integer(let value, let replyLength):
                pending.moveReaderIndex(forwardBy: replyLength)
                return .value(.integer(value))
            case .needMore:
                if pending.readableBytes == 0 {
                    // Let go of the read buffer: NIO reuses it when nothing else holds it.
                    pending = ByteBuffer()
                } else {
                    // Keep only the incomplete reply; the slices handed on keep what they need.
                    pending.discardReadBytes()
                }
                return nil
            case .other:
                try feedHiredis(pending)
                pending = ByteBuffer()
                inHiredis = true
            }
        }
    }

    private func nextFromHiredis(allocator: ByteBufferAllocator) throws(RedisError) -> Reply? {
        var raw: UnsafeMutableRawPointer?
        guard redisReaderGetReply(reader, &raw) == REDIS_OK else { throw .protocolError(errorText()) }
        guard let raw else { return nil }
        defer { freeReplyObject(raw) }
        let reply = raw.assumingMemoryBound(to: redisReply.self)
        let result: Reply
        if let payload = Self.messagePayload(of: reply.pointee) {
            result = .message(allocator.buffer(bytes: payload))
        } else {
            result = .value(Self.value(of: reply, allocator: allocator))
        }
        try returnToFastPath()
        return result
    }

    /// Takes back the bytes hiredis holds beyond the reply it just returned,
    /// and replaces the reader: hiredis has no call to give bytes back.
    private func returnToFastPath() throws(RedisError) {
        inHiredis = false
        let consumed = Int(reader.pointee.pos)
        let length = Int(reader.pointee.len)
        guard consumed < length else { return }
        pending = ByteBuffer(bytes: UnsafeRawBufferPointer(start: reader.pointee.buf + consumed, count: length - consumed))
        guard let fresh = redisReaderCreate() else { throw .readerUnavailable }
        redisReaderFree(reader)
        reader = fresh
    }

    private func feedHiredis(_ bytes: ByteBuffer) throws(RedisError) {
        let status = bytes.withUnsafeReadableBytes { raw in
            redisReaderFeed(reader, raw.baseAddress?.assumingMemoryBound(to: CChar.self), raw.count)
        }
        guard status == REDIS_OK else { throw .protocolError(errorText()) }
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

import CHiredis
import Foundation

/// One connection of hiredis' own synchronous client (`redisContext`): the
/// raw transport that `combo bench redis` measures beside Combo.
///
/// `@unchecked Sendable`: the context is mutable C state. The benchmark hands
/// each context to one thread at a time and never uses it from two at once.
final class RedisBenchHiredisContext: @unchecked Sendable {
    private let context: UnsafeMutablePointer<redisContext>

    /// Connects to `127.0.0.1:port`.
    init(port: Int) throws(RedisBenchError) {
        guard let context = redisConnectWithTimeout("127.0.0.1", Int32(port), timeval(tv_sec: 2, tv_usec: 0)) else {
            throw .hiredis("could not allocate a context")
        }
        guard context.pointee.err == 0 else {
            let message = Self.errorText(context)
            redisFree(context)
            throw .hiredis(message)
        }
        self.context = context
    }

    deinit {
        redisFree(context)
    }

    /// Makes blocking reads fail after `seconds` without data, so that a lost
    /// message ends a run instead of hanging it.
    func setReadTimeout(seconds: Int) throws(RedisBenchError) {
        guard redisSetTimeout(context, timeval(tv_sec: seconds, tv_usec: 0)) == REDIS_OK else { throw failure() }
    }

    /// Sends a command and returns its reply as text (status, bulk string or
    /// integer); an error reply is thrown.
    func command(_ arguments: [String]) throws(RedisBenchError) -> String {
        try append(arguments.map { Array($0.utf8) }, count: 1)
        return try readText()
    }

    /// `SUBSCRIBE channel`, returning once Redis confirmed it.
    func subscribe(_ channel: String) throws(RedisBenchError) {
        try append([Array("SUBSCRIBE".utf8), Array(channel.utf8)], count: 1)
        var raw: UnsafeMutableRawPointer?
        guard redisGetReply(context, &raw) == REDIS_OK, let raw else { throw failure() }
        defer { freeReplyObject(raw) }
        let reply = raw.assumingMemoryBound(to: redisReply.self).pointee
        guard reply.type == REDIS_REPLY_ARRAY, reply.elements == 3, let first = reply.element?[0],
            Self.text(first.pointee) == "subscribe"
        else {
            throw .unexpectedReply("to SUBSCRIBE")
        }
    }

    /// Appends `count` copies of one command to the output buffer (formatted
    /// by hiredis, as a hiredis application does), without sending anything.
    func append(_ arguments: [[UInt8]], count: Int) throws(RedisBenchError) {
        let storage = arguments.map { bytes -> UnsafeMutableBufferPointer<CChar> in
            let buffer = UnsafeMutableBufferPointer<CChar>.allocate(capacity: max(1, bytes.count))
            for (index, byte) in bytes.enumerated() { buffer[index] = CChar(bitPattern: byte) }
            return buffer
        }
        defer { for buffer in storage { buffer.deallocate() } }
        var argv: [UnsafePointer<CChar>?] = storage.map { UnsafePointer($0.baseAddress) }
        let lengths = arguments.map(\.count)
        for _ in 0..<count {
            let status = argv.withUnsafeMutableBufferPointer { argv in
                redisAppendCommandArgv(context, Int32(arguments.count), argv.baseAddress, lengths)
            }
            guard status == REDIS_OK else { throw failure() }
        }
    }

    /// Writes everything appended to the socket (blocking until it is written).
    func flush() throws(RedisBenchError) {
        var done: Int32 = 0
        repeat {
            guard redisBufferWrite(context, &done) == REDIS_OK else { throw failure() }
        } while done == 0
    }

    /// Reads one reply and frees it; an error reply is thrown.
    func discardReply() throws(RedisBenchError) {
        var raw: UnsafeMutableRawPointer?
        guard redisGetReply(context, &raw) == REDIS_OK, let raw else { throw failure() }
        defer { freeReplyObject(raw) }
        let reply = raw.assumingMemoryBound(to: redisReply.self).pointee
        if reply.type == REDIS_REPLY_ERROR { throw .unexpectedReply(Self.text(reply)) }
    }

    /// Reads one reply of a subscribed connection; `true` when it is a
    /// published message (`["message", channel, payload]`).
    func readMessage() throws(RedisBenchError) -> Bool {
        var raw: UnsafeMutableRawPointer?
        guard redisGetReply(context, &raw) == REDIS_OK, let raw else { throw failure() }
        defer { freeReplyObject(raw) }
        let reply = raw.assumingMemoryBound(to: redisReply.self).pointee
        guard reply.type == REDIS_REPLY_ARRAY, reply.elements == 3, let kind = reply.element?[0]?.pointee else {
            return false
        }
        // "message" is the only 7-byte kind a SUBSCRIBE connection receives.
        return kind.type == REDIS_REPLY_STRING && kind.len == 7
    }

    private func readText() throws(RedisBenchError) -> String {
        var raw: UnsafeMutableRawPointer?
        guard redisGetReply(context, &raw) == REDIS_OK, let raw else { throw failure() }
        defer { freeReplyObject(raw) }
        let reply = raw.assumingMemoryBound(to: redisReply.self).pointee
        switch reply.type {
        case REDIS_REPLY_ERROR: throw .unexpectedReply(Self.text(reply))
        case REDIS_REPLY_INTEGER: return "\(reply.integer)"
        default: return Self.text(reply)
        }
    }

    private func failure() -> RedisBenchError {
        .hiredis(Self.errorText(context))
    }

    private static func errorText(_ context: UnsafeMutablePointer<redisContext>) -> String {
        withUnsafeBytes(of: context.pointee.errstr) { raw in
            String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
        }
    }

    private static func text(_ reply: redisReply) -> String {
        guard let str = reply.str else { return "" }
        return String(decoding: UnsafeRawBufferPointer(start: str, count: Int(reply.len)), as: UTF8.self)
    }
}

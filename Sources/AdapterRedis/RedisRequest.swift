import NIOCore

/// A command written to a ``RedisConnectionHandler``, with what to do with its reply.
struct RedisRequest: Sendable {
    /// What the handler does with the reply (or replies) of a command.
    enum Expectation: Sendable {
        /// Completes the promise with the reply.
        case reply(EventLoopPromise<RESPValue>)
        /// A batch of `count` commands from `outbox`, plain broadcast
        /// `PUBLISH`es except those of `notes` (in the order of their
        /// indices): receiver counts are checked, error replies counted and
        /// logged, the notes' waiters told, and the outbox hears when all are in.
        case publishes(count: Int, notes: [RedisPublishNote], outbox: RedisOutbox)
        /// A `SUBSCRIBE` of `channels` channels: succeeds once Redis confirmed
        /// each, fails on an error reply (Redis sends one for the whole command).
        case subscribe(channels: Int, EventLoopPromise<RESPValue>)
        /// A keepalive `PING` sent by the handler itself.
        case keepalive
    }

    /// The bytes of the command (or of a batch of `PUBLISH`es).
    var bytes: ByteBuffer
    /// The reply handling.
    var expectation: Expectation
}

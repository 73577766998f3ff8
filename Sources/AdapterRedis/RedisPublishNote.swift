import Combo

/// A command of a `PUBLISH` batch that is not a plain broadcast, with its
/// place in the batch: the handler that reads the batch's replies in order
/// does what the note says with the reply at that place. A batch of plain
/// broadcasts carries no notes at all.
struct RedisPublishNote: Sendable {
    /// What the command is, and who waits for its reply.
    enum Kind: Sendable {
        /// A `PUBLISH` on a direct channel: one receiver expected.
        case direct
        /// A `PUBLISH` of a ``RedisHello``: neither a broadcast nor checked.
        case hello
        /// A broadcast `PUBLISH` whose sender waits: called once, with the
        /// receipt, or with the error reply or the loss of the connection.
        case confirmed(@Sendable (Result<BroadcastReceipt, RedisError>) -> Void)
        /// A `PING` behind every command queued before it: called once, when
        /// it is answered or its connection is lost.
        case barrier(@Sendable () -> Void)

        /// Whether the command is a broadcast or direct `PUBLISH` a caller was told had been accepted.
        var isAccepted: Bool {
            switch self {
            case .direct, .confirmed: true
            case .hello, .barrier: false
            }
        }

        /// Tells whoever waits that the command will not be answered.
        func abandon() {
            switch self {
            case .confirmed(let done): done(.failure(.connectionClosed))
            case .barrier(let done): done()
            case .direct, .hello: break
            }
        }
    }

    /// The command's place in its batch, from 0.
    var index: Int
    var kind: Kind
}

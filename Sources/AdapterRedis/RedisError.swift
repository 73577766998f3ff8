/// The errors of the Redis adapter at run time.
public enum RedisError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The publishing connection of the shard is not up (Redis unreachable,
    /// reconnecting, or the adapter not running): the envelope was not sent.
    case notConnected
    /// The publishing connection of the shard has more unwritten bytes queued
    /// than ``Redis/publishQueueLimit`` (Redis reads slower than the node
    /// publishes): the envelope was not sent.
    case publishQueueFull
    /// Redis refused the credentials (`AUTH`), or demanded them (`NOAUTH`); carries Redis' message.
    case authenticationFailed(String)
    /// Redis refused `SELECT` of the configured database; carries Redis' message.
    case selectFailed(String)
    /// Redis refused `SUBSCRIBE`; carries Redis' message.
    case subscribeFailed(String)
    /// Redis answered a command with an error; carries Redis' message.
    case commandFailed(String)
    /// The connection closed before the reply arrived.
    case connectionClosed
    /// Redis sent bytes that are not RESP; carries hiredis' message.
    case protocolError(String)
    /// hiredis could not allocate its reader.
    case readerUnavailable

    /// Whether the error is a refusal of the configuration by Redis (wrong
    /// password, unknown database), which retrying cannot fix: on the first
    /// connection attempt it ends `run()` instead of retrying forever.
    var isConfigurationRefusal: Bool {
        switch self {
        case .authenticationFailed, .selectFailed, .subscribeFailed: true
        default: false
        }
    }

    /// A sentence saying what went wrong, for logs.
    public var description: String {
        switch self {
        case .notConnected: "the Redis publishing connection is not up"
        case .publishQueueFull: "the Redis publishing connection's queue is full"
        case .authenticationFailed(let message): "Redis refused authentication: \(message)"
        case .selectFailed(let message): "Redis refused SELECT: \(message)"
        case .subscribeFailed(let message): "Redis refused SUBSCRIBE: \(message)"
        case .commandFailed(let message): "Redis command failed: \(message)"
        case .connectionClosed: "the Redis connection closed"
        case .protocolError(let message): "Redis protocol error: \(message)"
        case .readerUnavailable: "hiredis could not create a reply reader"
        }
    }
}

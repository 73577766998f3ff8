/// Why a ``Redis`` configuration was refused, before any connection is made.
public enum RedisConfigurationError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The URL is not of the form `redis://[user:password@]host[:port][/db]`.
    case invalidURL(String, reason: String)
    /// The port is not in `1...65535`.
    case invalidPort(Int)
    /// The database index is negative.
    case invalidDatabase(Int)
    /// The channel prefix is empty.
    case emptyChannelPrefix
    /// The host is empty.
    case emptyHost
    /// `redisPoolSize` is below 1.
    case invalidRedisPoolSize(Int)
    /// A timeout, interval or backoff that must be positive is not (named by the option).
    case invalidDuration(option: String)
    /// The backoff cap is below the backoff base.
    case backoffCapBelowBase
    /// ``Redis/replyTimeout`` is below ``Redis/shortestReplyTimeout``.
    case replyTimeoutTooShort(Duration)
    /// The compression level is not in `0...9`.
    case invalidCompressionLevel(Int)
    /// The inbound lane capacity is below 1.
    case invalidInboundLaneCapacity(Int)
    /// The publish queue limit is below 1 byte.
    case invalidPublishQueueLimit(Int)
    /// A username without a password: Redis' `AUTH` needs both.
    case usernameWithoutPassword

    /// A sentence saying what went wrong, for logs.
    public var description: String {
        switch self {
        case .invalidURL(let url, let reason): "invalid Redis URL \(url.debugDescription): \(reason)"
        case .invalidPort(let port): "invalid Redis port \(port)"
        case .invalidDatabase(let database): "invalid Redis database \(database)"
        case .emptyChannelPrefix: "the Redis channel prefix is empty"
        case .emptyHost: "the Redis host is empty"
        case .invalidRedisPoolSize(let size): "redisPoolSize must be at least 1, not \(size)"
        case .invalidDuration(let option): "\(option) must be positive"
        case .backoffCapBelowBase: "reconnectBackoffCap must not be below reconnectBackoffBase"
        case .replyTimeoutTooShort(let timeout):
            "replyTimeout must be at least \(Redis.shortestReplyTimeout), not \(timeout)"
        case .invalidCompressionLevel(let level):
            "compressionLevel must be 0 (none) to 9, not \(level)"
        case .invalidInboundLaneCapacity(let capacity): "inboundLaneCapacity must be at least 1, not \(capacity)"
        case .invalidPublishQueueLimit(let limit): "publishQueueLimit must be at least 1, not \(limit)"
        case .usernameWithoutPassword: "a Redis username needs a password"
        }
    }
}

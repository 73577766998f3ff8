import Combo
import NIOCore
import NIOPosix

/// The configuration of a node whose cluster meets through a Redis server:
/// what you pass to `PubSub.init` (Phoenix.PubSub.Redis' options, in Swift).
///
/// ```swift
/// let redis = try Redis(nodeName: "web-1", url: "redis://:secret@redis.internal:6379/0")
/// let pubsub = try PubSub(configuration: .init(name: "chat"), adapter: redis)
/// ```
///
/// | option | default | upstream |
/// | --- | --- | --- |
/// | ``nodeName`` | required | `:node_name` |
/// | ``host`` / ``port`` | `127.0.0.1` / `6379` | `:host` / `:port` |
/// | ``username`` / ``password`` | none | `:url` user info, `:password` |
/// | ``database`` | 0 | `:database` |
/// | ``channelPrefix`` | `"combo"` | none (upstream uses the PubSub name alone) |
/// | ``redisPoolSize`` | 5 | `:redis_pool_size` |
/// | ``compressionLevel`` | 0 | `:compression_level` |
/// | ``replyTimeout`` | 1 s | none |
///
/// Every node of a cluster uses the same Redis, database, ``channelPrefix``
/// and PubSub name; the prefix lets several Combo clusters share one Redis.
/// The node's channels are described at ``RedisAdapter``.
public struct Redis: AdapterFactory {
    /// The node's cluster-unique name (upstream's `node_name`).
    public var nodeName: NodeName
    /// The Redis server's host name or address.
    public var host: String
    /// The Redis server's TCP port.
    public var port: Int
    /// The ACL user to authenticate as (Redis 6+), with ``password``; `nil`
    /// authenticates as the default user when a password is set.
    public var username: String?
    /// The password; `nil` sends no `AUTH`.
    public var password: String?
    /// The database to `SELECT` (pub/sub channels are global in Redis, but a
    /// server can refuse `SELECT`, which then fails start-up).
    public var database: Int
    /// The first part of every channel name, so that several clusters can share one Redis.
    public var channelPrefix: String
    /// The number of publishing connections (upstream's `redis_pool_size`).
    /// Shard `s` is always published on connection `s % redisPoolSize`, which
    /// keeps one node's messages on one topic in order.
    public var redisPoolSize: Int
    /// How long a TCP connection attempt may take.
    public var connectTimeout: Duration
    /// The time between a keepalive `PING`'s reply and the next `PING`, on every connection.
    public var pingInterval: Duration
    /// How long Redis may send nothing at all after a `PING` before the
    /// connection is considered dead (a stopped or partitioned Redis), closed
    /// and re-established. A silent Redis is detected within
    /// `pingInterval + pingTimeout`, during the handshake too.
    public var pingTimeout: Duration
    /// How long Redis may leave a command unanswered, with nothing at all
    /// read from it meanwhile, before the connection is considered dead (a
    /// stopped or partitioned Redis), closed and re-established: every
    /// `PUBLISH`, the handshake's commands and a drain's marker are watched.
    /// A busy publishing connection is so declared dead within
    /// `replyTimeout` (plus one event-loop round) of Redis' last reply, well
    /// before a `PING` would time out; idle connections are watched by the
    /// keepalive ``pingInterval`` and ``pingTimeout``. The `PUBLISH`es left
    /// unanswered are counted (`combo_redis_unconfirmed_publishes_total`).
    /// Default 1 s: far above Redis' reply time under load, short enough that
    /// few broadcasts are accepted while Redis is silent.
    public var replyTimeout: Duration
    /// The first reconnection delay; it doubles with each failed attempt.
    public var reconnectBackoffBase: Duration
    /// The longest reconnection delay.
    public var reconnectBackoffCap: Duration
    /// Compression of published envelopes (upstream's `compression_level`):
    /// 0 (the default) publishes envelopes as they are; 1 (fastest) to 9
    /// (smallest) publishes each as a ``CompressedEnvelope``, zlib at that
    /// level, unless compressing would not make it smaller.
    ///
    /// Receiving does not depend on it: every node reads plain and compressed
    /// envelopes alike, so a cluster can turn compression on or off one node
    /// at a time. Compression costs CPU in the broadcasting task and pays off
    /// for large, repetitive payloads (JSON, text) over a network that is the
    /// bottleneck; the payloads of a chat or presence system are often too
    /// small to shrink.
    public var compressionLevel: Int
    /// The most received envelopes queued per lane before newer ones are
    /// dropped (counted as `combo_redis_inbound_dropped_total`).
    public var inboundLaneCapacity: Int
    /// The most bytes of `PUBLISH`es queued on one publishing connection and
    /// not yet written to its socket; past it broadcasts throw
    /// ``RedisError/publishQueueFull`` instead of buffering without bound.
    /// Default 16 MiB (an envelope larger than the limit is still sent when
    /// the queue is empty).
    public var publishQueueLimit: Int
    /// The event loops that run the connections; `nil` for NIO's shared singleton group.
    public var eventLoopGroup: (any EventLoopGroup)?

    /// A configuration for a Redis at `host:port`.
    public init(
        nodeName: NodeName,
        host: String = "127.0.0.1",
        port: Int = 6379,
        username: String? = nil,
        password: String? = nil,
        database: Int = 0,
        channelPrefix: String = "combo",
        redisPoolSize: Int = 5
    ) {
        self.nodeName = nodeName
        self.host = host
        self.port = port
        self.username = username
        self.password = password
        self.database = database
        self.channelPrefix = channelPrefix
        self.redisPoolSize = redisPoolSize
        self.connectTimeout = .seconds(5)
        self.pingInterval = .seconds(5)
        self.pingTimeout = .seconds(5)
        self.replyTimeout = .seconds(1)
        self.reconnectBackoffBase = .milliseconds(100)
        self.reconnectBackoffCap = .seconds(10)
        self.compressionLevel = 0
        self.inboundLaneCapacity = 65_536
        self.publishQueueLimit = 16 << 20
        self.eventLoopGroup = nil
    }

    /// A configuration from a URL of the form
    /// `redis://[[username]:password@]host[:port][/database]` (as upstream's
    /// `:url`); user name and password may be percent-encoded.
    ///
    /// - Throws: ``RedisConfigurationError/invalidURL(_:reason:)``.
    public init(
        nodeName: NodeName,
        url: String,
        channelPrefix: String = "combo",
        redisPoolSize: Int = 5
    ) throws(RedisConfigurationError) {
        let parsed = try RedisURL(parsing: url)
        self.init(
            nodeName: nodeName,
            host: parsed.host,
            port: parsed.port,
            username: parsed.username,
            password: parsed.password,
            database: parsed.database,
            channelPrefix: channelPrefix,
            redisPoolSize: redisPoolSize
        )
    }

    /// The shortest ``replyTimeout`` accepted: below it, an event loop busy
    /// for a moment would be taken for a dead Redis.
    public static let shortestReplyTimeout: Duration = .milliseconds(10)

    /// Checks every option.
    ///
    /// - Throws: ``RedisConfigurationError`` naming the first invalid option.
    public func validate() throws(RedisConfigurationError) {
        guard !host.isEmpty else { throw .emptyHost }
        guard (1...65_535).contains(port) else { throw .invalidPort(port) }
        guard database >= 0 else { throw .invalidDatabase(database) }
        guard !channelPrefix.isEmpty else { throw .emptyChannelPrefix }
        guard redisPoolSize >= 1 else { throw .invalidRedisPoolSize(redisPoolSize) }
        guard username == nil || password != nil else { throw .usernameWithoutPassword }
        for (option, value) in [
            ("connectTimeout", connectTimeout), ("pingInterval", pingInterval), ("pingTimeout", pingTimeout),
            ("replyTimeout", replyTimeout),
            ("reconnectBackoffBase", reconnectBackoffBase), ("reconnectBackoffCap", reconnectBackoffCap),
        ] where !value.isPositive {
            throw .invalidDuration(option: option)
        }
        guard reconnectBackoffCap >= reconnectBackoffBase else { throw .backoffCapBelowBase }
        guard replyTimeout >= Self.shortestReplyTimeout else { throw .replyTimeoutTooShort(replyTimeout) }
        guard (0...9).contains(compressionLevel) else { throw .invalidCompressionLevel(compressionLevel) }
        guard inboundLaneCapacity >= 1 else { throw .invalidInboundLaneCapacity(inboundLaneCapacity) }
        guard publishQueueLimit >= 1 else { throw .invalidPublishQueueLimit(publishQueueLimit) }
    }

    /// Validates the configuration and makes the adapter; connects nothing.
    ///
    /// - Throws: ``RedisConfigurationError`` for an invalid option.
    public func makeAdapter(context: AdapterContext) throws -> any Adapter {
        try validate()
        return RedisAdapter(configuration: self, context: context)
    }
}

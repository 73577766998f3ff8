@testable import AdapterRedis
import Combo
import NIOCore
import Testing

@Suite("Redis configuration")
struct RedisConfigurationTests {
    @Test("parses redis:// URLs")
    func parsesURLs() throws {
        let full = try Redis(nodeName: "n1", url: "redis://combo:s%40cret@redis.local:6380/3")
        #expect(full.host == "redis.local")
        #expect(full.port == 6380)
        #expect(full.username == "combo")
        #expect(full.password == "s@cret")
        #expect(full.database == 3)

        let passwordOnly = try Redis(nodeName: "n1", url: "redis://:secret@127.0.0.1")
        #expect(passwordOnly.username == nil)
        #expect(passwordOnly.password == "secret")
        #expect(passwordOnly.port == 6379)
        #expect(passwordOnly.database == 0)

        let ipv6 = try Redis(nodeName: "n1", url: "redis://[::1]:7000")
        #expect(ipv6.host == "::1")
        #expect(ipv6.port == 7000)
    }

    @Test("rejects bad URLs with a typed error", arguments: [
        "http://localhost", "redis://", "redis://host:0", "redis://host:99999", "redis://host:port",
        "redis://host/db", "redis://host/-1", "redis://[::1", "redis://u:%zz@host", "redis://host?x=1",
    ])
    func rejectsBadURLs(_ url: String) {
        #expect(throws: RedisConfigurationError.self) { try Redis(nodeName: "n1", url: url) }
    }

    @Test("validates options")
    func validates() throws {
        var redis = Redis(nodeName: "n1")
        try redis.validate()
        #expect(redis.redisPoolSize == 5)
        #expect(redis.channelPrefix == "combo")
        for level in 0...9 {
            redis.compressionLevel = level
            try redis.validate()
        }
        for level in [-1, 10, 99] {
            redis.compressionLevel = level
            #expect(throws: RedisConfigurationError.invalidCompressionLevel(level)) { try redis.validate() }
        }
        redis.compressionLevel = 0
        redis.redisPoolSize = 0
        #expect(throws: RedisConfigurationError.invalidRedisPoolSize(0)) { try redis.validate() }
        redis.redisPoolSize = 1
        redis.pingTimeout = .zero
        #expect(throws: RedisConfigurationError.invalidDuration(option: "pingTimeout")) { try redis.validate() }
        redis.pingTimeout = .seconds(1)
        #expect(redis.replyTimeout == .seconds(1))
        redis.replyTimeout = .zero
        #expect(throws: RedisConfigurationError.invalidDuration(option: "replyTimeout")) { try redis.validate() }
        redis.replyTimeout = .milliseconds(-5)
        #expect(throws: RedisConfigurationError.invalidDuration(option: "replyTimeout")) { try redis.validate() }
        redis.replyTimeout = .milliseconds(9)
        #expect(throws: RedisConfigurationError.replyTimeoutTooShort(.milliseconds(9))) { try redis.validate() }
        redis.replyTimeout = Redis.shortestReplyTimeout
        try redis.validate()
        redis.replyTimeout = .seconds(1)
        redis.username = "user"
        #expect(throws: RedisConfigurationError.usernameWithoutPassword) { try redis.validate() }
    }

    @Test("an invalid configuration fails PubSub.init")
    func invalidConfigurationFailsInit() {
        var redis = Redis(nodeName: "n1")
        redis.compressionLevel = 10
        #expect(throws: PubSubError.self) { try PubSub(configuration: .init(name: "x"), adapter: redis) }
    }

    @Test("backoff grows, is capped and jittered")
    func backoff() {
        let backoff = RedisBackoff(base: .milliseconds(100), cap: .seconds(1))
        for attempt in 0..<40 {
            let delay = backoff.delay(attempt: attempt)
            let ceiling = min(Duration.milliseconds(100) * (1 << min(attempt, 30)), .seconds(1))
            #expect(delay >= ceiling / 2 && delay <= ceiling)
        }
    }

    @Test("writes RESP commands")
    func writesCommands() {
        let allocator = ByteBufferAllocator()
        let command = RESPCommand.encode(["SET", "k", "v1"], allocator: allocator)
        #expect(String(buffer: command) == "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$2\r\nv1\r\n")
        var joined = allocator.buffer(capacity: 64)
        let header = RESPCommand.publishHeader(channel: "c", allocator: allocator)
        RESPCommand.writePublish(header: header, message: allocator.buffer(string: "hey"), into: &joined)
        RESPCommand.writePublish(header: header, message: allocator.buffer(string: ""), into: &joined)
        #expect(String(buffer: joined) == "*3\r\n$7\r\nPUBLISH\r\n$1\r\nc\r\n$3\r\nhey\r\n*3\r\n$7\r\nPUBLISH\r\n$1\r\nc\r\n$0\r\n\r\n")
        for length in [0, 9, 10, 99, 100, 12_345, Int(UInt32.max)] {
            var buffer = allocator.buffer(capacity: 32)
            RESPCommand.writeLength(length, marker: UInt8(ascii: "$"), into: &buffer)
            #expect(String(buffer: buffer) == "$\(length)\r\n")
        }
    }

    @Test("reads RESP replies, including binary and nested ones")
    func readsReplies() throws {
        let reader = try #require(RedisReplyReader())
        let allocator = ByteBufferAllocator()
        try reader.feed(allocator.buffer(string: "*3\r\n$7\r\nmessage\r\n$1\r\nc\r\n$3\r\na\0b\r\n:7\r\n-ERR no\r\n$-1\r\n+O"))
        #expect(try reader.next(allocator: allocator) == .message(allocator.buffer(bytes: [0x61, 0, 0x62])))
        #expect(try reader.next(allocator: allocator) == .value(.integer(7)))
        #expect(try reader.next(allocator: allocator) == .value(.error("ERR no")))
        #expect(try reader.next(allocator: allocator) == .value(.null))
        #expect(try reader.next(allocator: allocator) == nil)
        try reader.feed(allocator.buffer(string: "K\r\n"))
        #expect(try reader.next(allocator: allocator) == .value(.simpleString("OK")))
        try reader.feed(allocator.buffer(string: "?garbage\r\n"))
        #expect(throws: RedisError.self) { try reader.next(allocator: allocator) }
    }
}

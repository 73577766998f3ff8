import AdapterRedis
import Combo
import MetricsTestKit
import Testing

@Suite("Redis adapter against a broken server")
struct RedisBrokenServerTests {
    /// Bytes that are not RESP, and RESP that is not what Redis answers
    /// (unsolicited replies, bogus messages, wrong confirmations), are
    /// counted; the adapter drops the connection and reconnects, and never
    /// considers such a server connected.
    @Test("bytes that are not RESP, unsolicited replies and bogus messages never crash the node", arguments: [
        "+OK\r\n\0\u{FF}not resp at all\r\n",
        "*3\r\n$7\r\nmessage\r\n$1\r\nc\r\n:5\r\n*3\r\n$7\r\nmessage\r\n$1\r\nc\r\n$3\r\nabc\r\n+OK\r\n+OK\r\n+OK\r\n$-1\r\n*-1\r\n-ERR x\r\n",
        "$99999999999999999999\r\n",
    ])
    func brokenServer(_ answer: String) async throws {
        let server = try await FakeRedisServer(answer: Array(answer.utf8))
        let metrics = TestMetrics()
        var redis = Redis(nodeName: "victim", port: server.port, redisPoolSize: 1)
        redis.pingInterval = .milliseconds(50)
        redis.pingTimeout = .milliseconds(200)
        redis.reconnectBackoffBase = .milliseconds(10)
        redis.reconnectBackoffCap = .milliseconds(50)
        let pubsub = try PubSub(configuration: .init(name: "broken"), adapter: redis, metricsFactory: metrics)
        do {
            try await withRunning([pubsub]) {
                try await withDeadline(.seconds(10), "the adapter to reconnect repeatedly") {
                    // Two connections (subscriber and publisher), then reconnections.
                    var iterator = server.connections.makeAsyncIterator()
                    for _ in 0..<5 { _ = await iterator.next() }
                }
                #expect(!redisAdapter(of: pubsub).isSubscribed)
                #expect(metrics.counterTotal(label: "combo_redis_protocol_errors_total") >= 1)
                // Broadcasting either works or throws a typed error; nothing else.
                do {
                    try await pubsub.broadcast("hi", to: "t")
                } catch PubSubError.adapterFailed(let error) {
                    #expect(error is RedisError)
                }
            }
        } catch {
            await server.stop()
            throw error
        }
        await server.stop()
    }
}

import AdapterRedis
import Combo
import ComboConformance
import Synchronization
import Testing

/// Each cluster gets a `redis-server` of its own (started by `makeCluster()`,
/// stopped by `tearDown()`), and a channel prefix of its own as well.
struct RedisHarness: ConformanceHarness {
    func makeCluster() async throws -> any ConformanceTransport {
        let server = try await RedisServer.start()
        return RedisClusterTransport(server: server, prefix: "conformance-\(server.port)")
    }
}

struct RedisClusterTransport: ConformanceTransport {
    let server: RedisServer
    let prefix: String

    func adapter(for name: NodeName) async throws -> any AdapterFactory {
        var redis = Redis(nodeName: name, port: server.port, channelPrefix: prefix)
        redis.reconnectBackoffBase = .milliseconds(20)
        redis.reconnectBackoffCap = .milliseconds(500)
        return redis
    }

    func tearDown() async {
        await server.stop()
    }
}

@Suite("Conformance: Redis adapter")
struct RedisConformanceTests {
    @Test("scenario", arguments: ConformanceScenario.allCases, [1, 8])
    func scenario(_ scenario: ConformanceScenario, poolSize: Int) async throws {
        try await ConformanceSuite(harness: RedisHarness(), timeout: .seconds(30)).run(scenario, poolSize: poolSize)
    }
}

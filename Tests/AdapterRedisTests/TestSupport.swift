import AdapterRedis
import Combo
import Foundation

/// Runs `body`, and fails with ``TestTimeout`` (cancelling `body`) if it takes longer than `limit`.
func withDeadline<T: Sendable>(
    _ limit: Duration,
    _ what: String,
    _ body: @escaping @Sendable () async throws -> T
) async throws -> T {
    try await withThrowingTaskGroup(of: T?.self) { group in
        group.addTask { try await body() }
        group.addTask {
            try await Task.sleep(for: limit)
            return nil
        }
        defer { group.cancelAll() }
        guard let first = try await group.next(), let result = first else {
            throw TestTimeout(what: what)
        }
        return result
    }
}

/// Polls `condition` until it holds, failing with ``TestTimeout`` after `limit`.
func eventually(
    _ what: String,
    within limit: Duration = .seconds(30),
    _ condition: @escaping @Sendable () async -> Bool
) async throws {
    try await withDeadline(limit, what) {
        while await !condition() { try await Task.sleep(for: .milliseconds(5)) }
    }
}

/// Runs the PubSubs while `body` runs, then cancels them and waits for them to stop.
///
/// - Returns: what `body` returns; rethrows what `body` or a node's `run()` throws.
func withRunning<T: Sendable>(_ nodes: [PubSub], _ body: () async throws -> T) async throws -> T {
    try await withThrowingTaskGroup(of: Void.self) { group in
        for node in nodes {
            group.addTask { try await node.run() }
        }
        let result: T
        do {
            result = try await body()
        } catch {
            group.cancelAll()
            throw error
        }
        group.cancelAll()
        try await group.waitForAll()
        return result
    }
}

/// The Redis adapter of a PubSub.
func redisAdapter(of pubsub: PubSub) -> RedisAdapter {
    pubsub.adapter as! RedisAdapter
}

/// A Redis configuration with short timeouts, for tests.
func testRedis(
    _ name: NodeName,
    server: RedisServer,
    prefix: String = "test",
    username: String? = nil,
    password: String? = nil
) -> Redis {
    var redis = Redis(
        nodeName: name,
        port: server.port,
        username: username,
        password: password ?? server.password,
        channelPrefix: prefix,
        redisPoolSize: 2
    )
    // Short enough for the SIGSTOP test, long enough for a loaded 2-core machine.
    redis.pingInterval = .milliseconds(250)
    redis.pingTimeout = .milliseconds(1500)
    redis.reconnectBackoffBase = .milliseconds(20)
    redis.reconnectBackoffCap = .milliseconds(200)
    return redis
}

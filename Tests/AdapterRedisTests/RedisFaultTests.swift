@testable import AdapterRedis
import Combo
import ComboTestKit
import Foundation
import MetricsTestKit
import NIOCore
import Testing

/// What the adapter does when Redis fails, refuses, or sends nonsense. Each
/// test starts its own `redis-server` and stops it in every case.
@Suite("Redis adapter faults")
struct RedisFaultTests {
    /// Two nodes, `a` and `b`, of PubSub `faults`, with metrics of their own.
    private func makeNodes(
        server: RedisServer,
        prefix: String? = nil,
        username: String? = nil,
        password: String? = nil,
        poolSize: Int = 1
    ) throws -> (a: PubSub, b: PubSub, metricsA: TestMetrics, metricsB: TestMetrics) {
        let metricsA = TestMetrics()
        let metricsB = TestMetrics()
        // A prefix of the test's own, so that tests running at once never share channels.
        let prefix = prefix ?? "faults-\(server.port)"
        let configuration = PubSub.Configuration(name: "faults", poolSize: poolSize)
        let a = try PubSub(
            configuration: configuration,
            adapter: testRedis("a", server: server, prefix: prefix, username: username, password: password),
            metricsFactory: metricsA
        )
        let b = try PubSub(
            configuration: configuration,
            adapter: testRedis("b", server: server, prefix: prefix, username: username, password: password),
            metricsFactory: metricsB
        )
        return (a, b, metricsA, metricsB)
    }

    /// Waits until every node is subscribed and all its publishing connections are up.
    private func waitConnected(_ nodes: PubSub...) async throws {
        for node in nodes {
            let adapter = redisAdapter(of: node)
            try await withDeadline(.seconds(10), "\(node.nodeName) to connect") { await adapter.waitUntilConnected() }
        }
    }

    /// Receives messages until one decodes as `expected`, with a deadline for each.
    private func receive(_ expected: Note, on probe: SubscriberProbe, maximumMessages: Int = 1000) async throws {
        for _ in 0..<maximumMessages {
            let message = try await probe.next(within: .seconds(10))
            if (try? message.decode(Note.self)) == expected { return }
        }
        Issue.record("did not receive \(expected)")
    }

    @Test("SIGKILL mid-stream: failures are thrown and counted, the node resubscribes, traffic resumes")
    func redisKilledAndRestarted() async throws {
        try await withRedisServer { server in
            let (a, b, metricsA, metricsB) = try makeNodes(server: server)
            let adapterA = redisAdapter(of: a)
            let adapterB = redisAdapter(of: b)
            try await withRunning([a, b]) {
                try await waitConnected(a, b)
                let probe = SubscriberProbe(b.makeSubscriber())
                defer { probe.stop() }
                try b.subscribe(probe.subscriber, to: "stream")

                try await a.broadcast(Note(text: "before", count: 0), to: "stream")
                try await receive(Note(text: "before", count: 0), on: probe)

                // Kill Redis while `a` streams; the stream is bounded by a count and a deadline.
                let streaming = Task {
                    var failures = 0
                    var sent = 0
                    let deadline = ContinuousClock.now + .seconds(10)
                    while failures == 0, sent < 1_000_000, ContinuousClock.now < deadline {
                        do {
                            try await a.broadcast(Note(text: "during", count: sent), to: "stream")
                        } catch {
                            failures += 1
                        }
                        sent += 1
                    }
                    return failures
                }
                await server.killHard()
                let failures = await streaming.value
                #expect(failures > 0, "a broadcast while Redis is down must throw")
                try await withDeadline(.seconds(10), "the loss to be noticed") {
                    await adapterA.waitUntilUnsubscribed()
                    await adapterB.waitUntilUnsubscribed()
                }
                await #expect(throws: PubSubError.self) {
                    try await a.broadcast(Note(text: "lost", count: 0), to: "stream")
                }
                #expect(metricsA.counterTotal(label: "combo_redis_publish_failures_total") >= 2)

                try await server.restart()
                try await waitConnected(a, b)
                #expect(try await server.subscriberCount(of: adapterA.broadcastChannel) == 2)
                #expect(try await server.subscriberCount(of: adapterA.directChannel(of: "a")) == 1)
                #expect(try await server.subscriberCount(of: adapterA.directChannel(of: "b")) == 1)
                #expect(metricsA.counterTotal(label: "combo_redis_reconnects_total") >= 1)
                #expect(metricsB.counterTotal(label: "combo_redis_reconnects_total") >= 1)

                try await a.broadcast(Note(text: "after", count: 1), to: "stream")
                try await receive(Note(text: "after", count: 1), on: probe)
                try await a.directBroadcast(Note(text: "direct", count: 2), to: "stream", on: "b")
                try await receive(Note(text: "direct", count: 2), on: probe)
            }
        }
    }

    @Test("SIGSTOP is detected by the ping timeout; after SIGCONT traffic resumes")
    func redisStoppedAndContinued() async throws {
        try await withRedisServer { server in
            let (a, b, metricsA, _) = try makeNodes(server: server)
            let adapterA = redisAdapter(of: a)
            let adapterB = redisAdapter(of: b)
            try await withRunning([a, b]) {
                try await waitConnected(a, b)
                let probe = SubscriberProbe(b.makeSubscriber())
                defer { probe.stop() }
                try b.subscribe(probe.subscriber, to: "stopped")

                server.signal(SIGSTOP)
                do {
                    try await withDeadline(.seconds(10), "the ping timeout to notice the stopped Redis") {
                        await adapterA.waitUntilUnsubscribed()
                        await adapterB.waitUntilUnsubscribed()
                    }
                } catch {
                    server.signal(SIGCONT)
                    throw error
                }
                #expect(metricsA.counterTotal(label: "combo_redis_ping_timeouts_total") >= 1)
                server.signal(SIGCONT)

                try await waitConnected(a, b)
                try await a.broadcast(Note(text: "resumed", count: 1), to: "stopped")
                try await receive(Note(text: "resumed", count: 1), on: probe)
            }
        }
    }

    @Test("broadcasts throw notConnected before run() and until every connection is up")
    func notConnectedBeforeRun() async throws {
        try await withRedisServer { server in
            let (a, _, metricsA, _) = try makeNodes(server: server)
            await #expect(throws: PubSubError.self) { try await a.broadcast(Note(text: "early", count: 0), to: "t") }
            do {
                try await redisAdapter(of: a).broadcast(ByteBuffer(), shard: 0)
                Issue.record("a broadcast before run() must throw")
            } catch let error as RedisError {
                #expect(error == .notConnected)
            }
            #expect(metricsA.counterTotal(label: "combo_redis_publish_failures_total") == 2)
        }
    }

    @Test("the publish queue is bounded: past publishQueueLimit unwritten bytes, broadcasts throw publishQueueFull")
    func publishQueueIsBounded() async throws {
        try await withRedisServer { server in
            var redis = testRedis("a", server: server)
            redis.redisPoolSize = 1
            redis.publishQueueLimit = 1 << 20
            redis.pingTimeout = .seconds(30)
            // The queue must fill while Redis is stopped, before the connection is declared dead.
            redis.replyTimeout = .seconds(30)
            let a = try PubSub(configuration: .init(name: "faults"), adapter: redis)
            try await withRunning([a]) {
                try await waitConnected(a)
                server.signal(SIGSTOP)
                defer { server.signal(SIGCONT) }
                let chunk = RawBytes(Array(repeating: 7, count: 256 << 10))
                var refusal: (any Error)?
                // The kernel's socket buffers take some megabytes first; 2,000 × 256 KiB bounds the loop.
                for _ in 0..<2_000 {
                    do {
                        try await a.broadcast(chunk, to: "big")
                    } catch PubSubError.adapterFailed(let error) {
                        refusal = error
                        break
                    }
                }
                #expect(refusal as? RedisError == .publishQueueFull)
            }
        }
    }

    @Test("requirepass: the right password works")
    func rightPassword() async throws {
        try await withRedisServer(password: "s3cret") { server in
            let (a, b, _, _) = try makeNodes(server: server)
            try await withRunning([a, b]) {
                try await waitConnected(a, b)
                try await b.subscribe(to: "auth") { subscriber in
                    let probe = SubscriberProbe(subscriber)
                    defer { probe.stop() }
                    try await a.broadcast(Note(text: "authed", count: 1), to: "auth")
                    try await receive(Note(text: "authed", count: 1), on: probe)
                }
            }
        }
    }

    @Test("requirepass: a wrong or missing password fails run() with a typed error", arguments: ["wrong", nil])
    func wrongPassword(_ password: String?) async throws {
        try await withRedisServer(password: "s3cret") { server in
            var redis = testRedis("a", server: server)
            redis.password = password
            let pubsub = try PubSub(configuration: .init(name: "faults"), adapter: redis)
            let error = try await withDeadline(.seconds(10), "run() to fail") { () -> RedisError? in
                do {
                    try await pubsub.run()
                    return nil
                } catch let error as RedisError {
                    return error
                }
            }
            guard case .authenticationFailed = error else {
                Issue.record("expected authenticationFailed, got \(String(describing: error))")
                return
            }
        }
    }

    @Test("SELECT: a valid database works, an out-of-range one fails run() with selectFailed")
    func selectDatabase() async throws {
        try await withRedisServer { server in
            var redisA = testRedis("a", server: server)
            var redisB = testRedis("b", server: server)
            redisA.database = 3
            redisB.database = 3
            let a = try PubSub(configuration: .init(name: "faults"), adapter: redisA)
            let b = try PubSub(configuration: .init(name: "faults"), adapter: redisB)
            try await withRunning([a, b]) {
                try await waitConnected(a, b)
                try await b.subscribe(to: "db") { subscriber in
                    let probe = SubscriberProbe(subscriber)
                    defer { probe.stop() }
                    try await a.broadcast(Note(text: "db3", count: 3), to: "db")
                    try await receive(Note(text: "db3", count: 3), on: probe)
                }
            }

            var bad = testRedis("c", server: server)
            bad.database = 99
            let pubsub = try PubSub(configuration: .init(name: "faults"), adapter: bad)
            let failed = try await withDeadline(.seconds(10), "run() to fail") { () -> Bool in
                do {
                    try await pubsub.run()
                    return false
                } catch RedisError.selectFailed {
                    return true
                }
            }
            #expect(failed)
        }
    }

    @Test("an ACL user authenticates with username and password")
    func aclUser() async throws {
        try await withRedisServer { server in
            let reply = try await server.command(["ACL", "SETUSER", "combo", "on", ">secret", "~*", "&*", "+@all"])
            #expect(reply == .simpleString("OK"))
            let (a, b, _, _) = try makeNodes(server: server, username: "combo", password: "secret")
            try await withRunning([a, b]) {
                try await waitConnected(a, b)
                try await b.subscribe(to: "acl") { subscriber in
                    let probe = SubscriberProbe(subscriber)
                    defer { probe.stop() }
                    try await a.broadcast(Note(text: "acl", count: 1), to: "acl")
                    try await receive(Note(text: "acl", count: 1), on: probe)
                }
            }

            var wrong = testRedis("c", server: server, username: "combo", password: "nope")
            wrong.redisPoolSize = 1
            let pubsub = try PubSub(configuration: .init(name: "faults"), adapter: wrong)
            let failed = try await withDeadline(.seconds(10), "run() to fail") { () -> Bool in
                do {
                    try await pubsub.run()
                    return false
                } catch RedisError.authenticationFailed {
                    return true
                }
            }
            #expect(failed)
        }
    }

    @Test("garbage published by a foreign client is rejected and counted; the nodes keep working")
    func garbageIsRejected() async throws {
        try await withRedisServer { server in
            let (a, b, _, metricsB) = try makeNodes(server: server)
            let adapterB = redisAdapter(of: b)
            try await withRunning([a, b]) {
                try await waitConnected(a, b)
                try await b.subscribe(to: "after-garbage") { subscriber in
                    let probe = SubscriberProbe(subscriber)
                    defer { probe.stop() }
                    for garbage in ["garbage", "", "CB\u{1}\u{1}\0\0\0\0\u{5}x"] {
                        let reply = try await server.command(["PUBLISH", adapterB.broadcastChannel, garbage])
                        #expect(reply == .integer(2))
                    }
                    let direct = try await server.command(["PUBLISH", adapterB.directChannel(of: "b"), "more garbage"])
                    #expect(direct == .integer(1))
                    // Redis has queued the garbage to `b` before `a`'s broadcast; with one
                    // lane, `b` handles them in that order.
                    try await a.broadcast(Note(text: "still working", count: 1), to: "after-garbage")
                    try await receive(Note(text: "still working", count: 1), on: probe)
                    #expect(metricsB.counterTotal(label: "combo_decode_failures_total") >= 4)
                }
            }
        }
    }

    @Test("an envelope built by a Python script per docs/WIRE.md reaches a Swift subscriber")
    func pythonPublisher() async throws {
        try await withRedisServer { server in
            let (a, b, _, _) = try makeNodes(server: server)
            let adapterB = redisAdapter(of: b)
            try await withRunning([a, b]) {
                try await waitConnected(a, b)
                try await b.subscribe(to: "py:topic") { subscriber in
                    let probe = SubscriberProbe(subscriber)
                    defer { probe.stop() }
                    let file = FileManager.default.temporaryDirectory
                        .appendingPathComponent("combo-envelope-\(server.port).bin")
                    defer { try? FileManager.default.removeItem(at: file) }
                    try await runProcess("/usr/bin/env", ["python3", "-c", Self.pythonScript, file.path])
                    let output = try await runProcess(
                        "/usr/bin/redis-cli",
                        ["-p", "\(server.port)", "-x", "PUBLISH", adapterB.broadcastChannel],
                        stdin: file
                    )
                    #expect(output.trimmingCharacters(in: .whitespacesAndNewlines) == "2")
                    let message = try await probe.next(within: .seconds(10))
                    #expect(message.origin.name == "py-publisher")
                    #expect(message.topic == "py:topic")
                    #expect(try message.decode(Note.self) == Note(text: "from python", count: 42))
                }
            }
        }
    }

    /// Builds a JSON (codec 1) broadcast envelope with `struct` only, as docs/WIRE.md describes.
    static let pythonScript = #"""
    import json, struct, sys

    def text(fmt, value):
        data = value.encode("utf-8")
        return struct.pack(fmt, len(data)) + data

    def shard(topic, pool):
        h = 0x811C9DC5
        for b in topic.encode("utf-8"):
            h = ((h ^ b) * 0x01000193) % 2**32
        return h % pool

    topic = "py:topic"
    payload = json.dumps({"text": "from python", "count": 42}).encode()
    envelope = (b"CB" + struct.pack(">BBBBH", 1, 1, 0, 1, shard(topic, 1))
                + text(">B", "py-publisher") + struct.pack(">Q", 0x0102030405060708)
                + struct.pack(">B", 0) + text(">H", topic) + struct.pack(">B", 0)
                + struct.pack(">I", len(payload)) + payload)
    with open(sys.argv[1], "wb") as f:
        f.write(envelope)
    """#
}

@testable import ComboCLI
import Foundation
import Testing

#if canImport(Glibc)
import Glibc
import ComboChildProcess
#endif

/// `combo node --metrics-port` as a process: what its endpoint shows after a
/// loss or a rejection on each adapter, and that every metric it shows is in
/// docs/METRICS.md.
///
/// Set `COMBO_SKIP_CLUSTERED=1` to skip them.
@Suite("Clustered: combo node's metrics endpoint", .enabled(if: ClusteredTests.enabled), .serialized)
struct NodeMetricsProcessTests {
    static func mesh(_ name: String, _ arguments: [String] = [], secret: String) throws -> DemoNodeProcess {
        var environment = ProcessInfo.processInfo.environment
        environment["COMBO_SECRET"] = secret
        return try DemoNodeProcess(
            executable: ComboCLITests.executable, name: name, arguments: ["--liveness-timeout", "2"] + arguments,
            environment: environment)
    }

    static func expectDocumented(_ text: PrometheusText, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let missing = try MetricsScrape.undocumentedFamilies(in: text)
        #expect(missing.isEmpty, "metrics missing from docs/METRICS.md: \(missing)", sourceLocation: sourceLocation)
    }

    @Test("mesh: a direct broadcast to an unknown node, bytes that are not the mesh protocol, and refused input lines are counted; every metric shown is documented")
    func mesh() async throws {
        let secret = "metrics-\(UInt64.random(in: 0 ... .max))"
        let node = try Self.mesh("m1", ["--metrics-port", "0"], secret: secret)
        defer { node.kill() }
        let address = try await MetricsScrape.address(of: node)
        let meshAddress = String(try await node.waitFor("ready") { $0.hasPrefix("ready ") }.split(separator: " ")[2])
        let before = try await MetricsScrape.scrape(address)
        #expect(before.value("combo_mesh_dropped_envelopes_total", ["pubsub": "combo"]) == 0)
        #expect(before.families["combo_broadcasts_total"] == "counter")

        // (a) a loss: nobody is called `ghost`.
        node.send("direct ghost news boo")
        _ = try await node.waitFor("ok direct") { $0 == "ok direct ghost news" }
        try await MetricsScrape.waitUntil(address, "the dropped direct broadcast") {
            $0.value("combo_mesh_dropped_envelopes_total", ["pubsub": "combo"]) == 1
                && $0.value("combo_broadcasts_total", ["scope": "direct"]) == 1
        }

        // (b) a rejection: an HTTP request on the mesh port reads as an oversized frame.
        // The node speaks first (its hello); the exchange returns once it closes the connection.
        _ = try await HTTPExchange.exchange(meshAddress, Array("GET / HTTP/1.1\r\nhost: m1\r\n\r\n".utf8))
        try await MetricsScrape.waitUntil(address, "the refused connection") {
            $0.value("combo_mesh_rejected_connections_total", ["pubsub": "combo", "reason": "oversized"]) == 1
        }

        // Refused input: a line that is no command, and one over the length limit.
        node.send("frobnicate")
        node.send("publish news " + String(repeating: "x", count: StandardInputLines.maximumLineLength))
        node.send("nodes")
        _ = try await node.waitFor("nodes") { $0 == "nodes m1" }
        let after = try await MetricsScrape.waitUntil(address, "the refused lines") {
            $0.value("combo_node_rejected_lines_total", ["reason": "invalid"]) == 1
                && $0.value("combo_node_rejected_lines_total", ["reason": "too_long"]) == 1
        }
        try Self.expectDocumented(after)
        node.send("quit")
        _ = try await node.waitFor("stopped") { $0 == "stopped" }
        #expect(await node.waitForExit() == 0)
    }

    @Test("zmq: with a high-water mark of 1, a burst to a paused receiver is lost in part and the receiver's gap counter shows it")
    func zmqHighWaterMark() async throws {
        let zmq = ZMQProcessClusterTests()
        let endpoint = try zmq.endpoint()
        let sender = try zmq.node("h1", ["--zmq-bind", endpoint, "--zmq-hwm", "1"])
        defer { sender.kill() }
        _ = try await sender.waitFor("ready") { $0 == "ready h1 zmq \(endpoint)" }
        let receiver = try zmq.node("h2", ["--zmq-peer", endpoint, "--zmq-hwm", "1", "--metrics-port", "0"])
        defer {
            receiver.signal(SIGCONT)
            receiver.kill()
        }
        let address = try await MetricsScrape.address(of: receiver)
        _ = try await receiver.waitFor("ready") { $0.hasPrefix("ready h2 zmq ") }
        _ = try await receiver.waitFor("up h1", anywhere: true) { $0.hasPrefix("up h1 ") }
        receiver.send("subscribe burst")
        _ = try await receiver.waitFor("ok subscribe") { $0 == "ok subscribe burst" }
        // The first message sets the receiver's baseline for h1's sequence.
        sender.send("publish burst first")
        _ = try await receiver.waitFor("the first message") { $0 == "received burst h1 first" }

        // Paused, the receiver reads nothing: past the sockets' buffers, libzmq
        // drops at the high-water mark of 1.
        receiver.signal(SIGSTOP)
        let filler = String(repeating: "z", count: 1_000)
        let burst = 20_000
        let lines = (0..<burst).map { "publish burst \($0) \(filler)\n" }.joined()
        #expect(await Self.write(Data(lines.utf8), to: sender))
        try await eventually("the sender to publish the burst", timeout: .seconds(120)) {
            sender.transcript.count { $0 == "ok publish burst" } == burst + 1
        }
        receiver.signal(SIGCONT)
        // A gap shows when a later message arrives: publish markers until one does.
        var marker = 0
        let text = try await MetricsScrape.waitUntil(address, "a gap", timeout: .seconds(60)) { text in
            if text.value("combo_zmq_gaps_total", ["pubsub": "combo"]) > 0 { return true }
            marker += 1
            sender.send("publish burst end \(marker)")
            return false
        }
        let received = receiver.transcript.count { $0.hasPrefix("received burst h1 ") }
        #expect(received < burst + 1 + marker, "every message of the burst arrived: nothing was lost")
        try Self.expectDocumented(text)
        for node in [sender, receiver] { await node.stop() }
    }

    @Test("redis: the endpoint shows the adapter's connections and every metric shown is documented; SIGTERM stops the node cleanly")
    func redis() async throws {
        let port = try RedisProcessClusterTests.freePort()
        let server = try await RedisProcessClusterTests.startRedis(port: port)
        defer {
            kill(server.processIdentifier, SIGKILL)
            server.waitUntilExit()
        }
        let node = try DemoNodeProcess(
            executable: ComboCLITests.executable, name: "r1",
            arguments: [
                "--adapter", "redis", "--redis-url", "redis://127.0.0.1:\(port)",
                "--channel-prefix", "metrics-\(UInt64.random(in: 0 ... .max))", "--metrics-port", "0",
            ],
            environment: ProcessInfo.processInfo.environment)
        defer { node.kill() }
        let address = try await MetricsScrape.address(of: node)
        _ = try await node.waitFor("ready") { $0 == "ready r1 redis" }
        node.send("subscribe news")
        node.send("publish news over redis")
        _ = try await node.waitFor("its broadcast") { $0 == "received news r1 over redis" }
        let text = try await MetricsScrape.waitUntil(address, "the subscriber connected and a publish") {
            $0.value("combo_redis_connects_total", ["pubsub": "combo", "role": "subscriber"]) >= 1
                && $0.value("combo_redis_connected", ["role": "subscriber"]) == 1
                && $0.value("combo_redis_published_total") >= 1
        }
        try Self.expectDocumented(text)
        node.signal(SIGTERM)
        _ = try await node.waitFor("stopped") { $0 == "stopped" }
        #expect(await node.waitForExit() == 0)
        #expect(node.transcript.last == "stopped")
    }

    /// Writes `data` to the node's standard input on a thread of its own (the
    /// write blocks while the pipe is full).
    static func write(_ data: Data, to node: DemoNodeProcess) async -> Bool {
        await withCheckedContinuation { continuation in
            Thread { continuation.resume(returning: node.write(data)) }.start()
        }
    }
}

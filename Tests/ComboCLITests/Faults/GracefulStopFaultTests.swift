@testable import ComboCLI
import ComboChildProcess
import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// The fault matrix's stops: a `combo node` stopped by SIGTERM, `quit` or the
/// end of its input has its presences gone from the other nodes within a
/// second, although their down period is 30 s, on every adapter.
@Suite("Faults: graceful stops of node processes on every adapter", .enabled(if: ClusteredTests.enabled), .serialized)
struct GracefulStopFaultTests {
    enum Way: String, CaseIterable, Sendable {
        case sigterm, quit, eof

        func stop(_ node: DemoNodeProcess) {
            switch self {
            case .sigterm: node.signal(SIGTERM)
            case .quit: node.send("quit")
            case .eof: node.closeInput()
            }
        }
    }

    enum Transport: String, CaseIterable, Sendable {
        case mesh, redis, zmq
    }

    /// A tracker whose down period alone would keep a stopped node's presences for 30 s.
    static let tracker = ["--tracker-broadcast-period", "200", "--tracker-down-period", "30000"]

    @Test("the stopped node's presences leave the others within a second", arguments: Transport.allCases, Way.allCases)
    func presencesLeave(transport: Transport, way: Way) async throws {
        var redis: ChildProcess?
        defer {
            if let redis {
                kill(redis.processIdentifier, SIGKILL)
                redis.waitUntilExit()
            }
        }
        var nodes: [DemoNodeProcess] = []
        defer { nodes.forEach { $0.kill() } }
        let names = ["\(transport)-\(way)-1", "\(transport)-\(way)-2", "\(transport)-\(way)-3"]
        switch transport {
        case .mesh:
            let secret = "stop-\(UInt64.random(in: 0 ... .max))"
            var environment = ProcessInfo.processInfo.environment
            environment["COMBO_SECRET"] = secret
            var seed: String?
            for name in names {
                let node = try DemoNodeProcess(
                    executable: ComboCLITests.executable, name: name,
                    arguments: Self.tracker + (seed.map { ["--seed", $0] } ?? []), environment: environment)
                nodes.append(node)
                let ready = try await node.waitFor("ready") { $0.hasPrefix("ready ") }
                seed = seed ?? String(ready.split(separator: " ")[2])
            }
        case .redis:
            let port = try RedisProcessClusterTests.freePort()
            redis = try await RedisProcessClusterTests.startRedis(port: port)
            let prefix = "stop-\(UInt64.random(in: 0 ... .max))"
            for name in names {
                nodes.append(
                    try DemoNodeProcess(
                        executable: ComboCLITests.executable, name: name,
                        arguments: ["--adapter", "redis", "--redis-url", "redis://127.0.0.1:\(port)", "--channel-prefix", prefix]
                            + Self.tracker,
                        environment: ProcessInfo.processInfo.environment))
            }
        case .zmq:
            let zmq = ZMQProcessClusterTests()
            let seed = try zmq.endpoint()
            nodes.append(try zmq.node(names[0], ["--zmq-bind", seed] + Self.tracker))
            for name in names.dropFirst() {
                nodes.append(try zmq.node(name, ["--zmq-bind", try zmq.endpoint(), "--zmq-peer", seed] + Self.tracker))
            }
        }
        for node in nodes {
            _ = try await node.waitFor("ready", anywhere: true) { $0.hasPrefix("ready ") }
        }
        for (index, node) in nodes.enumerated() {
            node.send("track room user\(index + 1)")
            _ = try await node.waitFor("ok track") { $0 == "ok track room user\(index + 1)" }
        }
        for node in nodes {
            for (index, name) in names.enumerated() {
                _ = try await node.waitFor("user\(index + 1) joining", anywhere: true) {
                    $0 == "join room user\(index + 1) \(name)"
                }
            }
        }
        let leaving = nodes[2]
        let stoppedAt = ContinuousClock.now
        way.stop(leaving)
        for node in nodes[0...1] {
            _ = try await node.waitFor("user3 leaving", anywhere: true, timeout: .seconds(10)) {
                $0 == "leave room user3 \(names[2])"
            }
        }
        let elapsed = ContinuousClock.now - stoppedAt
        print("fault matrix: \(transport) node stopped by \(way): presences gone from the others after \(elapsed)")
        #expect(elapsed < .seconds(1), "\(transport), \(way): the presences left after \(elapsed); the down period is 30 s")
        _ = try await leaving.waitFor("stopped") { $0 == "stopped" }
        #expect(await leaving.waitForExit() == 0)
        for node in nodes[0...1] { await node.stop() }
    }
}

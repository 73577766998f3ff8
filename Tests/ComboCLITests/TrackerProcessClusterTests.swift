@testable import ComboCLI
import Foundation
import Testing

/// Presence across `combo node` processes on the mesh: track, list, untrack,
/// and a killed process's presences leaving the others after the down period.
@Suite("Clustered: presence across node processes", .enabled(if: ClusteredTests.enabled), .serialized)
struct TrackerProcessClusterTests {
    static let downPeriod = Duration.milliseconds(1500)

    func start(_ name: String, seed: String? = nil, secret: String) throws -> DemoNodeProcess {
        var arguments = [
            "--liveness-timeout", "2", "--tracker-broadcast-period", "100",
            "--tracker-down-period", "1500",
        ]
        if let seed { arguments += ["--seed", seed] }
        var environment = ProcessInfo.processInfo.environment
        environment["COMBO_SECRET"] = secret
        return try DemoNodeProcess(
            executable: ComboCLITests.executable, name: name, arguments: arguments, environment: environment)
    }

    @Test("presences tracked in one process are listed in the others; untrack and kill -9 make them leave")
    func presenceAcrossProcesses() async throws {
        let secret = "presence-\(UInt64.random(in: 0 ... .max))"
        var nodes: [DemoNodeProcess] = []
        defer { nodes.forEach { $0.kill() } }
        let first = try start("t1", secret: secret)
        nodes.append(first)
        let seed = String(try await first.waitFor("ready", timeout: .seconds(30)) { $0.hasPrefix("ready ") }.split(separator: " ")[2])
        for name in ["t2", "t3"] {
            let node = try start(name, seed: seed, secret: secret)
            nodes.append(node)
            _ = try await node.waitFor("ready", timeout: .seconds(30)) { $0.hasPrefix("ready ") }
        }
        for (index, node) in nodes.enumerated() {
            node.send("track room user\(index + 1) online")
            _ = try await node.waitFor("ok track") { $0 == "ok track room user\(index + 1)" }
        }
        nodes[1].send("track room user2 twice")
        _ = try await nodes[1].waitFor("the duplicate refused") { $0.hasPrefix("error ") && $0.contains("already tracks") }
        for node in nodes {
            for index in 1...3 {
                _ = try await node.waitFor("user\(index) joining", anywhere: true) {
                    $0 == "join room user\(index) t\(index) online"
                }
            }
        }
        nodes[2].send("list room")
        #expect(try await nodes[2].waitFor("the list") { $0.hasPrefix("list room") } == "list room user1@t1,user2@t2,user3@t3")

        nodes[0].send("untrack room user1")
        for node in nodes[1...2] {
            _ = try await node.waitFor("user1 leaving", anywhere: true) { $0 == "leave room user1 t1 online" }
        }

        let killed = ContinuousClock.now
        nodes[2].kill()
        for node in nodes[0...1] {
            _ = try await node.waitFor("user3 leaving", anywhere: true, timeout: .seconds(15)) {
                $0 == "leave room user3 t3 online"
            }
        }
        let elapsed = ContinuousClock.now - killed
        // Down period plus a heartbeat, and room for a busy machine.
        #expect(elapsed < Self.downPeriod + .seconds(3), "user3 left after \(elapsed)")
        nodes[0].send("list room")
        #expect(try await nodes[0].waitFor("the last list") { $0.hasPrefix("list room") } == "list room user2@t2")
    }
}

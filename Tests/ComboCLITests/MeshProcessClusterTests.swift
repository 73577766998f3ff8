@testable import ComboCLI
import Foundation
import Testing

/// Clustered tests of the mesh with separate OS processes (`combo node`).
///
/// Set `COMBO_SKIP_CLUSTERED=1` to skip them; `make test-clustered` runs only these.
@Suite("Clustered: mesh nodes as processes", .enabled(if: ClusteredTests.enabled), .serialized)
struct MeshProcessClusterTests {
    static let liveness = "2"

    func start(_ name: String, seed: String? = nil, secret: String) throws -> DemoNodeProcess {
        var arguments = ["--liveness-timeout", Self.liveness]
        if let seed { arguments += ["--seed", seed] }
        var environment = ProcessInfo.processInfo.environment
        environment["COMBO_SECRET"] = secret
        return try DemoNodeProcess(
            executable: ComboCLITests.executable, name: name, arguments: arguments, environment: environment)
    }

    @Test("three processes join through one seed; broadcast and direct cross processes; kill -9 is noticed; a restart rejoins")
    func lifecycle() async throws {
        let secret = "clustered-\(UInt64.random(in: 0 ... .max))"
        var nodes: [DemoNodeProcess] = []
        defer { nodes.forEach { $0.kill() } }
        let seedNode = try start("p1", secret: secret)
        nodes.append(seedNode)
        let seed = String(try await seedNode.waitFor("ready") { $0.hasPrefix("ready ") }.split(separator: " ")[2])
        for name in ["p2", "p3"] {
            let node = try start(name, seed: seed, secret: secret)
            nodes.append(node)
            _ = try await node.waitFor("ready") { $0.hasPrefix("ready ") }
        }
        for node in nodes {
            for other in nodes where other !== node {
                _ = try await node.waitFor("up \(other.name)", anywhere: true) { $0.hasPrefix("up \(other.name) ") }
            }
            node.send("subscribe news")
            _ = try await node.waitFor("ok subscribe") { $0 == "ok subscribe news" }
        }
        nodes[0].send("nodes")
        #expect(try await nodes[0].waitFor("nodes") { $0.hasPrefix("nodes ") } == "nodes p1,p2,p3")

        nodes[2].send("publish news from p3")
        for node in nodes {
            _ = try await node.waitFor("p3's broadcast") { $0 == "received news p3 from p3" }
        }
        nodes[0].send("direct p2 news only for p2")
        nodes[0].send("publish news after direct")
        _ = try await nodes[1].waitFor("the direct message") { $0 == "received news p1 only for p2" }
        // p3 gets p1's next broadcast first: the direct message never reached it.
        #expect(try await nodes[2].waitFor("p1's broadcast") { $0.hasPrefix("received news p1") } == "received news p1 after direct")

        // kill -9: noticed within the liveness timeout (closing sockets usually makes it sooner).
        let victim = nodes[2]
        let oldIncarnation = try await nodes[0].waitFor("up p3", anywhere: true) { $0.hasPrefix("up p3 ") }
            .split(separator: " ")[2]
        let killed = ContinuousClock.now
        victim.kill()
        for node in nodes[0...1] {
            _ = try await node.waitFor("down p3", anywhere: true) { $0 == "down p3 \(oldIncarnation)" }
        }
        #expect(ContinuousClock.now - killed < .seconds(Int(Self.liveness)! + 2))

        // The same name comes back with a new incarnation, and traffic resumes.
        let restarted = try start("p3", seed: seed, secret: secret)
        nodes[2] = restarted
        _ = try await restarted.waitFor("ready") { $0.hasPrefix("ready ") }
        let up = try await nodes[0].waitFor("p3 up again") { $0.hasPrefix("up p3 ") && !$0.hasSuffix(String(oldIncarnation)) }
        #expect(!up.hasSuffix(String(oldIncarnation)))
        _ = try await restarted.waitFor("up p2", anywhere: true) { $0.hasPrefix("up p2 ") }
        _ = try await nodes[1].waitFor("p3 up again on p2", anywhere: true) {
            $0.hasPrefix("up p3 ") && !$0.hasSuffix(String(oldIncarnation))
        }
        restarted.send("subscribe news")
        _ = try await restarted.waitFor("ok subscribe") { $0 == "ok subscribe news" }
        nodes[1].send("publish news welcome back")
        _ = try await restarted.waitFor("p2's broadcast") { $0 == "received news p2 welcome back" }
        restarted.send("publish news glad to be back")
        _ = try await nodes[0].waitFor("the restarted node's broadcast") { $0 == "received news p3 glad to be back" }

        for node in nodes { await node.stop() }
    }

    @Test("a stopped (SIGSTOP) process is declared down within the liveness timeout and comes back after SIGCONT")
    func silentProcess() async throws {
        let secret = "clustered-\(UInt64.random(in: 0 ... .max))"
        var nodes: [DemoNodeProcess] = []
        defer {
            nodes.forEach { $0.signal(SIGCONT) }
            nodes.forEach { $0.kill() }
        }
        let watcher = try start("w1", secret: secret)
        nodes.append(watcher)
        let seed = String(try await watcher.waitFor("ready") { $0.hasPrefix("ready ") }.split(separator: " ")[2])
        let sleeper = try start("w2", seed: seed, secret: secret)
        nodes.append(sleeper)
        _ = try await watcher.waitFor("up w2") { $0.hasPrefix("up w2 ") }
        _ = try await sleeper.waitFor("up w1", anywhere: true) { $0.hasPrefix("up w1 ") }

        let stopped = ContinuousClock.now
        sleeper.signal(SIGSTOP)
        _ = try await watcher.waitFor("down w2") { $0.hasPrefix("down w2 ") }
        let silence = ContinuousClock.now - stopped
        // Not before the liveness timeout (the sockets stay open), and not much after it.
        #expect(silence >= .seconds(1) && silence < .seconds(Int(Self.liveness)! + 3), "down after \(silence)")

        sleeper.signal(SIGCONT)
        _ = try await watcher.waitFor("w2 up again") { $0.hasPrefix("up w2 ") }
        sleeper.send("subscribe news")
        _ = try await sleeper.waitFor("ok subscribe") { $0 == "ok subscribe news" }
        watcher.send("publish news awake")
        _ = try await sleeper.waitFor("the broadcast") { $0 == "received news w1 awake" }
        for node in nodes { await node.stop() }
    }

    @Test("a node with the wrong secret never joins, and the cluster keeps working")
    func wrongSecret() async throws {
        let secret = "clustered-\(UInt64.random(in: 0 ... .max))"
        var nodes: [DemoNodeProcess] = []
        defer { nodes.forEach { $0.kill() } }
        let seedNode = try start("s1", secret: secret)
        nodes.append(seedNode)
        let seed = String(try await seedNode.waitFor("ready") { $0.hasPrefix("ready ") }.split(separator: " ")[2])
        let intruder = try start("intruder", seed: seed, secret: "not-the-secret")
        nodes.append(intruder)
        let friend = try start("s2", seed: seed, secret: secret)
        nodes.append(friend)
        _ = try await friend.waitFor("up s1", anywhere: true) { $0.hasPrefix("up s1 ") }
        friend.send("subscribe news")
        _ = try await friend.waitFor("ok subscribe") { $0 == "ok subscribe news" }
        seedNode.send("publish news hello friend")
        _ = try await friend.waitFor("the broadcast") { $0 == "received news s1 hello friend" }
        seedNode.send("nodes")
        #expect(try await seedNode.waitFor("nodes") { $0.hasPrefix("nodes ") } == "nodes s1,s2")
        #expect(!intruder.transcript.contains { $0.hasPrefix("up ") })
        for node in nodes { await node.stop() }
    }
}

/// The switch for clustered tests: `COMBO_SKIP_CLUSTERED=1` skips them.
enum ClusteredTests {
    static var enabled: Bool {
        ProcessInfo.processInfo.environment["COMBO_SKIP_CLUSTERED"].map { $0.isEmpty || $0 == "0" } ?? true
    }
}

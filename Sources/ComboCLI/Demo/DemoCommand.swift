import ArgumentParser
import Foundation

/// `combo demo`: Combo's main job in miniature, on the mesh adapter.
///
/// Starts three `combo node` processes on loopback (the second and third join
/// through the first), subscribes each to a topic, broadcasts, sends a direct
/// message, tracks a presence on each node and shows every node listing all
/// three, untracks one, kills one node and shows that the others notice (and
/// that its presence leaves), then stops the rest and prints a summary. Needs no server; cleans up every process.
struct DemoCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "Run three mesh nodes on loopback and show Combo at work."
    )

    func run() async throws {
        let executable = Self.executableURL()
        var environment = ProcessInfo.processInfo.environment
        environment["COMBO_SECRET"] = (0..<4).map { _ in String(UInt64.random(in: .min ... .max), radix: 36) }.joined()
        let topic = "room:lobby"
        let fastTracker = ["--tracker-broadcast-period", "200", "--tracker-down-period", "1500"]
        var nodes: [DemoNodeProcess] = []
        var checks = 0
        func step(_ text: String) { print(text) }
        func passed(_ text: String) {
            checks += 1
            print("  ✓ \(text)")
        }

        do {
            step("starting demo-1")
            let first = try DemoNodeProcess(
                executable: executable, name: "demo-1", arguments: ["--liveness-timeout", "2"] + fastTracker, environment: environment)
            nodes.append(first)
            let ready = try await first.waitFor("ready") { $0.hasPrefix("ready ") }
            let seed = String(ready.split(separator: " ")[2])
            step("demo-1 listens on \(seed); starting demo-2 and demo-3 with it as their seed")
            for name in ["demo-2", "demo-3"] {
                let node = try DemoNodeProcess(
                    executable: executable, name: name, arguments: ["--seed", seed, "--liveness-timeout", "2"] + fastTracker,
                    environment: environment)
                nodes.append(node)
                _ = try await node.waitFor("ready") { $0.hasPrefix("ready ") }
            }
            for node in nodes {
                for other in nodes where other !== node {
                    _ = try await node.waitFor("up \(other.name)", anywhere: true) { $0.hasPrefix("up \(other.name) ") }
                }
            }
            passed("every node sees the other two (demo-3 learned of demo-2 by gossip)")

            for node in nodes {
                node.send("subscribe \(topic)")
                _ = try await node.waitFor("ok subscribe") { $0 == "ok subscribe \(topic)" }
            }
            step("each node subscribed to \(topic); demo-1 broadcasts")
            first.send("publish \(topic) hello from demo-1")
            for node in nodes {
                let line = try await node.waitFor("the broadcast") { $0.hasPrefix("received \(topic) demo-1 hello") }
                passed("\(node.name) \(line)")
            }

            step("demo-2 sends a direct message to demo-3 only")
            nodes[1].send("direct demo-3 \(topic) psst, demo-3")
            let direct = try await nodes[2].waitFor("the direct message") { $0.hasPrefix("received \(topic) demo-2 psst") }
            passed("demo-3 \(direct)")
            // A broadcast from demo-2 after the direct one: demo-1 must see it first, not the direct message.
            nodes[1].send("publish \(topic) after the direct one")
            let next = try await first.waitFor("demo-2's broadcast") { $0.hasPrefix("received \(topic) demo-2") }
            guard next.hasSuffix("after the direct one") else { throw DemoError("demo-1 received the direct message: \(next)") }
            passed("demo-1 did not receive the direct message")

            step("presence: alice joins on demo-1, bob on demo-2, carol on demo-3")
            let users = ["alice", "bob", "carol"]
            for (node, user) in zip(nodes, users) {
                node.send("track \(topic) \(user) online")
                _ = try await node.waitFor("ok track") { $0 == "ok track \(topic) \(user)" }
            }
            for node in nodes {
                for (owner, user) in zip(nodes, users) {
                    _ = try await node.waitFor("\(user) joining", anywhere: true) {
                        $0.hasPrefix("join \(topic) \(user) \(owner.name)")
                    }
                }
            }
            passed("every node saw alice, bob and carol join")
            first.send("list \(topic)")
            let list = try await first.waitFor("the presence list") { $0.hasPrefix("list \(topic) ") }
            guard list == "list \(topic) alice@demo-1,bob@demo-2,carol@demo-3" else { throw DemoError("demo-1 lists \(list)") }
            passed("demo-1 \(list)")
            nodes[1].send("untrack \(topic) bob")
            for node in [nodes[0], nodes[2]] {
                _ = try await node.waitFor("bob leaving", anywhere: true) { $0.hasPrefix("leave \(topic) bob demo-2") }
            }
            passed("bob left: demo-1 and demo-3 saw it")

            step("killing demo-3 (SIGKILL)")
            nodes[2].kill()
            for node in nodes[0...1] {
                let down = try await node.waitFor("down demo-3", anywhere: true) { $0.hasPrefix("down demo-3 ") }
                passed("\(node.name) noticed: \(down)")
            }
            for node in nodes[0...1] {
                _ = try await node.waitFor("carol leaving", anywhere: true) { $0.hasPrefix("leave \(topic) carol demo-3") }
            }
            passed("carol's presence left demo-1 and demo-2 after the tracker's down period")
            first.send("publish \(topic) still here")
            _ = try await nodes[1].waitFor("the last broadcast") { $0.hasPrefix("received \(topic) demo-1 still here") }
            passed("demo-1 and demo-2 keep talking")
        } catch {
            for node in nodes { node.kill() }
            print("demo failed: \(error)")
            throw ExitCode.failure
        }
        for node in nodes { await node.stop() }
        print("summary: 3 mesh nodes, \(checks) checks passed, every process stopped")
    }

    /// This very executable, so the demo runs the `combo node` of the same build.
    static func executableURL() -> URL {
        #if os(Linux)
        let own = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
        if FileManager.default.isExecutableFile(atPath: own.path) { return own }
        #endif
        return URL(fileURLWithPath: CommandLine.arguments[0]).standardizedFileURL
    }
}

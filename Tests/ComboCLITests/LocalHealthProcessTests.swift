@testable import ComboCLI
import ComboChildProcess
import Foundation
import Testing

/// Local health before blame, with real processes: a node paused by SIGSTOP
/// and resumed blames no one; nodes beside a CPU hog declare no one down.
@Suite("Clustered: local health before blame", .enabled(if: ClusteredTests.enabled), .serialized)
struct LocalHealthProcessTests {
    func start(_ name: String, seed: String? = nil, secret: String, arguments extra: [String]) throws -> DemoNodeProcess {
        var arguments = extra
        if let seed { arguments += ["--seed", seed] }
        var environment = ProcessInfo.processInfo.environment
        environment["COMBO_SECRET"] = secret
        return try DemoNodeProcess(
            executable: ComboCLITests.executable, name: name, arguments: arguments, environment: environment)
    }

    /// Lines printed by `node` from line `start` on.
    func lines(of node: DemoNodeProcess, from start: Int) -> ArraySlice<String> {
        let transcript = node.transcript
        return transcript[min(start, transcript.count)...]
    }

    @Test("a node resumed after SIGSTOP reports no one down and no presence leaving, while the other saw it down")
    func resumedNodeBlamesNoOne() async throws {
        let secret = "health-\(UInt64.random(in: 0 ... .max))"
        let options = ["--liveness-timeout", "2", "--tracker-broadcast-period", "100", "--tracker-down-period", "3000"]
        var nodes: [DemoNodeProcess] = []
        defer {
            nodes.forEach { $0.signal(SIGCONT) }
            nodes.forEach { $0.kill() }
        }
        let watcher = try start("h1", secret: secret, arguments: options)
        nodes.append(watcher)
        let seed = String(try await watcher.waitFor("ready") { $0.hasPrefix("ready ") }.split(separator: " ")[2])
        let sleeper = try start("h2", seed: seed, secret: secret, arguments: options)
        nodes.append(sleeper)
        for (index, node) in nodes.enumerated() {
            node.send("subscribe news")
            _ = try await node.waitFor("ok subscribe") { $0 == "ok subscribe news" }
            node.send("track room user\(index + 1) online")
            _ = try await node.waitFor("ok track") { $0 == "ok track room user\(index + 1)" }
        }
        for node in nodes {
            for index in 1...2 {
                _ = try await node.waitFor("user\(index) joining", anywhere: true) { $0 == "join room user\(index) h\(index) online" }
            }
        }

        let before = sleeper.transcript.count
        let watcherBefore = watcher.transcript.count
        sleeper.signal(SIGSTOP)
        // Stopped past the liveness timeout and the tracker's down period: the watcher sees it gone.
        _ = try await watcher.waitFor("down h2") { $0.hasPrefix("down h2 ") }
        _ = try await watcher.waitFor("user2 leaving") { $0 == "leave room user2 h2 online" }
        sleeper.signal(SIGCONT)
        let resumed = ContinuousClock.now

        // The two find each other again, and messages flow both ways.
        _ = try await watcher.waitFor("h2 up again") { $0.hasPrefix("up h2 ") }
        _ = try await watcher.waitFor("user2 back") { $0 == "join room user2 h2 online" }
        watcher.send("publish news awake")
        _ = try await sleeper.waitFor("the watcher's broadcast") { $0 == "received news h1 awake" }
        sleeper.send("publish news back")
        _ = try await watcher.waitFor("the sleeper's broadcast") { $0 == "received news h2 back" }

        // Watch the resumed node for longer than the liveness timeout and the
        // down period after waking: it must not blame the watcher.
        let observeUntil = resumed + .seconds(7)
        while ContinuousClock.now < observeUntil {
            let blamed = lines(of: sleeper, from: before).filter { $0.hasPrefix("down ") || $0.hasPrefix("leave ") }
            #expect(blamed.isEmpty, "the resumed node blamed its peer: \(blamed)")
            if !blamed.isEmpty { break }
            try await Task.sleep(for: .milliseconds(100))
        }
        #expect(lines(of: watcher, from: watcherBefore).contains { $0.hasPrefix("down h2 ") })
        for node in nodes { await node.stop() }
    }

    /// `COMBO_FAULTS=1` runs the long fault tests; `COMBO_FAULTS_SECONDS` sets their length (default 300).
    static var faultsEnabled: Bool { ProcessInfo.processInfo.environment["COMBO_FAULTS"] == "1" }
    static var faultSeconds: Int { ProcessInfo.processInfo.environment["COMBO_FAULTS_SECONDS"].flatMap(Int.init) ?? 300 }

    @Test("two nodes beside a CPU hog on every core declare no one down and lose no message", .enabled(if: faultsEnabled))
    func cpuHog() async throws {
        let secret = "hog-\(UInt64.random(in: 0 ... .max))"
        var nodes: [DemoNodeProcess] = []
        var hogs: [ChildProcess] = []
        defer {
            for hog in hogs {
                hog.signal(SIGKILL)
                hog.waitUntilExit()
            }
            nodes.forEach { $0.kill() }
        }
        let first = try start("c1", secret: secret, arguments: [])
        nodes.append(first)
        let seed = String(try await first.waitFor("ready") { $0.hasPrefix("ready ") }.split(separator: " ")[2])
        let second = try start("c2", seed: seed, secret: secret, arguments: [])
        nodes.append(second)
        for (index, node) in nodes.enumerated() {
            _ = try await node.waitFor("the other up", anywhere: true) { $0.hasPrefix("up c\(2 - index) ") }
            node.send("subscribe news")
            _ = try await node.waitFor("ok subscribe") { $0 == "ok subscribe news" }
            node.send("track room user\(index + 1) online")
            _ = try await node.waitFor("ok track") { $0 == "ok track room user\(index + 1)" }
        }
        // Two busy loops per core, at the nodes' own priority.
        for _ in 0..<(2 * ProcessInfo.processInfo.activeProcessorCount) {
            let hog = ChildProcess()
            hog.executableURL = URL(fileURLWithPath: "/bin/sh")
            hog.arguments = ["-c", "while :; do :; done"]
            try hog.run()
            hogs.append(hog)
        }
        let seconds = Self.faultSeconds
        let end = ContinuousClock.now + .seconds(seconds)
        var sent = 0
        while ContinuousClock.now < end {
            sent += 1
            for node in nodes { node.send("publish news \(node.name) \(sent)") }
            try await Task.sleep(for: .seconds(1))
        }
        for node in nodes {
            let blamed = node.transcript.filter { $0.hasPrefix("down ") || $0.hasPrefix("leave ") }
            #expect(blamed.isEmpty, "\(node.name) blamed a peer under CPU load: \(blamed)")
        }
        // Every message reached the other node (they may still be in flight under load).
        for (index, node) in nodes.enumerated() {
            let other = nodes[1 - index].name
            for number in 1...sent {
                _ = try await node.waitFor("message \(number) of \(other)", anywhere: true, timeout: .seconds(60)) {
                    $0 == "received news \(other) \(other) \(number)"
                }
            }
        }
        print("cpu hog: \(seconds) s, \(hogs.count) busy loops, \(sent) messages each way, no down line")
        for node in nodes { await node.stop() }
    }
}

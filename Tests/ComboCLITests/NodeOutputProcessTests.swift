@testable import ComboCLI
import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// `combo node` as a process: every line it prints follows docs/NODE.md, it
/// stops gracefully on `quit`, the end of input, SIGTERM and SIGINT, and a
/// writer faster than the node does not grow its memory.
///
/// Set `COMBO_SKIP_CLUSTERED=1` to skip them.
@Suite("Clustered: combo node's output, shutdown and input bounds", .enabled(if: ClusteredTests.enabled), .serialized)
struct NodeOutputProcessTests {
    /// The output grammar of docs/NODE.md, one pattern per line type; a
    /// line's type is the first whose pattern matches it whole.
    static let grammar: [(type: String, pattern: String)] = [
        ("metrics", #"metrics \S+:\d+"#),
        ("ready", #"ready \S+ (\S+:\d+|redis|zmq \S+)"#),
        ("up", #"up \S+ ([0-9a-f]+|-)"#),
        ("down", #"down \S+ ([0-9a-f]+|-)"#),
        ("received bytes", #"received \S+ \S+ <([a-z0-9_]+)\((\d+) bytes: ([0-9a-f]*)(\.\.\.)?\)>"#),
        ("received", #"received \S+ \S+ .*"#),
        ("nodes", #"nodes [^ ,]+(,[^ ,]+)*"#),
        ("join", #"join \S+ \S+ \S+( .+)?"#),
        ("leave", #"leave \S+ \S+ \S+( .+)?"#),
        ("list", #"list \S+( [^ ,@]+@[^ ,]+(,[^ ,@]+@[^ ,]+)*)?"#),
        ("ok", #"ok (subscribe \S+|unsubscribe \S+|publish \S+|direct \S+ \S+|track \S+ \S+|untrack \S+ \S+)"#),
        ("error", #"error \S.*"#),
        ("stopped", #"stopped"#),
    ]

    /// The type of `line` under ``grammar``, or `nil` if it follows none.
    static func type(of line: String) throws -> String? {
        for (type, pattern) in grammar where try Regex(pattern).wholeMatch(in: line) != nil {
            return type
        }
        return nil
    }

    static func mesh(_ name: String, _ arguments: [String], secret: String) throws -> DemoNodeProcess {
        var environment = ProcessInfo.processInfo.environment
        environment["COMBO_SECRET"] = secret
        return try DemoNodeProcess(
            executable: ComboCLITests.executable, name: name, arguments: ["--liveness-timeout", "2"] + arguments,
            environment: environment)
    }

    @Test("every line two mesh nodes print, through every command, follows docs/NODE.md's grammar, and every line type appears")
    func outputGrammar() async throws {
        let secret = "grammar-\(UInt64.random(in: 0 ... .max))"
        let fastTracker = ["--tracker-broadcast-period", "200"]
        let first = try Self.mesh("g1", ["--metrics-port", "0"] + fastTracker, secret: secret)
        defer { first.kill() }
        let seed = String(try await first.waitFor("ready") { $0.hasPrefix("ready ") }.split(separator: " ")[2])
        let second = try Self.mesh("g2", ["--seed", seed] + fastTracker, secret: secret)
        defer { second.kill() }
        _ = try await second.waitFor("ready") { $0.hasPrefix("ready ") }
        _ = try await first.waitFor("up g2", anywhere: true) { $0.hasPrefix("up g2 ") }
        _ = try await second.waitFor("up g1", anywhere: true) { $0.hasPrefix("up g1 ") }

        // g2 also reads the tracker's replication topic: raw bytes.
        second.send("subscribe combo_tracker:combo:0")
        _ = try await second.waitFor("ok subscribe") { $0 == "ok subscribe combo_tracker:combo:0" }
        for node in [first, second] {
            node.send("subscribe news")
            _ = try await node.waitFor("ok subscribe") { $0 == "ok subscribe news" }
        }
        first.send("publish news hello, world")
        // g1 delivers to its own subscriber before it answers `ok publish`.
        _ = try await first.waitFor("ok publish") { $0 == "ok publish news" }
        for node in [first, second] {
            _ = try await node.waitFor("the broadcast", anywhere: true) { $0 == "received news g1 hello, world" }
        }
        first.send("track room alice out to lunch")
        _ = try await first.waitFor("ok track") { $0 == "ok track room alice" }
        for node in [first, second] {
            _ = try await node.waitFor("alice joining", anywhere: true) { $0 == "join room alice g1 out to lunch" }
        }
        let raw = try await second.waitFor("a tracker message", anywhere: true) {
            $0.hasPrefix("received combo_tracker:combo:0 g1 <raw(")
        }
        first.send("list room")
        #expect(try await first.waitFor("list") { $0.hasPrefix("list room") } == "list room alice@g1")
        first.send("list nobody-here")
        #expect(try await first.waitFor("empty list") { $0.hasPrefix("list nobody-here") } == "list nobody-here")
        first.send("untrack room alice")
        _ = try await first.waitFor("ok untrack") { $0 == "ok untrack room alice" }
        _ = try await second.waitFor("alice leaving", anywhere: true) { $0 == "leave room alice g1 out to lunch" }
        first.send("nodes")
        #expect(try await first.waitFor("nodes") { $0.hasPrefix("nodes ") } == "nodes g1,g2")
        first.send("unsubscribe news")
        _ = try await first.waitFor("ok unsubscribe") { $0 == "ok unsubscribe news" }
        first.send("direct g2 news psst")
        _ = try await first.waitFor("ok direct") { $0 == "ok direct g2 news" }
        _ = try await second.waitFor("the direct message") { $0 == "received news g1 psst" }
        first.send("direct not\u{7}a-name news x")
        _ = try await first.waitFor("a failed command") { $0.hasPrefix("error node name:") }
        first.send("dance")
        _ = try await first.waitFor("a refused line") { $0.hasPrefix("error cannot understand \"dance\"") }
        first.send(String(repeating: "y", count: StandardInputLines.maximumLineLength + 1))
        _ = try await first.waitFor("a line too long") { $0.hasPrefix("error a line of 65537 bytes") }

        second.send("quit")
        _ = try await second.waitFor("g2 stopped") { $0 == "stopped" }
        _ = try await first.waitFor("down g2") { $0.hasPrefix("down g2 ") }
        first.closeInput()
        _ = try await first.waitFor("g1 stopped") { $0 == "stopped" }
        #expect(await first.waitForExit() == 0)
        #expect(await second.waitForExit() == 0)

        var seen: Set<String> = []
        for node in [first, second] {
            for line in node.transcript {
                let type = try Self.type(of: line)
                #expect(type != nil, "\(node.name) printed a line outside the grammar: \(line.debugDescription)")
                if let type { seen.insert(type) }
            }
            #expect(node.transcript.last == "stopped")
        }
        #expect(seen == Set(Self.grammar.map(\.type)), "line types never printed: \(Set(Self.grammar.map(\.type)).subtracting(seen))")

        // The bytes form: N bytes, HEX of the first 32 of them, `...` when there are more.
        let match = try #require(try Regex(Self.grammar[4].pattern).wholeMatch(in: raw))
        let sizeText = try #require(match.output[2].substring)
        let size = try #require(Int(sizeText))
        let hex = try #require(match.output[3].substring)
        #expect(hex.count == 2 * min(size, NodeCommand.shownPayloadBytes))
        #expect((match.output[4].substring != nil) == (size > NodeCommand.shownPayloadBytes))
        // docs/NODE.md documents every line type by its first word.
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        let document = try String(contentsOf: root.appendingPathComponent("docs/NODE.md"), encoding: .utf8)
        for type in Self.grammar.map(\.type) {
            let word = type.split(separator: " ")[0]
            #expect(document.contains("| `\(word)"), "docs/NODE.md has no row for \(word)")
        }
    }

    @Test("SIGTERM, SIGINT, quit and the end of input each stop a mesh node gracefully: `stopped` last, exit status 0")
    func gracefulStops() async throws {
        let secret = "stop-\(UInt64.random(in: 0 ... .max))"
        let ways: [(String, @Sendable (DemoNodeProcess) -> Void)] = [
            ("sigterm", { $0.signal(SIGTERM) }),
            ("sigint", { $0.signal(SIGINT) }),
            ("quit", { $0.send("quit") }),
            ("eof", { $0.closeInput() }),
        ]
        for (way, stop) in ways {
            let node = try Self.mesh("stop-\(way)", [], secret: secret)
            defer { node.kill() }
            _ = try await node.waitFor("ready") { $0.hasPrefix("ready ") }
            node.send("subscribe news")
            _ = try await node.waitFor("ok subscribe") { $0 == "ok subscribe news" }
            stop(node)
            _ = try await node.waitFor("stopped after \(way)") { $0 == "stopped" }
            #expect(await node.waitForExit() == 0, "\(way)")
            #expect(node.transcript.last == "stopped", "\(way)")
        }
    }

    @Test("zmq: SIGTERM stops a node gracefully")
    func zmqSigterm() async throws {
        let zmq = ZMQProcessClusterTests()
        let endpoint = try zmq.endpoint()
        let node = try zmq.node("t1", ["--zmq-bind", endpoint])
        defer { node.kill() }
        _ = try await node.waitFor("ready") { $0 == "ready t1 zmq \(endpoint)" }
        node.signal(SIGTERM)
        _ = try await node.waitFor("stopped") { $0 == "stopped" }
        #expect(await node.waitForExit() == 0)
        #expect(node.transcript.last == "stopped")
    }

    @Test("an unpaced writer of ~1 KB publish lines for 3 seconds does not grow the node past 300 MB; the node then answers")
    func boundedInput() async throws {
        let node = try Self.mesh("flood", [], secret: "flood-\(UInt64.random(in: 0 ... .max))")
        defer { node.kill() }
        _ = try await node.waitFor("ready") { $0.hasPrefix("ready ") }
        let line = "publish flood " + String(repeating: "f", count: 1_000) + "\n"
        let chunk = Data(String(repeating: line, count: 64).utf8)
        // As fast as the pipe takes it, for 3 seconds: an unbounded reader
        // would hold every byte written in that time.
        let written = await withCheckedContinuation { (continuation: CheckedContinuation<Int, Never>) in
            Thread {
                let deadline = ContinuousClock.now + .seconds(3)
                var total = 0
                while ContinuousClock.now < deadline, node.write(chunk) { total += chunk.count }
                continuation.resume(returning: total)
            }.start()
        }
        let peak = try Self.statusField("VmHWM", of: node.processIdentifier)
        let resident = try Self.statusField("VmRSS", of: node.processIdentifier)
        print("bounded input: \(written / 1_000_000) MB written in 3 s; node peak resident \(peak / 1024) MB, now \(resident / 1024) MB")
        #expect(written > 0)
        #expect(peak < 300 * 1024, "peak resident \(peak) kB")
        node.send("nodes")
        _ = try await node.waitFor("nodes", timeout: .seconds(120)) { $0 == "nodes flood" }
        await node.stop()
    }

    /// A `kB` field of `/proc/PID/status`.
    static func statusField(_ field: String, of pid: Int32) throws -> Int {
        let status = try String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)
        guard let line = status.split(separator: "\n").first(where: { $0.hasPrefix(field + ":") }),
            let kilobytes = Int(line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first ?? "")
        else { throw DemoError("no \(field) in /proc/\(pid)/status") }
        return kilobytes
    }
}

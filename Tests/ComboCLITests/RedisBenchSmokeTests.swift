import Foundation
import ComboChildProcess
import Testing

/// Whether `redis-server` is in `PATH`, as the command looks for it.
private func redisServerInstalled() -> Bool {
    (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin").split(separator: ":").contains { directory in
        FileManager.default.isExecutableFile(atPath: "\(directory)/redis-server")
    }
}

/// `combo bench redis` with tiny counts: it starts and stops its own
/// `redis-server`, and prints Combo's figures beside raw hiredis'.
@Suite("combo bench redis", .enabled(if: redisServerInstalled(), "redis-server is not installed"))
struct RedisBenchSmokeTests {
    @Test("prints Redis figures beside raw hiredis, in a table and a JSON document")
    func benchRedis() async throws {
        let (status, output) = try await ComboCLITests.run([
            "bench", "redis", "--messages", "2000", "--runs", "1", "--latency-samples", "100",
        ])
        #expect(status == 0, "\(output)")
        let jsonLine = try #require(output.split(separator: "\n").first { $0.hasPrefix("JSON: ") })
        struct Document: Decodable {
            struct Result: Decodable {
                let name: String
                let value: Double
                let unit: String
            }
            let benchmark: String
            let results: [Result]
        }
        let document = try JSONDecoder().decode(Document.self, from: Data(jsonLine.dropFirst(6).utf8))
        #expect(document.benchmark == "combo bench redis")
        #expect(document.results.count == 7)
        #expect(document.results.allSatisfy { $0.value > 0 })
        let names = document.results.map(\.name)
        #expect(names.contains("redis, node to node"))
        #expect(names.contains("  raw hiredis, PUBLISH to SUBSCRIBE"))
        #expect(names.contains("  raw hiredis, two subscribers"))
        #expect(names.contains("redis publish to receive p99"))
    }

    @Test("with compression, and without the baseline")
    func benchRedisCompressed() async throws {
        let (status, output) = try await ComboCLITests.run([
            "bench", "redis", "--messages", "1000", "--runs", "1", "--latency-samples", "50",
            "--payload-size", "2000", "--compression-level", "6", "--no-baseline",
        ])
        #expect(status == 0, "\(output)")
        #expect(output.contains("redis, node to node"))
        #expect(!output.contains("raw hiredis"))
    }

    @Test("a redis-server that cannot be started fails the command with a message")
    func missingServer() async throws {
        let (status, output) = try await ComboCLITests.run(["bench", "redis", "--redis-server", "/nonexistent/redis-server"])
        #expect(status != 0)
        #expect(output.contains("redis-server"))
    }
}

/// A child process outlives nothing: `combo bench redis` killed with
/// `SIGKILL` (no chance to stop anything) takes its `redis-server` with it.
@Suite(
    "child processes",
    .enabled(if: redisServerInstalled(), "redis-server is not installed"),
    .enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/setpriv"), "setpriv (util-linux) is not installed")
)
struct ChildProcessLifetimeTests {
    @Test("a killed process's children end with it")
    func childrenEndWithKilledParent() async throws {
        let bench = ChildProcess()
        bench.executableURL = ComboCLITests.executable
        // Enough messages that the bench is still running when it is killed.
        bench.arguments = ["bench", "redis", "--messages", "50000000", "--runs", "1"]
        bench.standardInput = FileHandle.nullDevice
        bench.standardOutput = FileHandle.nullDevice
        bench.standardError = FileHandle.nullDevice
        try bench.run()
        let parent = bench.processIdentifier
        defer { bench.signal(SIGKILL) }
        var server: pid_t?
        try await eventually("the bench's redis-server started", timeout: .seconds(30)) {
            server = Self.children(of: parent, named: "redis-server").first
            return server != nil
        }
        let child = try #require(server)
        kill(parent, SIGKILL)
        try await eventually("the redis-server ended with the bench", timeout: .seconds(30)) { !Self.isAlive(child) }
    }

    /// The live processes whose parent is `parent` and whose command is `name`.
    static func children(of parent: pid_t, named name: String) -> [pid_t] {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        return entries.compactMap { entry -> pid_t? in
            guard let pid = pid_t(entry), let stat = Self.stat(pid), stat.parent == parent, stat.command == name,
                stat.state != "Z"
            else { return nil }
            return pid
        }
    }

    /// Whether `pid` runs (a zombie waiting for a parent that does not reap it has ended).
    static func isAlive(_ pid: pid_t) -> Bool {
        guard let stat = stat(pid) else { return false }
        return stat.state != "Z" && stat.state != "X"
    }

    /// The command, state and parent in `/proc/<pid>/stat`.
    static func stat(_ pid: pid_t) -> (command: String, state: Character, parent: pid_t)? {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
            let open = text.firstIndex(of: "("), let close = text.lastIndex(of: ")")
        else { return nil }
        let command = String(text[text.index(after: open)..<close])
        let fields = text[text.index(after: close)...].split(separator: " ")
        guard fields.count > 1, let state = fields[0].first, let parent = pid_t(fields[1]) else { return nil }
        return (command, state, parent)
    }
}

import Foundation
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

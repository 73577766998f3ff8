import Foundation
import Testing
import ComboChildProcess

/// Runs the built `combo` executable as a user would.
@Suite("combo command")
struct ComboCLITests {
    /// The `combo` binary next to the test bundle in the build folder.
    static var executable: URL {
        var directory = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        // On Darwin the test binary sits inside a .xctest bundle.
        while directory.pathExtension == "xctest" || directory.lastPathComponent == "MacOS" || directory.lastPathComponent == "Contents" {
            directory.deleteLastPathComponent()
        }
        return directory.appendingPathComponent("combo")
    }

    /// Runs `combo` with `arguments` and returns its exit status and output.
    ///
    /// The process is waited for on a thread of its own: these commands run
    /// for seconds, and blocking a Swift concurrency thread that long (there
    /// are as many as cores) stalls every other test of the run.
    static func run(_ arguments: [String], environment: [String: String] = [:]) async throws -> (status: Int32, output: String) {
        try await withCheckedThrowingContinuation { continuation in
            Thread {
                continuation.resume(with: Result { try runBlocking(arguments, environment: environment) })
            }.start()
        }
    }

    private static func runBlocking(_ arguments: [String], environment: [String: String]) throws -> (status: Int32, output: String) {
        let process = ChildProcess()
        process.executableURL = executable
        process.arguments = arguments
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        // No standard input: a command that waits for it sees the end at once.
        process.standardInput = FileHandle.nullDevice
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }

    @Test("combo demo runs three mesh processes, shares presence, notices a killed one, and exits 0")
    func demo() async throws {
        let (status, output) = try await Self.run(["demo"])
        #expect(status == 0, "\(output)")
        #expect(output.contains("summary: 3 mesh nodes, 13 checks passed, every process stopped"))
        #expect(output.contains("demo-1 list room:lobby alice@demo-1,bob@demo-2,carol@demo-3"))
        #expect(output.contains("carol's presence left demo-1 and demo-2"))
        #expect(output.contains("demo-3 received room:lobby demo-2 psst"))
        #expect(output.contains("demo-1 noticed: down demo-3"))
    }

    @Test("combo node refuses to start without a cluster secret")
    func nodeNeedsSecret() async throws {
        let (status, output) = try await Self.run(["node", "--name", "lonely"], environment: ["COMBO_SECRET": ""])
        #expect(status != 0)
        #expect(output.contains("a cluster secret is required"))
    }

    @Test("combo bench local prints a table and a JSON document with every case")
    func benchLocal() async throws {
        let (status, output) = try await Self.run([
            "bench", "local", "--deliveries", "2000", "--topics", "500", "--topic-broadcasts", "1000",
            "--memory-subscribers", "500",
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
        #expect(document.benchmark == "combo bench local")
        #expect(document.results.count == 12)
        #expect(document.results.allSatisfy { $0.value > 0 })
        #expect(document.results.contains { $0.name.contains("fan-out to 10000 subscribers") && $0.unit == "deliveries/s" })
    }

    @Test("combo bench mesh prints mesh figures beside raw TCP")
    func benchMesh() async throws {
        let (status, output) = try await Self.run(["bench", "mesh", "--messages", "2000", "--round-trips", "100"])
        #expect(status == 0, "\(output)")
        let jsonLine = try #require(output.split(separator: "\n").first { $0.hasPrefix("JSON: ") })
        struct Document: Decodable {
            struct Result: Decodable {
                let name: String
                let value: Double
            }
            let results: [Result]
        }
        let document = try JSONDecoder().decode(Document.self, from: Data(jsonLine.dropFirst(6).utf8))
        #expect(document.results.map(\.name).contains("mesh, node to node"))
        #expect(document.results.map(\.name).contains("  raw TCP, one connection"))
        #expect(document.results.count == 6)
        #expect(document.results.allSatisfy { $0.value > 0 })
    }

    @Test("an unknown subcommand fails with usage help")
    func unknownCommand() async throws {
        let (status, output) = try await Self.run(["no-such-command"])
        #expect(status != 0)
        #expect(output.lowercased().contains("usage"))
    }
}

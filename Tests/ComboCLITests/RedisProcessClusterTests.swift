@testable import ComboCLI
import Foundation
import Testing

#if canImport(Glibc)
import Glibc
import ComboChildProcess
#endif

/// Clustered tests of `combo node --adapter redis`: separate processes meeting
/// through one `redis-server` that the test starts on a free port and stops.
///
/// Set `COMBO_SKIP_CLUSTERED=1` to skip them.
@Suite("Clustered: Redis nodes as processes", .enabled(if: ClusteredTests.enabled), .serialized)
struct RedisProcessClusterTests {
    /// A port that was free a moment ago (bound to port 0, then released).
    static func freePort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw DemoError("socket() failed") }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { socketAddress in
                bind(fd, socketAddress, length) == 0 && getsockname(fd, socketAddress, &length) == 0
            }
        }
        guard bound else { throw DemoError("bind() failed") }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    /// Starts a `redis-server` on `port` and waits until it answers PING.
    static func startRedis(port: Int) async throws -> ChildProcess {
        let server = ChildProcess()
        server.executableURL = URL(fileURLWithPath: "/usr/bin/redis-server")
        server.arguments = ["--port", "\(port)", "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
        server.standardOutput = FileHandle.nullDevice
        server.standardError = FileHandle.nullDevice
        try server.run()
        let deadline = ContinuousClock.now + .seconds(10)
        while true {
            let ping = ChildProcess()
            ping.executableURL = URL(fileURLWithPath: "/usr/bin/redis-cli")
            ping.arguments = ["-p", "\(port)", "ping"]
            let pipe = Pipe()
            ping.standardOutput = pipe
            ping.standardError = FileHandle.nullDevice
            try ping.run()
            ping.waitUntilExit()
            let answer = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            if answer.contains("PONG") { return server }
            guard ContinuousClock.now < deadline else {
                kill(server.processIdentifier, SIGKILL)
                throw DemoError("redis-server did not answer PING")
            }
            try await Task.sleep(for: .milliseconds(20))
        }
    }

    func start(_ name: String, port: Int, prefix: String) throws -> DemoNodeProcess {
        try DemoNodeProcess(
            executable: ComboCLITests.executable, name: name,
            arguments: ["--adapter", "redis", "--redis-url", "redis://127.0.0.1:\(port)", "--channel-prefix", prefix],
            environment: ProcessInfo.processInfo.environment)
    }

    @Test("two combo node processes exchange broadcasts and direct messages through one Redis")
    func broadcastAndDirect() async throws {
        let port = try Self.freePort()
        let server = try await Self.startRedis(port: port)
        defer {
            kill(server.processIdentifier, SIGKILL)
            server.waitUntilExit()
        }
        let prefix = "clustered-\(UInt64.random(in: 0 ... .max))"
        let first = try start("r1", port: port, prefix: prefix)
        defer { first.kill() }
        let second = try start("r2", port: port, prefix: prefix)
        defer { second.kill() }
        for node in [first, second] {
            let ready = try await node.waitFor("ready") { $0.hasPrefix("ready ") }
            #expect(ready == "ready \(node.name) redis")
            node.send("subscribe news")
            _ = try await node.waitFor("ok subscribe") { $0 == "ok subscribe news" }
        }
        first.send("publish news over redis")
        _ = try await second.waitFor("the broadcast") { $0 == "received news r1 over redis" }
        _ = try await first.waitFor("its own broadcast") { $0 == "received news r1 over redis" }
        second.send("direct r1 news only for r1")
        second.send("publish news after the direct one")
        _ = try await first.waitFor("the direct message") { $0 == "received news r2 only for r1" }
        // r2 sees its own broadcast, never the direct message it sent to r1.
        let own = try await second.waitFor("its broadcast") { $0.hasPrefix("received news r2") }
        #expect(own == "received news r2 after the direct one")
        first.send("nodes")
        let nodes = try await first.waitFor("nodes") { $0.hasPrefix("nodes ") }
        #expect(nodes == "nodes r1")
        await first.stop()
        await second.stop()
    }
}

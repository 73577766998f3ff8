@testable import ComboCLI
import Foundation
import Synchronization
import Testing

#if canImport(Glibc)
import Glibc
import ComboChildProcess
#endif

/// Clustered tests of `combo node --adapter zmq`: separate processes, on the
/// peer topology and through a `combo zmq-proxy` process, with restarts.
///
/// Set `COMBO_SKIP_CLUSTERED=1` to skip them.
@Suite("Clustered: ZeroMQ nodes as processes", .enabled(if: ClusteredTests.enabled), .serialized)
struct ZMQProcessClusterTests {
    /// A `combo zmq-proxy` child process, stopped by its pid.
    final class ProxyProcess: Sendable {
        private let process: ChildProcess
        private let lines = Mutex<[String]>([])

        init(xsub: String, xpub: String) throws {
            let process = ChildProcess()
            process.executableURL = ComboCLITests.executable
            process.arguments = ["zmq-proxy", "--xsub", xsub, "--xpub", xpub, "--log-level", "warning"]
            let output = Pipe()
            process.standardOutput = output
            process.standardError = FileHandle.standardError
            process.standardInput = FileHandle.nullDevice
            self.process = process
            try process.run()
            let reading = output.fileHandleForReading
            // Blocking reads on a thread of their own, never on a Swift concurrency thread.
            Thread { [self] in
                var pending = Data()
                while true {
                    let chunk = reading.availableData
                    if chunk.isEmpty { break }
                    pending.append(chunk)
                    while let newline = pending.firstIndex(of: UInt8(ascii: "\n")) {
                        let line = String(decoding: pending[pending.startIndex..<newline], as: UTF8.self)
                        pending.removeSubrange(pending.startIndex...newline)
                        lines.withLock { $0.append(line) }
                    }
                }
            }.start()
        }

        /// Waits until the proxy prints that it is bound.
        func waitUntilReady() async throws {
            let deadline = ContinuousClock.now + .seconds(10)
            while ContinuousClock.now < deadline {
                if lines.withLock({ $0.contains { $0.hasPrefix("ready ") } }) { return }
                guard process.isRunning else { break }
                try await Task.sleep(for: .milliseconds(10))
            }
            throw DemoError("the proxy did not get ready; it printed \(lines.withLock { $0 })")
        }

        /// SIGKILL, as a crash would; waits for the process to end.
        func kill() {
            if process.isRunning { Foundation.kill(process.processIdentifier, SIGKILL) }
            process.waitUntilExit()
        }

        /// SIGTERM (a graceful stop); kills it if it does not end in time.
        func stop() async -> Int32 {
            if process.isRunning { Foundation.kill(process.processIdentifier, SIGTERM) }
            let deadline = ContinuousClock.now + .seconds(5)
            while process.isRunning && ContinuousClock.now < deadline {
                try? await Task.sleep(for: .milliseconds(10))
            }
            kill()
            return process.terminationStatus
        }
    }

    func node(_ name: String, _ arguments: [String]) throws -> DemoNodeProcess {
        try DemoNodeProcess(
            executable: ComboCLITests.executable, name: name,
            arguments: ["--adapter", "zmq", "--channel-prefix", "clustered"] + arguments,
            environment: ProcessInfo.processInfo.environment)
    }

    /// A loopback endpoint on a port that was free a moment ago, drawn below
    /// Linux's ephemeral range (32768 and up) so that the outgoing connections
    /// of other tests cannot take it before a process binds it, and above the
    /// ZeroMQ adapter tests' range (20000 to 25999), whose nodes bind theirs
    /// in the same run.
    func endpoint() throws -> String {
        for _ in 0..<1000 {
            let port = Int.random(in: 26_000..<32_000)
            let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            guard fd >= 0 else { throw DemoError("socket() failed") }
            defer { close(fd) }
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_addr.s_addr = inet_addr("127.0.0.1")
            address.sin_port = UInt16(port).bigEndian
            let bound = withUnsafeMutablePointer(to: &address) { pointer in
                pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0
                }
            }
            if bound { return "tcp://127.0.0.1:\(port)" }
        }
        throw DemoError("no free port")
    }

    @Test("peers: three processes meet through one; broadcast and direct cross them; the seed restarted mid-stream is rejoined")
    func peers() async throws {
        var nodes: [DemoNodeProcess] = []
        defer { nodes.forEach { $0.kill() } }
        let seed = try endpoint()
        nodes.append(try node("z1", ["--zmq-bind", seed]))
        _ = try await nodes[0].waitFor("ready") { $0 == "ready z1 zmq \(seed)" }
        for name in ["z2", "z3"] {
            let next = try node(name, ["--zmq-peer", seed])
            nodes.append(next)
            _ = try await next.waitFor("ready") { $0.hasPrefix("ready \(name) zmq tcp://127.0.0.1:") }
        }
        // z3 knew only z1: it learns z2 from z1's welcome, and they connect both ways.
        for node in nodes {
            for other in nodes where other !== node {
                _ = try await node.waitFor("up \(other.name)", anywhere: true) { $0.hasPrefix("up \(other.name) ") }
            }
            node.send("subscribe news")
            _ = try await node.waitFor("ok subscribe") { $0 == "ok subscribe news" }
        }
        nodes[0].send("nodes")
        #expect(try await nodes[0].waitFor("nodes") { $0.hasPrefix("nodes ") } == "nodes z1,z2,z3")
        nodes[2].send("publish news from z3")
        for node in nodes {
            _ = try await node.waitFor("z3's broadcast") { $0 == "received news z3 from z3" }
        }
        nodes[0].send("direct z2 news only for z2")
        nodes[0].send("publish news after direct")
        _ = try await nodes[1].waitFor("the direct message") { $0 == "received news z1 only for z2" }
        #expect(try await nodes[2].waitFor("z1's broadcast") { $0.hasPrefix("received news z1") } == "received news z1 after direct")

        // kill -9 the seed while z2 streams; z2 and z3 see it go.
        for index in 0..<20 { nodes[1].send("publish news stream \(index)") }
        let oldSeed = nodes[0]
        oldSeed.kill()
        for node in nodes[1...2] {
            _ = try await node.waitFor("down z1", anywhere: true) { $0.hasPrefix("down z1 ") }
        }
        // Restarted on its endpoint, with no peers of its own: z2 and z3, still subscribed to
        // that endpoint, reconnect and announce themselves again.
        let restarted = try node("z1", ["--zmq-bind", seed])
        nodes[0] = restarted
        _ = try await restarted.waitFor("ready") { $0 == "ready z1 zmq \(seed)" }
        for other in ["z2", "z3"] {
            _ = try await restarted.waitFor("up \(other)", anywhere: true) { $0.hasPrefix("up \(other) ") }
        }
        restarted.send("subscribe news")
        _ = try await restarted.waitFor("ok subscribe") { $0 == "ok subscribe news" }
        nodes[1].send("publish news welcome back")
        _ = try await restarted.waitFor("z2's broadcast") { $0 == "received news z2 welcome back" }
        restarted.send("publish news glad to be back")
        for node in nodes[1...2] {
            _ = try await node.waitFor("the restarted seed's broadcast") { $0 == "received news z1 glad to be back" }
        }
        for node in nodes { await node.stop() }
    }

    @Test("forwarder: two processes through a combo zmq-proxy process; the proxy killed and restarted mid-stream; traffic resumes")
    func forwarder() async throws {
        let (xsub, xpub) = (try endpoint(), try endpoint())
        var proxy = try ProxyProcess(xsub: xsub, xpub: xpub)
        var nodes: [DemoNodeProcess] = []
        defer {
            nodes.forEach { $0.kill() }
            proxy.kill()
        }
        try await proxy.waitUntilReady()
        for name in ["f1", "f2"] {
            let next = try node(name, ["--zmq-topology", "forwarder", "--zmq-xsub", xsub, "--zmq-xpub", xpub])
            nodes.append(next)
            _ = try await next.waitFor("ready") { $0 == "ready \(name) zmq \(xsub)" }
        }
        for node in nodes {
            let other = node === nodes[0] ? "f2" : "f1"
            _ = try await node.waitFor("up \(other)", anywhere: true) { $0 == "up \(other) -" }
            node.send("subscribe news")
            _ = try await node.waitFor("ok subscribe") { $0 == "ok subscribe news" }
        }
        nodes[0].send("publish news through the proxy")
        for node in nodes {
            _ = try await node.waitFor("the broadcast") { $0 == "received news f1 through the proxy" }
        }
        nodes[1].send("direct f1 news only for f1")
        nodes[1].send("publish news after direct")
        _ = try await nodes[0].waitFor("the direct message") { $0 == "received news f2 only for f1" }
        #expect(try await nodes[1].waitFor("its broadcast") { $0.hasPrefix("received news f2") } == "received news f2 after direct")

        // The proxy crashes while f1 streams, and comes back on the same ports.
        for index in 0..<20 { nodes[0].send("publish news stream \(index)") }
        proxy.kill()
        for node in nodes {
            let other = node === nodes[0] ? "f2" : "f1"
            _ = try await node.waitFor("down \(other)", anywhere: true) { $0 == "down \(other) -" }
        }
        proxy = try ProxyProcess(xsub: xsub, xpub: xpub)
        try await proxy.waitUntilReady()
        for node in nodes {
            let other = node === nodes[0] ? "f2" : "f1"
            _ = try await node.waitFor("up \(other) again") { $0 == "up \(other) -" }
        }
        nodes[1].send("publish news after the restart")
        for node in nodes {
            _ = try await node.waitFor("the broadcast after the restart") { $0 == "received news f2 after the restart" }
        }
        for node in nodes { await node.stop() }
        #expect(await proxy.stop() == 0)
    }

    @Test("combo bench zmq prints the adapter's figures beside raw libzmq, on both topologies")
    func bench() async throws {
        for topology in ["peers", "forwarder"] {
            let (status, output) = try await ComboCLITests.run([
                "bench", "zmq", "--messages", "2000", "--latency-messages", "100", "--topology", topology,
            ])
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
            #expect(document.results.map(\.name).contains("zmq adapter, node to node"))
            #expect(document.results.map(\.name).contains("  raw libzmq PUB/SUB"))
            #expect(document.results.count == 6)
            #expect(document.results.allSatisfy { $0.value > 0 })
        }
    }
}

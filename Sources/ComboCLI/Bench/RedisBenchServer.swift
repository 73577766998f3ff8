import Dispatch
import Foundation
import NIOCore
import NIOPosix
import Synchronization
import ComboChildProcess

/// The `redis-server` that `combo bench redis` starts for itself: loopback
/// only, a free port, no persistence. ``stop()`` ends it by its pid; the
/// command calls it on every path, and SIGINT or SIGTERM of the benchmark
/// stop it too, so no server outlives a run.
final class RedisBenchServer: Sendable {
    let port: Int
    private let processID = Atomic<Int32>(0)
    private let exited: Mutex<(done: Bool, waiters: [CheckedContinuation<Void, Never>])>

    /// The server's process id (0 until it is started).
    var pid: Int32 { processID.load(ordering: .acquiring) }

    private init(port: Int) {
        self.port = port
        self.exited = Mutex((false, []))
    }

    /// Starts `executable` (a path, or a name looked up in `PATH`) on a free
    /// port and returns once it answers `PING` as the process we started.
    static func start(executable: String) async throws -> RedisBenchServer {
        let path = try resolve(executable)
        var lastError: any Error = RedisBenchError.serverDidNotStart("no attempt made")
        // Another program can take the free port between our check and the
        // server's bind; the server then exits, and we try another port.
        for _ in 0..<5 {
            let port = try await freePort()
            let process = ChildProcess()
            process.executableURL = URL(fileURLWithPath: path)
            process.arguments = [
                "--port", "\(port)", "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                "--daemonize", "no", "--loglevel", "warning",
            ]
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
            let server = RedisBenchServer(port: port)
            process.terminationHandler = { _ in server.markExited() }
            try process.run()
            server.processID.store(process.processIdentifier, ordering: .releasing)
            Self.running.withLock { _ = $0.insert(server.pid) }
            Self.installSignalHandlers
            do {
                try await server.waitUntilReady()
                return server
            } catch {
                lastError = error
                await server.stop()
            }
        }
        throw lastError
    }

    /// Stops the server by its pid (SIGTERM, then SIGKILL if it has not exited
    /// within two seconds) and waits for it to exit.
    func stop() async {
        defer { Self.running.withLock { _ = $0.remove(pid) } }
        guard !hasExited else { return }
        kill(pid, SIGTERM)
        let deadline = ContinuousClock.now + .seconds(2)
        while !hasExited, ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(10))
        }
        if !hasExited {
            kill(pid, SIGKILL)
            await waitForExit()
        }
    }

    private var hasExited: Bool { exited.withLock { $0.done } }

    private func markExited() {
        let waiters = exited.withLock { state in
            state.done = true
            defer { state.waiters = [] }
            return state.waiters
        }
        for waiter in waiters { waiter.resume() }
    }

    private func waitForExit() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let done = exited.withLock { state in
                if !state.done { state.waiters.append(continuation) }
                return state.done
            }
            if done { continuation.resume() }
        }
    }

    /// The pids of the servers that are running, killed if the benchmark is interrupted.
    private static let running = Mutex<Set<Int32>>([])

    /// The signal sources, kept alive for the life of the process. Written
    /// once, by ``installSignalHandlers``' one-time initialiser.
    nonisolated(unsafe) private static var signalSources: [any DispatchSourceSignal] = []

    /// On SIGINT or SIGTERM, kills the running servers, then exits as the signal would have.
    private static let installSignalHandlers: Void = {
        signalSources = [SIGINT, SIGTERM].map { number in
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler {
                for pid in running.withLock({ $0 }) { kill(pid, SIGKILL) }
                exit(128 + number)
            }
            source.resume()
            return source
        }
    }()

    /// Polls `PING` until the server answers, with a deadline, and checks
    /// that the server answering is the process we started.
    private func waitUntilReady() async throws {
        let deadline = ContinuousClock.now + .seconds(10)
        while ContinuousClock.now < deadline {
            guard !hasExited else { throw RedisBenchError.serverDidNotStart("it exited (port \(port) taken?)") }
            if let context = try? RedisBenchHiredisContext(port: port), (try? context.command(["PING"])) == "PONG" {
                let info = try context.command(["INFO", "server"])
                guard info.contains("process_id:\(pid)\r\n") else {
                    throw RedisBenchError.serverDidNotStart("another server answers on port \(port)")
                }
                return
            }
            try await Task.sleep(for: .milliseconds(20))
        }
        throw RedisBenchError.serverDidNotStart("no answer to PING on port \(port) within 10 s")
    }

    private static func resolve(_ executable: String) throws -> String {
        if executable.contains("/") { return executable }
        let directories = (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin").split(separator: ":")
        for directory in directories {
            let candidate = "\(directory)/\(executable)"
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        throw RedisBenchError.serverDidNotStart("\(executable) is not in PATH (install redis-server)")
    }

    /// A port nobody listens on: bound once to port 0, then released.
    private static func freePort() async throws -> Int {
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .bind(host: "127.0.0.1", port: 0).get()
        let port = channel.localAddress?.port ?? 0
        try await channel.close()
        return port
    }
}

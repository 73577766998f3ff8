@testable import AdapterRedis
import Foundation
import NIOCore
import NIOPosix
import Synchronization
import ComboChildProcess

/// A `redis-server` process of a test's own, on a free loopback port.
///
/// Start it with ``withRedisServer(password:_:)``, which stops it by its pid
/// whatever happens; ``restart()`` starts a new process on the same port.
final class RedisServer: Sendable {
    /// The path of the server binary.
    static let executable = "/usr/bin/redis-server"

    let port: Int
    let password: String?
    /// The running process, and what tells its exit. `Process` is not `Sendable`,
    /// so it is only touched under the lock.
    private let process = Mutex<(process: ChildProcess, exit: ProcessExit)?>(nil)

    private init(port: Int, password: String?) {
        self.port = port
        self.password = password
    }

    /// Starts a server on a free port and waits until it answers `PING`.
    ///
    /// Another program of the machine can take the port between our check
    /// and the server's bind; the server then exits, and we try a new port.
    static func start(password: String? = nil) async throws -> RedisServer {
        var lastError: any Error = TestTimeout(what: "a redis-server to start")
        for _ in 0..<5 {
            let server = RedisServer(port: try await freePort(), password: password)
            do {
                try await server.launch()
                return server
            } catch {
                lastError = error
            }
        }
        throw lastError
    }

    /// The process id of the running server.
    var pid: Int32? { process.withLock { $0?.process.processIdentifier } }

    /// Sends `signal` to the server.
    func signal(_ signal: Int32) {
        if let pid { kill(pid, signal) }
    }

    /// Kills the server with `SIGKILL` and waits for it to exit.
    func killHard() async {
        guard let (pid, exit) = process.withLock({ state in state.map { ($0.process.processIdentifier, $0.exit) } }) else {
            return
        }
        kill(pid, SIGCONT)
        kill(pid, SIGKILL)
        await exit.wait()
        process.withLock { $0 = nil }
    }

    /// Starts a new server process on the same port and waits until it answers `PING`.
    func restart() async throws {
        try await launch()
    }

    /// Stops the server (`SIGKILL`: the data is throw-away) and waits for it to exit.
    func stop() async {
        await killHard()
    }

    deinit {
        // A safety net only: tests stop their server explicitly.
        if let pid {
            kill(pid, SIGCONT)
            kill(pid, SIGKILL)
        }
    }

    private func launch() async throws {
        let newProcess = ChildProcess()
        newProcess.executableURL = URL(fileURLWithPath: Self.executable)
        var arguments = ["--port", "\(port)", "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
        if let password { arguments += ["--requirepass", password] }
        newProcess.arguments = arguments
        newProcess.standardOutput = FileHandle.nullDevice
        newProcess.standardError = FileHandle.nullDevice
        let exit = ProcessExit()
        newProcess.terminationHandler = { _ in exit.signal() }
        try newProcess.run()
        process.withLock { $0 = (newProcess, exit) }
        do {
            try await waitUntilReady()
        } catch {
            await killHard()
            throw error
        }
    }

    /// Polls until the server answers `PING`, with a deadline, and checks that
    /// the server answering is this process (not another one on the port).
    private func waitUntilReady() async throws {
        guard let (pid, exit) = process.withLock({ state in state.map { ($0.process.processIdentifier, $0.exit) } }) else {
            throw TestTimeout(what: "a redis-server process")
        }
        let deadline = ContinuousClock.now + .seconds(10)
        while ContinuousClock.now < deadline {
            guard !exit.hasExited else { throw WrongServer(port: port) }
            // Each attempt has a deadline of its own: whatever else may listen
            // on the port must not hold us until the overall deadline.
            let reply = try? await withDeadline(.seconds(1), "PING") { try await self.command(["PING"]) }
            if reply == .simpleString("PONG") {
                let info = try await withDeadline(.seconds(2), "INFO") { try await self.command(["INFO", "server"]) }
                guard info.string?.contains("process_id:\(pid)\r\n") == true else { throw WrongServer(port: port) }
                return
            }
            try await Task.sleep(for: .milliseconds(20))
        }
        throw TestTimeout(what: "redis-server on port \(port) to answer PING")
    }

    /// Runs one command on a fresh raw connection (authenticated when the server has a password).
    func command(_ arguments: [String]) async throws -> RESPValue {
        try await withConnection { try await $0.command(arguments) }
    }

    /// Runs `body` with a raw, authenticated connection, closed afterwards.
    func withConnection<T: Sendable>(_ body: (RedisConnection) async throws -> T) async throws -> T {
        let connection = try await RedisConnection.connectRaw(host: "127.0.0.1", port: port)
        defer { connection.close() }
        // Closing fails the pending commands, so a cancelled caller never waits for Redis.
        return try await withTaskCancellationHandler {
            if let password {
                _ = try await connection.command(["AUTH", password])
            }
            return try await body(connection)
        } onCancel: {
            connection.close()
        }
    }

    /// `PUBSUB NUMSUB channel`: the number of subscribers of `channel`.
    func subscriberCount(of channel: String) async throws -> Int64 {
        let reply = try await command(["PUBSUB", "NUMSUB", channel])
        guard case .array(let items) = reply, items.count == 2, case .integer(let count) = items[1] else {
            throw UnexpectedReply(reply: "\(reply)")
        }
        return count
    }

    /// The ports handed out in this test process: never handed out twice, so a
    /// server restarted on its port cannot meet another test's server there.
    private static let usedPorts = Mutex<Set<Int>>([])

    /// A port nobody listens on: bound once to port 0, then released.
    private static func freePort() async throws -> Int {
        for _ in 0..<100 {
            let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .bind(host: "127.0.0.1", port: 0).get()
            let port = channel.localAddress?.port ?? 0
            try await channel.close()
            if usedPorts.withLock({ $0.insert(port).inserted }) { return port }
        }
        throw TestTimeout(what: "a free port")
    }
}

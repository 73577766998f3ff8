import CChildProcess
import Foundation
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// A child process started with `posix_spawn`, with the part of Foundation's
/// `Process` interface that the command-line tool and the tests use.
///
/// Foundation's `Process.run()` on Linux (Swift 6.3.1) reads past a directory
/// entry while it lists the parent's open descriptors, and crashes the parent
/// when that entry ends a heap mapping (swift-corelibs-foundation PR #5472,
/// fixed upstream); the tests start dozens of processes and met it. This type
/// closes the child's other descriptors with `closefrom` instead.
///
/// A child ends when this process ends, crash included (see
/// ``terminatesWithParent``), so no server or node outlives the tool or
/// the tests that started it.
///
/// Set the properties, then ``run()``. Standard streams take a `Pipe` (the
/// child's end is used and closed in the parent), a `FileHandle`, or `nil`
/// for the parent's own.
///
/// `@unchecked Sendable`: the configuration is written before ``run()`` by
/// one caller, as with `Process`; the state that changes afterwards (the exit
/// status, the termination handler) is behind a mutex.
public final class ChildProcess: @unchecked Sendable {
    /// How the child ended.
    public enum TerminationReason: Sendable, Equatable {
        /// It called `exit`; the status is its exit code.
        case exit
        /// A signal ended it; the status is the signal's number.
        case uncaughtSignal
    }

    private struct Exit {
        var status: Int32
        var reason: TerminationReason
    }

    /// The program to run.
    public var executableURL: URL?
    /// Its arguments, without the program itself.
    public var arguments: [String]?
    /// Its environment; `nil` for the parent's.
    public var environment: [String: String]?
    /// A `Pipe`, a `FileHandle`, or `nil` for the parent's own.
    public var standardInput: Any?
    /// A `Pipe`, a `FileHandle`, or `nil` for the parent's own.
    public var standardOutput: Any?
    /// A `Pipe`, a `FileHandle`, or `nil` for the parent's own.
    public var standardError: Any?

    private let pidValue = Mutex<pid_t>(0)
    private let exit = Mutex<Exit?>(nil)
    private let handler = Mutex<(@Sendable (ChildProcess) -> Void)?>(nil)

    /// A process to configure, then ``run()``.
    public init() {}

    /// Whether the child is killed (`SIGKILL`) when this process ends, even by
    /// a crash; `true` by default. Children are started from one thread that
    /// lives as long as the process (see `SpawnerThread`) through
    /// util-linux's `setpriv --pdeathsig`; where `setpriv` is missing, the
    /// child is started as is and may outlive this process.
    public var terminatesWithParent = true

    /// Called once, on a thread of its own, when the process has ended.
    public var terminationHandler: (@Sendable (ChildProcess) -> Void)? {
        get { handler.withLock { $0 } }
        set { handler.withLock { $0 = newValue } }
    }

    /// The child's pid; 0 before ``run()``.
    public var processIdentifier: Int32 { pidValue.withLock { $0 } }

    /// Starts the process.
    ///
    /// - Throws: ``ChildProcessError`` when it cannot be started (no such
    ///   program, no permission, too many processes).
    public func run() throws {
        guard let path = executableURL?.path else { throw ChildProcessError(path: "(no executable)", code: ENOENT) }
        let environment = self.environment ?? ProcessInfo.processInfo.environment
        let (program, argv) = try Self.command(path: path, arguments: arguments ?? [], terminatesWithParent: terminatesWithParent)
        let envp = environment.map { "\($0.key)=\($0.value)" }
        let streams = [standardInput, standardOutput, standardError]
        let descriptors = streams.enumerated().map { index, stream in Self.childDescriptor(stream, input: index == 0) }
        let (pid, error) = SpawnerThread.shared.run { () -> (pid_t, Int32) in
            var error: Int32 = 0
            let pid = Self.withCStrings(argv) { argvPointer in
                Self.withCStrings(envp) { envpPointer in
                    combo_spawn(program, argvPointer, envpPointer, descriptors[0], descriptors[1], descriptors[2], &error)
                }
            }
            return (pid, error)
        }
        guard pid > 0 else { throw ChildProcessError(path: path, code: error) }
        pidValue.withLock { $0 = pid }
        // The child has its copies; the parent keeps only its own ends of the pipes.
        for (index, stream) in streams.enumerated() {
            guard let pipe = stream as? Pipe else { continue }
            try? (index == 0 ? pipe.fileHandleForReading : pipe.fileHandleForWriting).close()
        }
        Thread { [self] in
            _ = self.waitUntilExitStatus()
            if let handler = self.handler.withLock({ $0 }) { handler(self) }
        }.start()
    }

    /// Whether the process has started and not yet ended.
    public var isRunning: Bool {
        let pid = processIdentifier
        guard pid > 0 else { return false }
        return reap(pid) == nil
    }

    /// Blocks until the process has ended.
    public func waitUntilExit() {
        _ = waitUntilExitStatus()
    }

    /// The exit code, or the number of the signal that ended it (see
    /// ``terminationReason``); 0 while it runs.
    public var terminationStatus: Int32 { exit.withLock { $0?.status ?? 0 } }

    /// How the process ended; `.exit` while it runs.
    public var terminationReason: TerminationReason { exit.withLock { $0?.reason ?? .exit } }

    /// Sends SIGTERM.
    public func terminate() { signal(SIGTERM) }

    /// Sends `signal` if the process runs.
    public func signal(_ signal: Int32) {
        let pid = processIdentifier
        if pid > 0, isRunning { Glibc.kill(pid, signal) }
    }

    private func waitUntilExitStatus() -> Exit? {
        let pid = processIdentifier
        guard pid > 0 else { return nil }
        while true {
            if let done = reap(pid) { return done }
            // Waits without reaping, so that every waiter wakes; one reaps under the lock.
            var info = siginfo_t()
            if waitid(P_PID, id_t(pid), &info, WEXITED | WNOWAIT) != 0, errno != EINTR {
                return exit.withLock { $0 }
            }
        }
    }

    /// The exit, reaping the child if it has ended.
    private func reap(_ pid: pid_t) -> Exit? {
        exit.withLock { exit in
            if let exit { return exit }
            var status: Int32 = 0
            let result = waitpid(pid, &status, WNOHANG)
            guard result == pid else { return nil }
            let signalNumber = status & 0x7F
            exit =
                signalNumber == 0
                ? Exit(status: (status >> 8) & 0xFF, reason: .exit)
                : Exit(status: signalNumber, reason: .uncaughtSignal)
            return exit
        }
    }

    /// The descriptor the child gets for a stream, -1 for the parent's own.
    private static func childDescriptor(_ stream: Any?, input: Bool) -> Int32 {
        switch stream {
        case let pipe as Pipe: input ? pipe.fileHandleForReading.fileDescriptor : pipe.fileHandleForWriting.fileDescriptor
        // `FileHandle.nullDevice` has no descriptor of its own (-1).
        case let handle as FileHandle: handle.fileDescriptor >= 0 ? handle.fileDescriptor : nullDevice
        default: -1
        }
    }

    /// `/dev/null`, opened once for every child that is given `FileHandle.nullDevice`.
    private static let nullDevice: Int32 = open("/dev/null", O_RDWR | O_CLOEXEC)

    /// Calls `body` with a NULL-terminated array of C strings.
    /// What to start for `path`: the program itself, or, to make it end with
    /// this process, util-linux's `setpriv`, which sets the parent-death
    /// signal and then executes it (the signal outlives `execve`).
    private static func command(
        path: String, arguments: [String], terminatesWithParent: Bool
    ) throws(ChildProcessError) -> (program: String, argv: [String]) {
        guard terminatesWithParent, access(setpriv, X_OK) == 0 else { return (path, [path] + arguments) }
        // setpriv would report a missing program only on its standard error: check first.
        guard access(path, X_OK) == 0 else { throw ChildProcessError(path: path, code: errno) }
        return (setpriv, [setpriv, "--pdeathsig", "KILL", "--", path] + arguments)
    }

    /// util-linux's `setpriv` (Debian's essential `util-linux` package).
    private static let setpriv = "/usr/bin/setpriv"

    private static func withCStrings<R>(_ strings: [String], _ body: ([UnsafeMutablePointer<CChar>?]) -> R) -> R {
        let pointers = strings.map { strdup($0) } + [nil]
        defer { for pointer in pointers { free(pointer) } }
        return body(pointers)
    }
}

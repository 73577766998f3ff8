import ComboChildProcess
import Foundation
import Testing

@Suite("Child processes")
struct ChildProcessTests {
    static func shell(_ script: String) -> ChildProcess {
        let process = ChildProcess()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", script]
        return process
    }

    /// Reads a pipe to its end on a thread of its own.
    static func readToEnd(_ pipe: Pipe) async -> String {
        await withCheckedContinuation { continuation in
            Thread {
                let data = pipe.fileHandleForReading.readDataToEndOfFile()
                continuation.resume(returning: String(decoding: data, as: UTF8.self))
            }.start()
        }
    }

    /// Waits for the process to end on a thread of its own.
    static func exited(_ process: ChildProcess) async {
        await withCheckedContinuation { continuation in
            Thread {
                process.waitUntilExit()
                continuation.resume()
            }.start()
        }
    }

    @Test("output, input, environment and exit status")
    func basics() async throws {
        let process = Self.shell("read line; echo \"$line $GREETING\"; exit 3")
        process.environment = ["GREETING": "world", "PATH": "/usr/bin:/bin"]
        let input = Pipe()
        let output = Pipe()
        process.standardInput = input
        process.standardOutput = output
        try process.run()
        #expect(process.processIdentifier > 0)
        try input.fileHandleForWriting.write(contentsOf: Data("hello\n".utf8))
        try input.fileHandleForWriting.close()
        #expect(await Self.readToEnd(output) == "hello world\n")
        await Self.exited(process)
        #expect(!process.isRunning)
        #expect(process.terminationStatus == 3 && process.terminationReason == .exit)
    }

    @Test("a signal ends it with the signal's number; the termination handler runs once")
    func signals() async throws {
        let process = Self.shell("exec sleep 30")
        process.standardInput = FileHandle.nullDevice
        let ended = AsyncStream<Int32>.makeStream()
        process.terminationHandler = { ended.continuation.yield($0.terminationStatus) }
        try process.run()
        #expect(process.isRunning)
        process.terminate()
        var events = ended.stream.makeAsyncIterator()
        #expect(await events.next() == SIGTERM)
        #expect(process.terminationReason == .uncaughtSignal)
    }

    @Test("a child keeps none of the parent's other descriptors, so each pipe ends with its own child")
    func descriptorsClosed() async throws {
        // Long enough to outlive any test run; ended by the defer.
        let long = Self.shell("exec sleep 3600")
        let longOutput = Pipe()
        long.standardOutput = longOutput
        try long.run()
        defer { long.signal(SIGKILL) }
        // Started while the long one's pipe is open in this process: it must not inherit it.
        let short = Self.shell("echo done")
        let shortOutput = Pipe()
        short.standardOutput = shortOutput
        try short.run()
        #expect(await Self.readToEnd(shortOutput) == "done\n")
        #expect(long.isRunning)
    }

    @Test("a child starts with default signal dispositions, even where the parent ignores SIGPIPE")
    func defaultSignals() async throws {
        // SwiftNIO ignores SIGPIPE in this process (as here, explicitly); a
        // child writing to a closed pipe must still die of it.
        signal(SIGPIPE, SIG_IGN)
        // `yes` fills the pipe and blocks until the read end closes, then writes into a closed pipe.
        let process = Self.shell("exec yes")
        let output = Pipe()
        process.standardOutput = output
        try process.run()
        try output.fileHandleForReading.close()
        await Self.exited(process)
        #expect(process.terminationReason == .uncaughtSignal && process.terminationStatus == SIGPIPE)
    }

    @Test("a program that does not exist fails with its path in the error")
    func missingProgram() {
        let process = ChildProcess()
        process.executableURL = URL(fileURLWithPath: "/nonexistent/program")
        #expect(throws: ChildProcessError(path: "/nonexistent/program", code: ENOENT)) { try process.run() }
        #expect("\(ChildProcessError(path: "/x", code: ENOENT))" == "cannot start /x: No such file or directory")
    }
}

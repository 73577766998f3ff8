import Foundation
import ComboChildProcess

/// One `combo node` child process of the demo: writes commands to its
/// standard input and collects the lines it prints.
final class DemoNodeProcess: Sendable {
    let name: String
    private let process: ChildProcess
    private let input: FileHandle
    private let buffer = DemoLineBuffer()

    init(executable: URL, name: String, arguments: [String], environment: [String: String], launcher: [String] = []) throws {
        self.name = name
        let process = ChildProcess()
        // A launcher (such as `ip netns exec NAME`) execs the node in place, so
        // signals sent to the process still reach the node.
        if let program = launcher.first {
            process.executableURL = URL(fileURLWithPath: program)
            process.arguments = Array(launcher.dropFirst()) + [executable.path, "node", "--name", name] + arguments
        } else {
            process.executableURL = executable
            process.arguments = ["node", "--name", name] + arguments
        }
        process.environment = environment
        let stdinPipe = Pipe()
        let stdoutPipe = Pipe()
        process.standardInput = stdinPipe
        process.standardOutput = stdoutPipe
        // Warnings and errors of the node reach the demo's own standard error.
        process.standardError = FileHandle.standardError
        self.process = process
        self.input = stdinPipe.fileHandleForWriting
        try process.run()
        let output = stdoutPipe.fileHandleForReading
        let buffer = self.buffer
        // A thread of its own: the blocking reads never occupy a Swift concurrency thread.
        let reader = Thread {
            var pending = Data()
            while true {
                let chunk = output.availableData
                if chunk.isEmpty { break }
                pending.append(chunk)
                while let newline = pending.firstIndex(of: UInt8(ascii: "\n")) {
                    let line = String(decoding: pending[pending.startIndex..<newline], as: UTF8.self)
                    pending.removeSubrange(pending.startIndex...newline)
                    buffer.lines.withLock { $0.append(line) }
                }
            }
        }
        reader.start()
    }

    /// Sends one command line.
    func send(_ command: String) {
        try? input.write(contentsOf: Data((command + "\n").utf8))
    }

    /// Writes `bytes` to the node's standard input as they are, blocking while
    /// the pipe is full; `false` once the node no longer reads it.
    func write(_ bytes: Data) -> Bool {
        (try? input.write(contentsOf: bytes)) != nil
    }

    /// Closes the node's standard input: the node sees its end.
    func closeInput() {
        try? input.close()
    }

    /// The process id, for signals and `/proc`.
    var processIdentifier: Int32 { process.processIdentifier }

    /// Waits until the process has ended, polling every 10 ms until
    /// `timeout`; its exit status, or `nil` if it still runs.
    func waitForExit(timeout: Duration = .seconds(30)) async -> Int32? {
        let deadline = ContinuousClock.now + timeout
        while process.isRunning {
            guard ContinuousClock.now < deadline else { return nil }
            try? await Task.sleep(for: .milliseconds(10))
        }
        process.waitUntilExit()
        return process.terminationStatus
    }

    /// Waits for the next line (after those already waited for) that
    /// satisfies `matches`, polling every 10 ms until `timeout` (generous: a
    /// node process can take seconds to start on a busy machine).
    ///
    /// - Parameter anywhere: search every line printed so far, without moving
    ///   past it, for events whose order does not matter.
    func waitFor(
        _ description: String,
        anywhere: Bool = false,
        timeout: Duration = .seconds(30),
        _ matches: (String) -> Bool
    ) async throws -> String {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            let found: String? = buffer.lines.withLock { lines in
                if anywhere { return lines.first(where: matches) }
                return buffer.consumed.withLock { start in
                    guard start < lines.count, let index = lines[start...].firstIndex(where: matches) else { return nil }
                    start = index + 1
                    return lines[index]
                }
            }
            if let found { return found }
            if !process.isRunning { break }
            try await Task.sleep(for: .milliseconds(10))
        }
        throw DemoError("\(name) did not print \(description) within \(timeout); it printed: \(transcript)")
    }

    /// Everything the node printed so far.
    var transcript: [String] { buffer.lines.withLock { $0 } }

    /// Sends a signal to the process, for example SIGSTOP to make it fall silent.
    func signal(_ number: Int32) {
        if process.isRunning { Foundation.kill(process.processIdentifier, number) }
    }

    /// Kills the process at once, as a crash would (SIGKILL).
    func kill() {
        if process.isRunning { Foundation.kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
    }

    /// Asks the node to quit and waits for it; kills it if it does not go.
    func stop() async {
        guard process.isRunning else { return }
        send("quit")
        try? input.close()
        let deadline = ContinuousClock.now + .seconds(5)
        while process.isRunning && ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(10))
        }
        kill()
    }
}

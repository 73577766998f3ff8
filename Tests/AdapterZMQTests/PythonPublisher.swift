import Foundation
import Synchronization
import ComboChildProcess

/// A Python program run by a test: its standard output is collected line by
/// line (on a thread of its own, so blocking reads never hold a Swift
/// concurrency thread), and it is killed by its pid when the test ends.
final class PythonPublisher: Sendable {
    /// Whether `python3` can import pyzmq and msgpack (`make deps` installs them).
    static let isAvailable: Bool = {
        let process = ChildProcess()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-c", "import zmq, msgpack"]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        guard (try? process.run()) != nil else { return false }
        process.waitUntilExit()
        return process.terminationStatus == 0
    }()

    private let process: ChildProcess
    private let input: FileHandle
    private let lines = Mutex<[String]>([])

    /// Runs `script` with `python3`.
    init(script: String) throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("combo-zmq-\(UInt64.random(in: 0 ... .max)).py")
        try script.write(to: file, atomically: true, encoding: .utf8)
        process = ChildProcess()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", file.path]
        let stdinPipe = Pipe()
        let stdoutPipe = Pipe()
        process.standardInput = stdinPipe
        process.standardOutput = stdoutPipe
        process.standardError = FileHandle.standardError
        input = stdinPipe.fileHandleForWriting
        try process.run()
        let output = stdoutPipe.fileHandleForReading
        Thread { [self] in
            var pending = Data()
            while true {
                let chunk = output.availableData
                if chunk.isEmpty { break }
                pending.append(chunk)
                while let newline = pending.firstIndex(of: UInt8(ascii: "\n")) {
                    let line = String(decoding: pending[pending.startIndex..<newline], as: UTF8.self)
                    pending.removeSubrange(pending.startIndex...newline)
                    self.lines.withLock { $0.append(line) }
                }
            }
            try? FileManager.default.removeItem(at: file)
        }.start()
    }

    /// Waits for the first line that satisfies `matches`, polling until `timeout`.
    func waitForLine(_ description: String, timeout: Duration = .seconds(30), _ matches: @escaping @Sendable (String) -> Bool) async throws -> String {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if let line = lines.withLock({ $0.first(where: matches) }) { return line }
            guard process.isRunning else { break }
            try await Task.sleep(for: .milliseconds(10))
        }
        throw TestFailure("python did not print \(description); it printed \(lines.withLock { $0 })")
    }

    /// Ends the program (closing its standard input first) and waits for it; kills it if needed.
    func stop() {
        try? input.close()
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
    }
}

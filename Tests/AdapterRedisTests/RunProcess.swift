import Foundation
import ComboChildProcess

/// Runs a program to its end and returns its standard output; throws when it fails.
@discardableResult
func runProcess(_ executable: String, _ arguments: [String], stdin: URL? = nil) async throws -> String {
    let process = ChildProcess()
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = arguments
    let output = Pipe()
    process.standardOutput = output
    process.standardError = FileHandle.nullDevice
    if let stdin { process.standardInput = try FileHandle(forReadingFrom: stdin) }
    let status = try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Int32, any Error>) in
        process.terminationHandler = { continuation.resume(returning: $0.terminationStatus) }
        do {
            try process.run()
        } catch {
            process.terminationHandler = nil
            continuation.resume(throwing: error)
        }
    }
    let data = output.fileHandleForReading.readDataToEndOfFile()
    guard status == 0 else { throw ProcessFailed(executable: executable, status: status) }
    return String(decoding: data, as: UTF8.self)
}

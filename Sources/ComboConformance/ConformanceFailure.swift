/// A conformance scenario's failed expectation, with the place it was checked.
public struct ConformanceFailure: Error, Sendable, CustomStringConvertible {
    /// What was expected and what happened.
    public let message: String
    /// The suite's source location of the check.
    public let file: String
    /// The line of the check.
    public let line: Int

    init(_ message: String, file: String = #fileID, line: Int = #line) {
        self.message = message
        self.file = file
        self.line = line
    }

    public var description: String { "\(message) (\(file):\(line))" }
}

/// Throws a ``ConformanceFailure`` unless `condition` holds.
func check(
    _ condition: @autoclosure () throws -> Bool,
    _ message: @autoclosure () -> String,
    file: String = #fileID,
    line: Int = #line
) throws {
    guard try condition() else { throw ConformanceFailure(message(), file: file, line: line) }
}

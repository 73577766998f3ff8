/// A program run by a test exited with a failure.
struct ProcessFailed: Error, CustomStringConvertible {
    let executable: String
    let status: Int32
    var description: String { "\(executable) exited with status \(status)" }
}

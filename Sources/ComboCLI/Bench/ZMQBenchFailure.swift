/// A benchmark that could not run.
struct ZMQBenchFailure: Error, CustomStringConvertible {
    let description: String

    init(_ description: String) {
        self.description = description
    }
}

/// A test's own failure: a wait that timed out, a setup that did not work.
struct TestFailure: Error, CustomStringConvertible {
    let description: String

    init(_ description: String) {
        self.description = description
    }
}

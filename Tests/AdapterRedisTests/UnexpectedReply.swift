/// A reply a test did not expect.
struct UnexpectedReply: Error, CustomStringConvertible {
    let reply: String
    var description: String { "unexpected Redis reply \(reply)" }
}

/// Why `combo bench redis` could not measure.
enum RedisBenchError: Error, CustomStringConvertible {
    /// hiredis failed (connecting, writing or reading); carries its message.
    case hiredis(String)
    /// Redis answered a command with something else than expected.
    case unexpectedReply(String)
    /// The benchmark's own `redis-server` did not come up.
    case serverDidNotStart(String)
    /// A run did not complete (for example, nothing arrived within the deadline).
    case incomplete(String)

    var description: String {
        switch self {
        case .hiredis(let message): "hiredis: \(message)"
        case .unexpectedReply(let reply): "unexpected Redis reply: \(reply)"
        case .serverDidNotStart(let reason): "redis-server did not start: \(reason)"
        case .incomplete(let reason): "the run did not complete: \(reason)"
        }
    }
}

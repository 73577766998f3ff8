/// A connection's role in a ``RedisAdapter``: the subscriber, or publisher *n*.
enum RedisConnectionRole: CustomStringConvertible, Sendable {
    case subscriber
    case publisher(Int)

    var name: String {
        switch self {
        case .subscriber: "subscriber"
        case .publisher: "publisher"
        }
    }

    var index: Int {
        switch self {
        case .subscriber: 0
        case .publisher(let index): index
        }
    }

    var description: String {
        switch self {
        case .subscriber: "subscriber"
        case .publisher(let index): "publisher \(index)"
        }
    }
}

/// Why ``Message/decode(_:)`` could not produce the requested type.
public enum MessageDecodingError: Error, Sendable, Hashable, CustomStringConvertible {
    /// A local message holds a value of another type.
    case typeMismatch(expected: String, actual: String)
    /// A remote message's bytes do not decode as the requested type.
    case decodingFailed(codec: String, type: String, reason: String)

    public var description: String {
        switch self {
        case .typeMismatch(let expected, let actual):
            "the message holds a \(actual), not a \(expected)"
        case .decodingFailed(let codec, let type, let reason):
            "the payload does not decode as \(type) with the \(codec) codec: \(reason)"
        }
    }
}

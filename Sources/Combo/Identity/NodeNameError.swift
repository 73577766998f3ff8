/// Why a string is not a valid ``NodeName``.
public enum NodeNameError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The name is empty.
    case empty
    /// The name is longer than ``NodeName/maximumLength`` UTF-8 bytes (the associated value).
    case tooLong(Int)
    /// The name contains a control character.
    case controlCharacter

    public var description: String {
        switch self {
        case .empty: "a node name must not be empty"
        case .tooLong(let length):
            "a node name must be at most \(NodeName.maximumLength) UTF-8 bytes, got \(length)"
        case .controlCharacter: "a node name must not contain control characters"
        }
    }
}

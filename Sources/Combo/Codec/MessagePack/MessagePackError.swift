/// Errors thrown by `MessagePackEncoder` and `MessagePackDecoder`.
///
/// Coding paths are rendered as text such as `items[2].name`; the empty string stands for the
/// top-level value.
public enum MessagePackError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The input ended in the middle of a value, or a declared length runs past the end of the input.
    case truncated
    /// A complete value was decoded but `count` bytes were left over after it.
    case trailingBytes(count: Int)
    /// A byte that MessagePack never uses as a type marker (0xc1) was found where a value should start.
    case invalidTypeByte(UInt8)
    /// The value found has a different MessagePack type than the one the Swift type needs.
    case typeMismatch(expected: String, found: String, codingPath: String)
    /// A keyed container does not contain the requested key.
    case keyNotFound(String, codingPath: String)
    /// A non-optional value was requested but the data holds nil there, or an unkeyed
    /// container has no more elements.
    case valueNotFound(expected: String, codingPath: String)
    /// A number does not fit into the requested Swift numeric type.
    case valueOutOfRange(codingPath: String)
    /// A string (or map key) is not valid UTF-8.
    case invalidUTF8
    /// Values or containers are nested deeper than the configured maximum depth.
    case depthLimitExceeded(Int)
    /// A string, binary, array or map is longer than MessagePack can represent (2^32 - 1).
    case lengthTooLarge(Int)
    /// A map contains the same key twice.
    case duplicateKey(String, codingPath: String)
    /// Encoding failed for another reason, for example an error thrown by a type's `encode(to:)`.
    case encodingFailed(String)
    /// Decoding failed for another reason, for example an error thrown by a type's `init(from:)`.
    case decodingFailed(String)

    public var description: String {
        switch self {
        case .truncated:
            return "MessagePack data is truncated: a value or a declared length runs past the end of the input"
        case .trailingBytes(let count):
            return "MessagePack data has \(count) unexpected trailing byte(s) after the value"
        case .invalidTypeByte(let byte):
            return "invalid MessagePack type byte \(MessagePackFormat.hex(byte))"
        case .typeMismatch(let expected, let found, let codingPath):
            return "type mismatch at \(Self.render(codingPath)): expected \(expected), found \(found)"
        case .keyNotFound(let key, let codingPath):
            return "key '\(key)' not found in the map at \(Self.render(codingPath))"
        case .valueNotFound(let expected, let codingPath):
            return "expected \(expected) at \(Self.render(codingPath)) but found nil or no more elements"
        case .valueOutOfRange(let codingPath):
            return "numeric value at \(Self.render(codingPath)) does not fit into the requested type"
        case .invalidUTF8:
            return "MessagePack string is not valid UTF-8"
        case .depthLimitExceeded(let limit):
            return "nesting depth exceeds the maximum of \(limit)"
        case .lengthTooLarge(let length):
            return "length \(length) is larger than MessagePack can represent (at most 4294967295)"
        case .duplicateKey(let key, let codingPath):
            return "duplicate key '\(key)' in the map at \(Self.render(codingPath))"
        case .encodingFailed(let reason):
            return "MessagePack encoding failed: \(reason)"
        case .decodingFailed(let reason):
            return "MessagePack decoding failed: \(reason)"
        }
    }

    private static func render(_ codingPath: String) -> String {
        codingPath.isEmpty ? "<root>" : "'\(codingPath)'"
    }

    /// Returns the same error with `codingPath` filled in, for the cases that carry one.
    ///
    /// Low-level readers throw with an empty path; containers add the real path only on failure,
    /// so the path is never computed on the success path.
    func withCodingPath(_ path: @autoclosure () -> String) -> MessagePackError {
        switch self {
        case .typeMismatch(let expected, let found, let old) where old.isEmpty:
            return .typeMismatch(expected: expected, found: found, codingPath: path())
        case .valueNotFound(let expected, let old) where old.isEmpty:
            return .valueNotFound(expected: expected, codingPath: path())
        case .valueOutOfRange(let old) where old.isEmpty:
            return .valueOutOfRange(codingPath: path())
        default:
            return self
        }
    }
}

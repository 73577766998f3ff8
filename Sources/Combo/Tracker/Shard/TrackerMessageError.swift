/// Why bytes received on a tracker topic are not a ``TrackerMessage``.
enum TrackerMessageError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The bytes end before the message does.
    case truncated
    /// The first two bytes are not `CT`: not a tracker message at all.
    case badMagic
    /// A message format this node does not speak.
    case unsupportedVersion(UInt8)
    /// An unknown message kind.
    case unknownKind(UInt8)
    /// The sender's node name is empty, too long or not valid text.
    case invalidSender
    /// Bytes are left after the message.
    case trailingBytes(Int)
    /// The state payload inside is malformed.
    case payload(TrackerWireError)
    /// A chunk whose index, count or size is out of bounds.
    case invalidChunk

    /// A short label for metrics.
    var reason: String {
        switch self {
        case .truncated: "truncated"
        case .badMagic: "bad_magic"
        case .unsupportedVersion: "unsupported_version"
        case .unknownKind: "unknown_kind"
        case .invalidSender: "invalid_sender"
        case .trailingBytes: "trailing_bytes"
        case .payload: "malformed_payload"
        case .invalidChunk: "invalid_chunk"
        }
    }

    var description: String {
        switch self {
        case .truncated: "tracker message truncated"
        case .badMagic: "not a tracker message (bad magic)"
        case .unsupportedVersion(let version): "unsupported tracker message version \(version)"
        case .unknownKind(let kind): "unknown tracker message kind \(kind)"
        case .invalidSender: "invalid sender in tracker message"
        case .trailingBytes(let count): "\(count) bytes after the tracker message"
        case .payload(let error): "malformed tracker payload: \(error)"
        case .invalidChunk: "tracker chunk with an index, count or size out of bounds"
        }
    }
}

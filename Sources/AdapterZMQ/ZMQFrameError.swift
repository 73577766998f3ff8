/// Why a message received from a ZeroMQ socket was rejected before its
/// envelope reached the `InboundReceiver` (the envelope's own faults are the
/// receiver's `InboundError`s).
public enum ZMQFrameError: Error, Sendable, Hashable, CustomStringConvertible {
    /// A multipart message: Combo's messages are single frames.
    case multipart(parts: Int)
    /// The frame starts with neither this node's broadcast topic nor its direct topic.
    case unknownTopic
    /// The frame ends inside the header.
    case truncatedHeader
    /// A header version this node does not read.
    case unsupportedVersion(UInt8)
    /// A message kind this node does not know.
    case unknownKind(UInt8)
    /// The sender's name in the header is empty or not a valid node name.
    case invalidSender
    /// A welcome (peer topology) whose body does not parse.
    case malformedWelcome
    /// A hello subscription (peer topology) that does not parse.
    case malformedHello

    /// A short, bounded label for metrics and logs.
    public var reason: String {
        switch self {
        case .multipart: "multipart"
        case .unknownTopic: "unknown_topic"
        case .truncatedHeader: "truncated_header"
        case .unsupportedVersion: "unsupported_version"
        case .unknownKind: "unknown_kind"
        case .invalidSender: "invalid_sender"
        case .malformedWelcome: "malformed_welcome"
        case .malformedHello: "malformed_hello"
        }
    }

    /// A sentence saying what was wrong, for logs.
    public var description: String {
        switch self {
        case .multipart(let parts): "a multipart message of \(parts) parts"
        case .unknownTopic: "a message on an unknown topic"
        case .truncatedHeader: "a message that ends inside its header"
        case .unsupportedVersion(let version): "header version \(version) is not supported"
        case .unknownKind(let kind): "unknown message kind \(kind)"
        case .invalidSender: "the sender's name is not a valid node name"
        case .malformedWelcome: "a malformed welcome"
        case .malformedHello: "a malformed hello subscription"
        }
    }
}

/// Why ``InboundReceiver`` rejected what an adapter received.
public enum InboundError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The bytes are not a valid envelope.
    case malformed(EnvelopeError)
    /// The payload uses a codec this node does not know.
    case unknownCodec(UInt8)
    /// The envelope names a dispatcher this node does not have.
    case unknownDispatcher(String)
    /// A direct envelope for another node.
    case misdirected(target: NodeName)

    /// A short, bounded label for metrics and logs.
    public var reason: String {
        switch self {
        case .malformed(let error):
            switch error {
            case .truncated: "truncated"
            case .badMagic: "bad_magic"
            case .unsupportedVersion: "unsupported_version"
            case .unknownKind: "unknown_kind"
            case .reservedFlags: "reserved_flags"
            case .oversized: "oversized"
            case .invalidUTF8: "invalid_utf8"
            case .invalidNodeName: "invalid_node_name"
            case .targetMismatch: "target_mismatch"
            case .trailingBytes: "trailing_bytes"
            case .fieldTooLong: "field_too_long"
            }
        case .unknownCodec: "unknown_codec"
        case .unknownDispatcher: "unknown_dispatcher"
        case .misdirected: "misdirected"
        }
    }

    public var description: String {
        switch self {
        case .malformed(let error): "malformed envelope: \(error)"
        case .unknownCodec(let id): "unknown payload codec \(id)"
        case .unknownDispatcher(let name): "unknown dispatcher \(name.debugDescription)"
        case .misdirected(let target): "direct envelope for node \(target) arrived here"
        }
    }
}

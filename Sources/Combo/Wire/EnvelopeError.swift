/// Why bytes received from the network are not a valid ``Envelope``.
///
/// Every adapter hands what it receives to ``InboundReceiver``, which rejects
/// malformed input with one of these, logs it and counts it
/// (`combo_decode_failures_total`); the node keeps serving.
public enum EnvelopeError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The input ended inside the named field.
    case truncated(field: String)
    /// The input does not start with the magic bytes `C` `B`.
    case badMagic
    /// The envelope was written by an incompatible wire version.
    case unsupportedVersion(UInt8)
    /// The kind byte names no kind this node knows.
    case unknownKind(UInt8)
    /// Reserved flag bits are set.
    case reservedFlags(UInt8)
    /// The envelope is larger than the receiver accepts.
    case oversized(size: Int, limit: Int)
    /// A text field is not valid UTF-8.
    case invalidUTF8(field: String)
    /// A node name field is not a valid ``NodeName``.
    case invalidNodeName(field: String, reason: NodeNameError)
    /// A direct envelope without a target node, or a broadcast with one.
    case targetMismatch(kind: EnvelopeKind)
    /// Bytes are left after the payload.
    case trailingBytes(Int)
    /// A field is too long for its length prefix (when encoding).
    case fieldTooLong(field: String, length: Int, limit: Int)

    public var description: String {
        switch self {
        case .truncated(let field): "envelope truncated in \(field)"
        case .badMagic: "not a Combo envelope (bad magic bytes)"
        case .unsupportedVersion(let version):
            "unsupported envelope version \(version) (this node speaks \(Envelope.version))"
        case .unknownKind(let kind): "unknown envelope kind \(kind)"
        case .reservedFlags(let flags): "reserved envelope flag bits set (0x\(String(flags, radix: 16)))"
        case .oversized(let size, let limit): "envelope of \(size) bytes exceeds the limit of \(limit)"
        case .invalidUTF8(let field): "envelope field \(field) is not valid UTF-8"
        case .invalidNodeName(let field, let reason): "envelope field \(field) is not a node name: \(reason)"
        case .targetMismatch(let kind):
            kind == .direct ? "direct envelope without a target node" : "\(kind) envelope with a target node"
        case .trailingBytes(let count): "\(count) bytes after the end of the envelope"
        case .fieldTooLong(let field, let length, let limit):
            "\(field) is \(length) bytes, more than the \(limit) the envelope allows"
        }
    }
}

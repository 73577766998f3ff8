/// Why a compressed envelope received from Redis was rejected (see
/// ``CompressedEnvelope`` and `docs/WIRE.md`, "Compressed envelopes").
///
/// The Redis adapter counts each rejection in
/// `combo_redis_decompression_failures_total{pubsub, reason}` with the case's
/// ``reason`` label, logs it at the 1st, 2nd, 4th, 8th… occurrence per
/// reason, drops the frame and keeps serving. Whatever a frame declares or
/// holds, decompression never produces more than the declared length, which
/// is never more than the node's maximum envelope size.
public enum CompressedEnvelopeError: Error, Sendable, Hashable, CustomStringConvertible {
    /// Shorter than the 12-byte frame header.
    case truncatedHeader(length: Int)
    /// The frame version (byte 2) is not 1.
    case unsupportedVersion(UInt8)
    /// The compression method (byte 3) is not 1 (zlib).
    case unknownMethod(UInt8)
    /// The reserved bytes 4 and 5 are not zero.
    case reservedBits(UInt16)
    /// The declared envelope length is over the node's maximum envelope size;
    /// rejected before anything is allocated or inflated.
    case oversized(declared: Int, limit: Int)
    /// The zlib stream inflates to more than the declared length (a
    /// decompression bomb, or a wrong length); inflation stopped at the declared length.
    case inflatesBeyondDeclaredLength(declared: Int)
    /// The zlib stream ended before producing the declared length.
    case lengthMismatch(declared: Int, actual: Int)
    /// The bytes after the header are not one valid zlib stream (bad header,
    /// bad data, wrong Adler-32, or cut short); carries zlib's message.
    case corrupt(String)
    /// Bytes follow the end of the zlib stream.
    case trailingBytes(Int)
    /// The frame's shard (bytes 6 and 7) is not the inflated envelope's.
    case shardMismatch(frame: UInt16, envelope: UInt16)

    /// A short, bounded label for metrics and logs.
    public var reason: String {
        switch self {
        case .truncatedHeader: "truncated_header"
        case .unsupportedVersion: "unsupported_version"
        case .unknownMethod: "unknown_method"
        case .reservedBits: "reserved_bits"
        case .oversized: "oversized"
        case .inflatesBeyondDeclaredLength: "inflates_beyond_length"
        case .lengthMismatch: "length_mismatch"
        case .corrupt: "corrupt"
        case .trailingBytes: "trailing_bytes"
        case .shardMismatch: "shard_mismatch"
        }
    }

    /// A sentence saying what went wrong, for logs.
    public var description: String {
        switch self {
        case .truncatedHeader(let length): "compressed envelope of \(length) bytes is shorter than its 12-byte header"
        case .unsupportedVersion(let version): "unsupported compressed envelope version \(version)"
        case .unknownMethod(let method): "unknown compression method \(method)"
        case .reservedBits(let bits): "reserved bytes of a compressed envelope are not zero (0x\(String(bits, radix: 16)))"
        case .oversized(let declared, let limit): "compressed envelope declares \(declared) bytes, over the \(limit)-byte limit"
        case .inflatesBeyondDeclaredLength(let declared): "compressed envelope inflates beyond its declared \(declared) bytes"
        case .lengthMismatch(let declared, let actual): "compressed envelope inflates to \(actual) bytes, not the declared \(declared)"
        case .corrupt(let message): "compressed envelope is not a valid zlib stream: \(message)"
        case .trailingBytes(let count): "\(count) bytes follow the compressed envelope's zlib stream"
        case .shardMismatch(let frame, let envelope):
            "compressed envelope's frame says shard \(frame) but the envelope inside says \(envelope)"
        }
    }
}

import NIOCore

/// What a ``Message`` carries, in the form it arrived in.
public enum Payload: Sendable {
    /// A value broadcast on this node: delivered as is, never encoded.
    case value(any Sendable)
    /// Bytes that arrived from another node, with the codec that decodes them.
    case encoded(ByteBuffer, codec: any PayloadCodec)
    /// Raw bytes that no codec touches (``RawBytes``).
    case raw(ByteBuffer)
}

extension Payload {
    /// The same kind of payload (raw, or encoded with the same codec) with
    /// `bytes`; a value payload is returned unchanged.
    func withBytes(_ bytes: ByteBuffer) -> Payload {
        switch self {
        case .value: self
        case .encoded(_, let codec): .encoded(bytes, codec: codec)
        case .raw: .raw(bytes)
        }
    }
}

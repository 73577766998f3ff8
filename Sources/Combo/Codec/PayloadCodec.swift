import NIOCore

/// Turns message values into payload bytes and back, for messages that leave the node.
///
/// Local delivery never uses a codec. A remote broadcast is encoded once with the
/// sending ``PubSub``'s codec, whatever the number of nodes and subscribers; the
/// codec's ``id`` travels in the envelope so that the receiving node decodes with
/// the same codec. Every node of a cluster must therefore know every codec in use
/// (``PubSub/Configuration/codec`` and ``PubSub/Configuration/additionalCodecs``).
///
/// Ids 0 to 127 are reserved for Combo (0 raw bytes, 1 JSON, 2 MessagePack);
/// a codec of your own must use 128 to 255.
public protocol PayloadCodec: Sendable {
    /// The codec's id on the wire.
    var id: UInt8 { get }

    /// A short name for logs and errors.
    var name: String { get }

    /// Appends the encoding of `value` to `buffer`.
    func encode<Value: Encodable>(_ value: Value, into buffer: inout ByteBuffer) throws

    /// Decodes one value that spans all readable bytes of `buffer`.
    func decode<Value: Decodable>(_ type: Value.Type, from buffer: ByteBuffer) throws -> Value
}

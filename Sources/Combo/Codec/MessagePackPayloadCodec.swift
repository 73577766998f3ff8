import NIOCore

/// Encodes payloads as MessagePack (codec id 2): compact, fast, and readable
/// by every language's MessagePack library. The default codec.
///
/// Keyed containers become maps with string keys, unkeyed ones arrays, and
/// `[UInt8]` becomes MessagePack `bin`; see `docs/WIRE.md`.
public struct MessagePackPayloadCodec: PayloadCodec {
    /// The wire id of this codec.
    public static let id: UInt8 = 2

    public var id: UInt8 { Self.id }
    public var name: String { "msgpack" }

    /// Creates the codec.
    public init() {}

    public func encode<Value: Encodable>(_ value: Value, into buffer: inout ByteBuffer) throws {
        try MessagePackEncoder().encode(value, into: &buffer)
    }

    public func decode<Value: Decodable>(_ type: Value.Type, from buffer: ByteBuffer) throws -> Value {
        try MessagePackDecoder().decode(type, from: buffer)
    }
}

import Foundation
import NIOCore

/// Encodes payloads as JSON with Foundation's coders (codec id 1).
///
/// Slower than ``MessagePackPayloadCodec`` but readable by anything; handy when
/// programs in other languages publish into the cluster.
public struct JSONPayloadCodec: PayloadCodec {
    /// The wire id of this codec.
    public static let id: UInt8 = 1

    public var id: UInt8 { Self.id }
    public var name: String { "json" }

    /// Creates the codec.
    public init() {}

    public func encode<Value: Encodable>(_ value: Value, into buffer: inout ByteBuffer) throws {
        buffer.writeBytes(try JSONEncoder().encode(value))
    }

    public func decode<Value: Decodable>(_ type: Value.Type, from buffer: ByteBuffer) throws -> Value {
        let data = buffer.withUnsafeReadableBytes { Data($0) }
        return try JSONDecoder().decode(type, from: data)
    }
}

import NIOCore

/// Bytes that Combo carries untouched: never encoded, never decoded.
///
/// Broadcast a `RawBytes` to send an already-serialised payload (a JSON text
/// made by your own serialiser, a protobuf, an image). Receivers read it back with
/// ``Message/bytes`` or ``Message/decode(_:)`` as `RawBytes`. On the wire it
/// travels with codec id 0 (see `docs/WIRE.md`), so programs in other languages
/// can publish and read such payloads directly.
public struct RawBytes: Sendable, Hashable, Codable {
    /// The bytes.
    public var buffer: ByteBuffer

    /// Wraps a buffer.
    public init(_ buffer: ByteBuffer) {
        self.buffer = buffer
    }

    /// Copies bytes into a new buffer.
    public init(_ bytes: some Sequence<UInt8>) {
        self.buffer = ByteBuffer(bytes: bytes)
    }

    /// The bytes as an array.
    public var bytes: [UInt8] { Array(buffer.readableBytesView) }

    // Codable so that `RawBytes` can sit inside other Codable types; on its own
    // it never goes through a codec.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        self.init(try container.decode([UInt8].self))
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(bytes)
    }
}

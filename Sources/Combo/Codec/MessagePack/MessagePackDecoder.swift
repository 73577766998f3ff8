import NIOCore

/// Decodes `Decodable` values from MessagePack (https://github.com/msgpack/msgpack/blob/master/spec.md).
///
/// Built for untrusted input: it never traps on malformed data, checks declared lengths against
/// the bytes actually present before allocating or iterating, limits nesting to `maximumDepth`,
/// validates UTF-8, rejects duplicate map keys, and requires the value to span the whole input.
///
/// Type rules:
/// - Any MessagePack integer format decodes into any Swift integer type that holds the value;
///   otherwise `valueOutOfRange`.
/// - `Double` accepts float64, float32 and integers that it represents exactly. `Float` accepts
///   float32, float64 narrowed to the nearest `Float` (finite values beyond `Float`'s range are
///   `valueOutOfRange`), and exactly representable integers. Floats never decode into integers.
/// - Strings must be str, bytes (`[UInt8]`, `ByteBuffer`, Foundation's `Data`) may be bin (or an
///   array of integers). Map keys may be strings or integers (integers match the coding key
///   with the same decimal `stringValue`, so `[Int: V]` written by other implementations works).
/// - Extension types (including the timestamp extension) are skipped when unused but never
///   decode into a Swift value.
struct MessagePackDecoder: Sendable {
    /// The deepest nesting of values and containers that `decode` accepts.
    let maximumDepth: Int

    init(maximumDepth: Int = 256) {
        self.maximumDepth = maximumDepth
    }

    /// Decodes exactly one value of type `T` from the readable bytes of `buffer`.
    func decode<T: Decodable>(_ type: T.Type, from buffer: ByteBuffer) throws(MessagePackError) -> T {
        try buffer.withUnsafeReadableBytes { (bytes) throws(MessagePackError) -> T in
            let context = MessagePackDecodingContext(bytes: bytes, maximumDepth: maximumDepth)
            // The bytes are only valid inside this closure.
            defer { context.invalidate() }
            let (value, end) = try context.decodeValue(T.self, at: 0, parent: -1, needEnd: true)
            guard end == bytes.count else { throw .trailingBytes(count: bytes.count - end) }
            return value
        }
    }
}

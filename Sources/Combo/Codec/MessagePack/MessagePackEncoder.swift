import NIOCore

/// Encodes `Encodable` values as MessagePack (https://github.com/msgpack/msgpack/blob/master/spec.md).
///
/// - Keyed containers become maps with string keys (the coding keys' `stringValue`s, so `[Int: V]`
///   keys are written as strings), unkeyed containers arrays, `nil` nil.
/// - Integers use the smallest format that holds the value (non-negative values the unsigned
///   formats); `Float` is float32 and `Double` float64, NaN and infinities included (bit patterns
///   are written as they are).
/// - `[UInt8]`, `ByteBuffer` and Foundation's `Data` are bin.
///
/// The value is streamed straight into the buffer: no intermediate tree is built.
struct MessagePackEncoder: Sendable {
    /// The deepest nesting of values and containers that `encode` accepts.
    let maximumDepth: Int

    init(maximumDepth: Int = 256) {
        self.maximumDepth = maximumDepth
    }

    /// Appends the MessagePack representation of `value` to `buffer`.
    ///
    /// On failure the buffer is left as it was (its writer index is restored).
    func encode<T: Encodable>(_ value: T, into buffer: inout ByteBuffer) throws(MessagePackError) {
        // The buffer moves into the context (and back) so that it stays uniquely referenced and
        // writing to it never copies the storage.
        let context = MessagePackEncodingContext(maximumDepth: maximumDepth)
        context.adoptBuffer(&buffer)
        do {
            try context.encodeTopLevel(value)
        } catch {
            context.returnBuffer(&buffer, commit: false)
            throw error
        }
        context.returnBuffer(&buffer, commit: true)
    }
}

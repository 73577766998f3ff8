import NIOCore

/// The origin name and topic of the last envelope one source decoded, with
/// their wire bytes, so the next envelope with the same bytes reuses them
/// instead of making and validating new strings.
///
/// Holds its own copies of the bytes, never slices of a received buffer, so it
/// keeps no read buffer alive.
struct EnvelopeDecodingCache {
    /// The origin's name as its bytes on the wire, and the validated name.
    var origin: (bytes: ByteBuffer, name: NodeName)?
    /// The topic as its bytes on the wire, and the string.
    var topic: (bytes: ByteBuffer, text: String)?
}

import NIOCore

/// A piece of an encoded ``TrackerMessage`` too large for one envelope.
///
/// A shard that holds hundreds of thousands of presences answers a transfer
/// request, or sends a heartbeat after a burst of tracks, in one message
/// larger than the PubSub's `maximumEnvelopeSize` (16 MiB by default, about
/// 300,000 presences). Upstream sends it anyway and the transport refuses or
/// chokes on it; here the sender cuts the encoded message into chunks of at
/// most ``Tracker/maximumChunkSize`` bytes, sent in order on the shard's topic,
/// and every receiver puts them back together (``TrackerReassembly``) before
/// decoding the message. Chunks of one message share an ``id``; a chunk that
/// arrives out of order, or a new message started before the last one
/// finished, drops the unfinished one, which the protocol repairs as it
/// repairs any lost message.
///
/// The wire form (docs/WIRE.md, "Tracker messages"): the message header with
/// kind 5, the sender, then `id` (u64), `index` (u32), `count` (u32), and the
/// bytes with a u32 length.
struct TrackerChunk: Sendable, Equatable {
    /// The most chunks one message may be cut into.
    static let maximumCount = 4096

    /// The replica that sent the message.
    let sender: NodeIdentity
    /// Identifies the message among the sender's chunked messages.
    let id: UInt64
    /// The position of this chunk, from 0.
    let index: Int
    /// How many chunks the message has.
    let count: Int
    /// This chunk's part of the encoded message.
    let bytes: ByteBuffer

    /// Cuts an encoded message into chunks of at most `size` bytes each.
    static func split(_ encoded: ByteBuffer, sender: NodeIdentity, id: UInt64, size: Int) -> [TrackerChunk] {
        precondition(size > 0, "chunk size must be positive")
        let count = max(1, (encoded.readableBytes + size - 1) / size)
        var rest = encoded
        return (0..<count).map { index in
            let bytes = rest.readSlice(length: min(size, rest.readableBytes))!
            return TrackerChunk(sender: sender, id: id, index: index, count: count, bytes: bytes)
        }
    }

    /// The chunk as it travels.
    func encoded(allocator: ByteBufferAllocator = ByteBufferAllocator()) -> ByteBuffer {
        var buffer = allocator.buffer(capacity: 40 + bytes.readableBytes)
        buffer.writeMultipleIntegers(TrackerMessage.magic.0, TrackerMessage.magic.1, TrackerMessage.version)
        buffer.writeInteger(TrackerMessage.chunkKind)
        TrackerMessage.writeSender(sender, into: &buffer)
        buffer.writeMultipleIntegers(id, UInt32(index), UInt32(count), UInt32(bytes.readableBytes))
        buffer.writeImmutableBuffer(bytes)
        return buffer
    }

    /// Whether `buffer` holds a chunk rather than a whole message (by its kind byte).
    static func isChunk(_ buffer: ByteBuffer) -> Bool {
        buffer.getInteger(at: buffer.readerIndex + 3, as: UInt8.self) == TrackerMessage.chunkKind
    }

    /// Reads a chunk; the bytes are a slice of `buffer`.
    ///
    /// - Throws: ``TrackerMessageError`` for anything but a well-formed chunk.
    static func decode(_ buffer: ByteBuffer) throws(TrackerMessageError) -> TrackerChunk {
        var buffer = buffer
        guard let (first, second, version, kind) = buffer.readMultipleIntegers(as: (UInt8, UInt8, UInt8, UInt8).self)
        else { throw .truncated }
        guard (first, second) == TrackerMessage.magic else { throw .badMagic }
        guard version == TrackerMessage.version else { throw .unsupportedVersion(version) }
        guard kind == TrackerMessage.chunkKind else { throw .unknownKind(kind) }
        let sender = try TrackerMessage.readSender(from: &buffer)
        guard let (id, index, count, length) = buffer.readMultipleIntegers(as: (UInt64, UInt32, UInt32, UInt32).self),
            let bytes = buffer.readSlice(length: Int(length))
        else { throw .truncated }
        guard count >= 1, count <= maximumCount, index < count, length > 0 else { throw .invalidChunk }
        guard buffer.readableBytes == 0 else { throw .trailingBytes(buffer.readableBytes) }
        return TrackerChunk(sender: sender, id: id, index: Int(index), count: Int(count), bytes: bytes)
    }
}

import NIOCore

/// The compressed form of an envelope that the Redis adapter publishes when
/// ``Redis/compressionLevel`` is above 0 (`docs/WIRE.md`, "Compressed
/// envelopes", describes it byte by byte):
///
/// ```
/// "C" "Z" | version u8 = 1 | method u8 = 1 (zlib) | reserved u16 = 0 | shard u16
/// envelope length u32 | zlib stream (RFC 1950) of the envelope
/// ```
///
/// Its first two bytes tell it from a plain envelope (`"C" "B"`), so a receiver
/// reads both whatever its own level. The shard sits at offset 6 as in a
/// plain envelope, so a lane is chosen without inflating anything, and the
/// declared length bounds the inflation before it starts.
public enum CompressedEnvelope {
    /// The first two bytes: `"CZ"`.
    public static let magic: (UInt8, UInt8) = (0x43, 0x5A)
    /// The frame version this node reads and writes.
    public static let version: UInt8 = 1
    /// Method 1: one zlib stream (RFC 1950: header, deflate data, Adler-32).
    public static let zlibMethod: UInt8 = 1
    /// The bytes before the zlib stream.
    public static let headerSize = 12

    /// Whether `bytes` starts like a compressed envelope (`"CZ"`), rather
    /// than a plain one (`"CB"`) or anything else.
    public static func isCompressed(_ bytes: ByteBuffer) -> Bool {
        bytes.getInteger(at: bytes.readerIndex, as: UInt16.self) == UInt16(magic.0) << 8 | UInt16(magic.1)
    }

    /// The compressed frame of `envelope` at `level` (1 fastest to 9
    /// smallest), or `nil` when it would not be smaller than the envelope
    /// (then the envelope is sent as it is), when `level` is not 1 to 9, or
    /// when zlib cannot allocate a stream.
    public static func compress(_ envelope: ByteBuffer, level: Int) -> ByteBuffer? {
        guard (1...9).contains(level), let deflater = ZlibDeflater(level: level) else { return nil }
        return compress(envelope, with: deflater, allocator: ByteBufferAllocator())
    }

    /// The envelope inside `frame`, inflated to at most `maximumSize` bytes.
    ///
    /// - Throws: ``CompressedEnvelopeError`` for anything but a well-formed
    ///   frame whose declared length is at most `maximumSize`, whose zlib
    ///   stream inflates to exactly that length, and whose shard is the
    ///   inflated envelope's.
    public static func decompress(_ frame: ByteBuffer, maximumSize: Int) throws(CompressedEnvelopeError) -> ByteBuffer {
        var inflater: ZlibInflater?
        return try decompress(frame, maximumSize: maximumSize, inflater: &inflater, allocator: ByteBufferAllocator())
    }

    /// ``compress(_:level:)`` with a deflater the caller reuses.
    static func compress(_ envelope: ByteBuffer, with deflater: ZlibDeflater, allocator: ByteBufferAllocator) -> ByteBuffer? {
        let length = envelope.readableBytes
        guard length <= UInt32.max else { return nil }
        let shard = envelope.getInteger(at: envelope.readerIndex + 6, as: UInt16.self) ?? 0
        let bound = deflater.bound(length)
        var frame = allocator.buffer(capacity: headerSize + bound)
        frame.writeInteger(magic.0)
        frame.writeInteger(magic.1)
        frame.writeInteger(version)
        frame.writeInteger(zlibMethod)
        frame.writeInteger(UInt16(0))
        frame.writeInteger(shard)
        frame.writeInteger(UInt32(length))
        var compressed: Int?
        frame.writeWithUnsafeMutableBytes(minimumWritableBytes: bound) { output in
            compressed = envelope.withUnsafeReadableBytes { input in
                deflater.compress(input, into: UnsafeMutableRawBufferPointer(rebasing: output.prefix(bound)))
            }
            return compressed ?? 0
        }
        guard let compressed, headerSize + compressed < length else { return nil }
        return frame
    }

    /// ``decompress(_:maximumSize:)`` with an inflater the caller keeps
    /// (made on first use), and the output allocated with `allocator`.
    static func decompress(
        _ frame: ByteBuffer,
        maximumSize: Int,
        inflater: inout ZlibInflater?,
        allocator: ByteBufferAllocator
    ) throws(CompressedEnvelopeError) -> ByteBuffer {
        let start = frame.readerIndex
        guard frame.readableBytes >= headerSize,
            let frameVersion = frame.getInteger(at: start + 2, as: UInt8.self),
            let method = frame.getInteger(at: start + 3, as: UInt8.self),
            let reserved = frame.getInteger(at: start + 4, as: UInt16.self),
            let frameShard = frame.getInteger(at: start + 6, as: UInt16.self),
            let declared = frame.getInteger(at: start + 8, as: UInt32.self).map(Int.init)
        else {
            throw .truncatedHeader(length: frame.readableBytes)
        }
        guard frameVersion == version else { throw .unsupportedVersion(frameVersion) }
        guard method == zlibMethod else { throw .unknownMethod(method) }
        guard reserved == 0 else { throw .reservedBits(reserved) }
        guard declared <= maximumSize else { throw .oversized(declared: declared, limit: maximumSize) }
        if inflater == nil { inflater = ZlibInflater() }
        guard let inflater else { throw .corrupt("zlib could not allocate a stream") }

        // One byte of room past the declared length tells "inflates further" from "ends there".
        let room = declared + 1
        var envelope = allocator.buffer(capacity: room)
        var outcome = ZlibInflater.Outcome.invalid("not inflated")
        envelope.writeWithUnsafeMutableBytes(minimumWritableBytes: room) { output in
            outcome = frame.withUnsafeReadableBytes { bytes in
                inflater.inflate(
                    UnsafeRawBufferPointer(rebasing: bytes.dropFirst(headerSize)),
                    into: UnsafeMutableRawBufferPointer(rebasing: output.prefix(room))
                )
            }
            switch outcome {
            case .complete(let written, _), .stopped(let written): return min(written, declared)
            case .invalid: return 0
            }
        }
        switch outcome {
        case .complete(let written, _) where written > declared, .stopped(let written) where written > declared:
            throw .inflatesBeyondDeclaredLength(declared: declared)
        case .complete(let written, _) where written < declared:
            throw .lengthMismatch(declared: declared, actual: written)
        case .complete(_, let unused) where unused > 0:
            throw .trailingBytes(unused)
        case .complete:
            // The lane was chosen from the frame's shard before inflating: an
            // envelope that says otherwise would be delivered out of order.
            if let envelopeShard = envelope.getInteger(at: envelope.readerIndex + 6, as: UInt16.self),
                envelopeShard != frameShard
            {
                throw .shardMismatch(frame: frameShard, envelope: envelopeShard)
            }
            return envelope
        case .stopped:
            throw .corrupt("the zlib stream is truncated")
        case .invalid(let message):
            throw .corrupt(message)
        }
    }
}

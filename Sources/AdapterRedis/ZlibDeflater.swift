import CZlib

/// One zlib compression stream, reset and reused for each envelope: setting
/// a stream up allocates and clears some 256 KiB, far more work than
/// compressing a small envelope.
///
/// `@unchecked Sendable`: the stream is mutable C state. A ``RedisCompressor``
/// lends each deflater to one caller at a time and never to two at once.
final class ZlibDeflater: @unchecked Sendable {
    private let stream: UnsafeMutablePointer<z_stream>

    /// A stream compressing at `level` (1 fastest to 9 smallest); `nil` when zlib cannot allocate it.
    init?(level: Int) {
        let stream = UnsafeMutablePointer<z_stream>.allocate(capacity: 1)
        stream.initialize(to: z_stream())
        guard deflateInit_(stream, Int32(level), zlibVersion(), Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
            stream.deinitialize(count: 1)
            stream.deallocate()
            return nil
        }
        self.stream = stream
    }

    deinit {
        deflateEnd(stream)
        stream.deinitialize(count: 1)
        stream.deallocate()
    }

    /// The most bytes that compressing `count` bytes can produce.
    func bound(_ count: Int) -> Int {
        Int(deflateBound(stream, uLong(count)))
    }

    /// Compresses all of `input` into `output` as one zlib stream (RFC 1950:
    /// header, deflate data, Adler-32); returns the bytes written, or `nil`
    /// when `output` is too small or zlib fails.
    func compress(_ input: UnsafeRawBufferPointer, into output: UnsafeMutableRawBufferPointer) -> Int? {
        guard deflateReset(stream) == Z_OK else { return nil }
        stream.pointee.next_in = UnsafeMutablePointer(mutating: input.baseAddress?.assumingMemoryBound(to: Bytef.self))
        stream.pointee.avail_in = uInt(input.count)
        stream.pointee.next_out = output.baseAddress?.assumingMemoryBound(to: Bytef.self)
        stream.pointee.avail_out = uInt(output.count)
        let status = deflate(stream, Z_FINISH)
        let written = output.count - Int(stream.pointee.avail_out)
        // zlib keeps the pointers; the buffers they point to are the caller's and about to go.
        stream.pointee.next_in = nil
        stream.pointee.next_out = nil
        return status == Z_STREAM_END ? written : nil
    }
}

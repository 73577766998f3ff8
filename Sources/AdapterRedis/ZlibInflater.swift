import CZlib

/// One zlib decompression stream, reset and reused for each compressed
/// envelope a lane receives.
///
/// Not `Sendable`: the stream is mutable C state, owned by one lane's task.
final class ZlibInflater {
    /// How an inflation ended.
    enum Outcome: Equatable {
        /// The zlib stream ended; `written` bytes were produced and `unused`
        /// input bytes follow the end of the stream.
        case complete(written: Int, unused: Int)
        /// The stream did not end: the output is full, or the input ran out;
        /// `written` bytes were produced.
        case stopped(written: Int)
        /// The input is not a valid zlib stream, or ends before the stream does; carries zlib's message.
        case invalid(String)
    }

    private let stream: UnsafeMutablePointer<z_stream>

    /// A stream expecting the zlib format (RFC 1950); `nil` when zlib cannot allocate it.
    init?() {
        let stream = UnsafeMutablePointer<z_stream>.allocate(capacity: 1)
        stream.initialize(to: z_stream())
        guard inflateInit_(stream, zlibVersion(), Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
            stream.deinitialize(count: 1)
            stream.deallocate()
            return nil
        }
        self.stream = stream
    }

    deinit {
        inflateEnd(stream)
        stream.deinitialize(count: 1)
        stream.deallocate()
    }

    /// Inflates one zlib stream from `input` into `output`, writing at most
    /// `output.count` bytes whatever the input holds: a stream that would
    /// inflate further stops (``Outcome/stopped(written:)``) with `output` full.
    func inflate(_ input: UnsafeRawBufferPointer, into output: UnsafeMutableRawBufferPointer) -> Outcome {
        guard inflateReset(stream) == Z_OK else { return .invalid("zlib could not reset its stream") }
        stream.pointee.next_in = UnsafeMutablePointer(mutating: input.baseAddress?.assumingMemoryBound(to: Bytef.self))
        stream.pointee.avail_in = uInt(input.count)
        stream.pointee.next_out = output.baseAddress?.assumingMemoryBound(to: Bytef.self)
        stream.pointee.avail_out = uInt(output.count)
        let status = CZlib.inflate(stream, Z_FINISH)
        let written = output.count - Int(stream.pointee.avail_out)
        let unused = Int(stream.pointee.avail_in)
        let message = stream.pointee.msg.map { String(cString: $0) }
        stream.pointee.next_in = nil
        stream.pointee.next_out = nil
        switch status {
        case Z_STREAM_END:
            return .complete(written: written, unused: unused)
        case Z_OK, Z_BUF_ERROR:
            return .stopped(written: written)
        case Z_NEED_DICT:
            return .invalid("the zlib stream needs a preset dictionary")
        case Z_MEM_ERROR:
            return .invalid("zlib is out of memory")
        default:
            return .invalid(message ?? "invalid zlib data")
        }
    }
}

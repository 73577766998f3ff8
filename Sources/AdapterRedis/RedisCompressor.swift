import NIOCore
import Synchronization

/// Compresses the envelopes a node publishes, at ``Redis/compressionLevel``,
/// for any number of concurrent broadcasts.
///
/// Broadcasts compress in the calling task, not on an event loop, each with
/// a deflater taken from a small pool and put back afterwards: a zlib stream
/// is expensive to set up and cheap to reset.
final class RedisCompressor: Sendable {
    /// The zlib level, 1 to 9.
    let level: Int
    private let idle = Mutex<[ZlibDeflater]>([])
    private let allocator = ByteBufferAllocator()
    /// The most idle deflaters kept (each holds about 256 KiB).
    private static let poolLimit = 4

    init(level: Int) {
        self.level = level
    }

    /// The compressed frame of `envelope`, or `nil` when compressing would
    /// not make it smaller (or zlib cannot allocate a stream): send it plain.
    func compress(_ envelope: ByteBuffer) -> ByteBuffer? {
        guard let deflater = idle.withLock({ $0.popLast() }) ?? ZlibDeflater(level: level) else { return nil }
        defer {
            idle.withLock { pool in
                if pool.count < Self.poolLimit { pool.append(deflater) }
            }
        }
        return CompressedEnvelope.compress(envelope, with: deflater, allocator: allocator)
    }
}

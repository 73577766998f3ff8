import CZMQ

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A file descriptor that other threads make readable to wake a socket's
/// thread from `poll(2)`: an `eventfd` on Linux, a pipe elsewhere.
///
/// `@unchecked Sendable`: the descriptors are only written (``signal()``, by any
/// thread: `write(2)` is thread-safe) and read and closed by the owning thread.
final class ZMQWakeup: @unchecked Sendable {
    /// The descriptor to poll for reading.
    let fileDescriptor: Int32
    private let writeDescriptor: Int32

    init() throws(ZMQError) {
        #if os(Linux)
        let descriptor = eventfd(0, Int32(EFD_NONBLOCK | EFD_CLOEXEC))
        guard descriptor >= 0 else { throw ZMQError.libzmq(call: "eventfd", errno: errno) }
        fileDescriptor = descriptor
        writeDescriptor = descriptor
        #else
        var descriptors: [Int32] = [0, 0]
        guard pipe(&descriptors) == 0 else { throw ZMQError.libzmq(call: "pipe", errno: errno) }
        for descriptor in descriptors {
            _ = fcntl(descriptor, F_SETFL, fcntl(descriptor, F_GETFL) | O_NONBLOCK)
        }
        fileDescriptor = descriptors[0]
        writeDescriptor = descriptors[1]
        #endif
    }

    deinit {
        close(fileDescriptor)
        if writeDescriptor != fileDescriptor { close(writeDescriptor) }
    }

    /// Makes ``fileDescriptor`` readable (a full pipe or counter is already readable: nothing lost).
    func signal() {
        var one: UInt64 = 1
        _ = withUnsafeBytes(of: &one) { write(writeDescriptor, $0.baseAddress, $0.count) }
    }

    /// Consumes the pending signals; called by the owning thread after it woke.
    func clear() {
        var sink: (UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0)
        while withUnsafeMutableBytes(of: &sink, { read(fileDescriptor, $0.baseAddress, $0.count) }) > 0 {}
    }
}

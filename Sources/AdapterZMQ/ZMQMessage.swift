import CZMQ

/// A `zmq_msg_t` at a stable address, reused for many receives or sends by
/// the one thread that owns it (libzmq's messages must not be moved in memory
/// while in use, so it lives on the heap; not `Sendable` for the same reason
/// as ``ZMQSocket``).
final class ZMQMessage {
    let pointer: UnsafeMutablePointer<zmq_msg_t>

    init() {
        pointer = .allocate(capacity: 1)
        zmq_msg_init(pointer)
    }

    deinit {
        zmq_msg_close(pointer)
        pointer.deallocate()
    }

    /// Replaces the content with `size` uninitialised bytes, to be filled through ``mutableBytes``.
    func reset(size: Int) -> Bool {
        zmq_msg_close(pointer)
        return zmq_msg_init_size(pointer, size) == 0
    }

    /// Drops the content (after a failed send, the message still owns it).
    func clear() {
        zmq_msg_close(pointer)
        zmq_msg_init(pointer)
    }

    var count: Int { zmq_msg_size(pointer) }

    /// Whether more parts of the same multipart message follow this one.
    var hasMore: Bool { zmq_msg_more(pointer) != 0 }

    var bytes: UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(start: zmq_msg_data(pointer), count: zmq_msg_size(pointer))
    }

    var mutableBytes: UnsafeMutableRawBufferPointer {
        UnsafeMutableRawBufferPointer(start: zmq_msg_data(pointer), count: zmq_msg_size(pointer))
    }
}

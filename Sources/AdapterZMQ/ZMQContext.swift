import CZMQ

/// A libzmq context: the sockets of one adapter or proxy, their I/O thread and
/// their `inproc://` namespace (so each adapter has a ZAP endpoint of its own).
///
/// `@unchecked Sendable`: libzmq documents contexts as thread-safe (unlike
/// sockets); this class only holds the handle and calls the context functions.
final class ZMQContext: @unchecked Sendable {
    let handle: UnsafeMutableRawPointer

    init() throws(ZMQError) {
        guard let handle = zmq_ctx_new() else { throw ZMQError.last("zmq_ctx_new") }
        self.handle = handle
        // Termination must not wait for messages still queued: every socket lingers 0 anyway.
        zmq_ctx_set(handle, ZMQ_BLOCKY, 0)
    }

    /// Makes every blocking call on the context's sockets return `ETERM`.
    func shutdown() {
        zmq_ctx_shutdown(handle)
    }

    /// Destroys the context once every socket is closed; blocks until then, so
    /// call it from a thread of its own.
    func terminate() {
        while zmq_ctx_term(handle) != 0 && zmq_errno() == EINTR {}
    }
}

import CZMQ

/// A libzmq socket, used only by the thread that owns it: libzmq sockets are
/// not thread-safe, so this type is deliberately not `Sendable`.
final class ZMQSocket {
    let handle: UnsafeMutableRawPointer
    private var isClosed = false

    init(context: ZMQContext, type: Int32) throws(ZMQError) {
        guard let handle = zmq_socket(context.handle, type) else { throw ZMQError.last("zmq_socket") }
        self.handle = handle
        // Nothing may wait for unsent messages when a socket closes: delivery is at most once.
        try set(ZMQ_LINGER, Int32(0))
    }

    deinit {
        close()
    }

    func set(_ option: Int32, _ value: Int32) throws(ZMQError) {
        var value = value
        guard zmq_setsockopt(handle, option, &value, MemoryLayout<Int32>.size) == 0 else {
            throw ZMQError.last("zmq_setsockopt(\(option))")
        }
    }

    func set(_ option: Int32, _ value: Int64) throws(ZMQError) {
        var value = value
        guard zmq_setsockopt(handle, option, &value, MemoryLayout<Int64>.size) == 0 else {
            throw ZMQError.last("zmq_setsockopt(\(option))")
        }
    }

    func set(_ option: Int32, bytes: [UInt8]) throws(ZMQError) {
        let status = bytes.withUnsafeBytes { zmq_setsockopt(handle, option, $0.baseAddress, $0.count) }
        guard status == 0 else { throw ZMQError.last("zmq_setsockopt(\(option))") }
    }

    /// Sets an integer option that libzmq may not know (a draft option); returns whether it took.
    func trySet(_ option: Int32, _ value: Int32) -> Bool {
        var value = value
        return zmq_setsockopt(handle, option, &value, MemoryLayout<Int32>.size) == 0
    }

    func getInt32(_ option: Int32) -> Int32 {
        var value: Int32 = 0
        var size = MemoryLayout<Int32>.size
        zmq_getsockopt(handle, option, &value, &size)
        return value
    }

    /// The file descriptor that signals (edge-triggered) that ``events`` may have changed.
    var fileDescriptor: Int32 { getInt32(ZMQ_FD) }

    /// `ZMQ_EVENTS`: reading it also processes the socket's pending commands,
    /// which is what re-arms the edge-triggered ``fileDescriptor``.
    var events: Int32 { getInt32(ZMQ_EVENTS) }

    var isReadable: Bool { events & Int32(ZMQ_POLLIN) != 0 }

    /// The endpoint the socket last bound, with the port chosen for a wildcard port.
    var lastEndpoint: String {
        var buffer = [CChar](repeating: 0, count: 1024)
        var size = buffer.count
        zmq_getsockopt(handle, ZMQ_LAST_ENDPOINT, &buffer, &size)
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    func bind(_ endpoint: String) throws(ZMQError) {
        guard zmq_bind(handle, endpoint) == 0 else { throw .bindFailed(endpoint: endpoint, errno: zmq_errno()) }
    }

    func connect(_ endpoint: String) throws(ZMQError) {
        guard zmq_connect(handle, endpoint) == 0 else { throw .connectFailed(endpoint: endpoint, errno: zmq_errno()) }
    }

    func disconnect(_ endpoint: String) {
        zmq_disconnect(handle, endpoint)
    }

    func subscribe(_ prefix: [UInt8]) throws(ZMQError) {
        try set(ZMQ_SUBSCRIBE, bytes: prefix)
    }

    /// Sends one part without waiting; returns false when libzmq refused it.
    @discardableResult
    func send(_ bytes: UnsafeRawBufferPointer, more: Bool = false) -> Bool {
        zmq_send(handle, bytes.baseAddress, bytes.count, ZMQ_DONTWAIT | (more ? ZMQ_SNDMORE : 0)) >= 0
    }

    @discardableResult
    func send(_ bytes: [UInt8], more: Bool = false) -> Bool {
        bytes.withUnsafeBytes { send($0, more: more) }
    }

    /// Sends a prepared message without waiting; on success libzmq owns its content.
    func send(_ message: ZMQMessage, more: Bool = false) -> Bool {
        zmq_msg_send(message.pointer, handle, ZMQ_DONTWAIT | (more ? ZMQ_SNDMORE : 0)) >= 0
    }

    /// Receives one part into `message`; returns false when nothing is waiting
    /// (`EAGAIN`), when interrupted, or when the context is shutting down.
    func receive(into message: ZMQMessage, wait: Bool = false) -> Bool {
        zmq_msg_recv(message.pointer, handle, wait ? 0 : ZMQ_DONTWAIT) >= 0
    }

    func close() {
        guard !isClosed else { return }
        isClosed = true
        zmq_close(handle)
    }
}

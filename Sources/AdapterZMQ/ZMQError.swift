import CZMQ

/// The errors of the ZeroMQ adapter and proxy at run time.
public enum ZMQError: Error, Sendable, Hashable, CustomStringConvertible {
    /// A send while the adapter is not running: the envelope was not sent.
    case notRunning
    /// The queue between the sending tasks and the socket's thread stayed full
    /// (``ZMQ/sendQueueCapacity``): the envelope was not sent.
    case sendQueueFull
    /// A libzmq call failed; carries the call's name and `errno`.
    case libzmq(call: String, errno: Int32)
    /// Binding a socket to an endpoint failed; carries the endpoint and `errno`.
    case bindFailed(endpoint: String, errno: Int32)
    /// Connecting a socket to an endpoint failed (a malformed endpoint); carries it and `errno`.
    case connectFailed(endpoint: String, errno: Int32)
    /// CURVE authentication is configured but the ZAP handler could not be
    /// started: the adapter or proxy refuses to run, because libzmq's CURVE
    /// server without a ZAP handler accepts every client key.
    case authenticationHandlerUnavailable(String)
    /// A thread could not be started; carries `errno`.
    case threadStartFailed(Int32)

    /// A sentence saying what went wrong, for logs.
    public var description: String {
        switch self {
        case .notRunning: "the ZeroMQ adapter is not running"
        case .sendQueueFull: "the ZeroMQ adapter's send queue is full"
        case .libzmq(let call, let errno): "\(call) failed: \(Self.text(errno))"
        case .bindFailed(let endpoint, let errno): "cannot bind \(endpoint): \(Self.text(errno))"
        case .connectFailed(let endpoint, let errno): "cannot connect to \(endpoint): \(Self.text(errno))"
        case .authenticationHandlerUnavailable(let reason):
            "CURVE authentication is configured but the ZAP handler is unavailable (\(reason)); refusing to run"
        case .threadStartFailed(let errno): "cannot start a thread: \(Self.text(errno))"
        }
    }

    static func text(_ errno: Int32) -> String {
        String(cString: zmq_strerror(errno))
    }

    /// The error of the libzmq call that just failed.
    static func last(_ call: String) -> ZMQError {
        .libzmq(call: call, errno: zmq_errno())
    }
}

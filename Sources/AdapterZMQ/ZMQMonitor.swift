import CZMQ
import Logging

/// Socket events (connections, disconnections, handshake failures) of one
/// socket, read by the thread that owns the socket: libzmq publishes them on
/// an inproc PAIR socket that this type connects to.
final class ZMQMonitor {
    /// One event: its `ZMQ_EVENT_…` code, value, and the endpoint concerned.
    struct Event {
        let code: Int32
        let value: UInt32
        let endpoint: String
    }

    let socket: ZMQSocket
    private let message = ZMQMessage()

    /// Starts monitoring `monitored` and connects the reading end.
    init(_ monitored: ZMQSocket, context: ZMQContext, name: String) throws(ZMQError) {
        let endpoint = "inproc://combo-monitor-\(name)"
        // CONNECT_RETRIED tells a connection libzmq will re-establish from
        // one it abandoned (see ZMQSubscriber's forced reconnections).
        let events = ZMQ_EVENT_CONNECTED | ZMQ_EVENT_CONNECT_RETRIED | ZMQ_EVENT_DISCONNECTED | ZMQ_EVENT_ACCEPTED
            | ZMQ_EVENT_HANDSHAKE_SUCCEEDED
            | ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL | ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL | ZMQ_EVENT_HANDSHAKE_FAILED_AUTH
        guard zmq_socket_monitor(monitored.handle, endpoint, events) == 0 else {
            throw ZMQError.last("zmq_socket_monitor")
        }
        socket = try ZMQSocket(context: context, type: ZMQ_PAIR)
        try socket.connect(endpoint)
    }

    /// Reads every pending event.
    func drain(_ handle: (Event) -> Void) {
        while socket.isReadable {
            guard socket.receive(into: message), message.count >= 6 else { continue }
            let header = message.bytes
            let code = Int32(header.loadUnaligned(fromByteOffset: 0, as: UInt16.self))
            let value = header.loadUnaligned(fromByteOffset: 2, as: UInt32.self)
            var endpoint = ""
            if message.hasMore, socket.receive(into: message) {
                endpoint = String(decoding: message.bytes, as: UTF8.self)
            }
            while message.hasMore, socket.receive(into: message) {}
            handle(Event(code: code, value: value, endpoint: endpoint))
        }
    }

    /// Counts and logs an event the way both socket threads do.
    static func record(_ event: Event, socket: String, metrics: ZMQMetrics, logger: Logger) {
        switch event.code {
        case ZMQ_EVENT_HANDSHAKE_SUCCEEDED:
            metrics.count(.connections)
            logger.debug("connection established", metadata: ["socket": "\(socket)", "endpoint": "\(event.endpoint)"])
        case ZMQ_EVENT_DISCONNECTED:
            metrics.count(.disconnections)
            logger.info("connection lost", metadata: ["socket": "\(socket)", "endpoint": "\(event.endpoint)"])
        case ZMQ_EVENT_HANDSHAKE_FAILED_AUTH, ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL, ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL:
            metrics.count(.handshakeFailures)
            logger.warning(
                "handshake failed",
                metadata: ["socket": "\(socket)", "endpoint": "\(event.endpoint)", "code": "\(event.code)", "value": "\(event.value)"]
            )
        default:
            break
        }
    }
}

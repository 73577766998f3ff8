import CZMQ
import Logging

/// The ZAP handler of one context: a thread with a REP socket bound to
/// `inproc://zeromq.zap.01`, where libzmq asks, for every CURVE handshake of
/// the context's server sockets, whether the client's public key may connect.
///
/// libzmq's CURVE server accepts every client key when no handler is bound,
/// so the handler is started, and its binding confirmed, before any server
/// socket binds, and stopped only after they are closed.
final class ZMQAuthenticator: Sendable {
    static let endpoint = "inproc://zeromq.zap.01"
    /// The ZAP domain the guarded sockets use.
    static let domain = "combo"

    private let authorized: Set<[UInt8]>
    private let metrics: ZMQMetrics
    private let logger: Logger
    private let started = ZMQOneShot<ZMQError?>()
    /// Fulfilled when the handler's thread has closed its socket and ended.
    let exited = ZMQOneShot<Void>()

    init(authorizedKeys: Set<ZMQCurveKey>, metrics: ZMQMetrics, logger: Logger) {
        authorized = Set(authorizedKeys.map(\.bytes))
        self.metrics = metrics
        self.logger = logger
    }

    /// Starts the handler and returns once its socket is bound.
    ///
    /// - Throws: ``ZMQError/authenticationHandlerUnavailable(_:)`` when it cannot bind.
    func start(context: ZMQContext) async throws(ZMQError) {
        do {
            try ZMQThread.start(name: "combo-zmq-zap") { [self] in serve(context: context) }
        } catch {
            throw .authenticationHandlerUnavailable("\(error)")
        }
        if let failure = await started.value() {
            await exited.value()
            throw .authenticationHandlerUnavailable("\(failure)")
        }
    }

    private func serve(context: ZMQContext) {
        defer { exited.fulfil(()) }
        let socket: ZMQSocket
        do {
            socket = try ZMQSocket(context: context, type: ZMQ_REP)
            try socket.bind(Self.endpoint)
        } catch {
            started.fulfil(error)
            return
        }
        defer { socket.close() }
        started.fulfil(nil)
        let message = ZMQMessage()
        var denials = 0
        // Blocking receives: the context's shutdown ends them with ETERM.
        while true {
            var frames: [[UInt8]] = []
            repeat {
                guard socket.receive(into: message, wait: true) else {
                    if zmq_errno() == EINTR { continue }
                    return
                }
                if frames.count < 16 { frames.append(Array(message.bytes)) }
            } while message.hasMore
            let reply = answer(frames)
            if reply[2] == Array("400".utf8) {
                denials += 1
                metrics.count(.authenticationFailures)
                if denials & (denials - 1) == 0 {
                    logger.warning(
                        "refused a CURVE client whose key is not authorized",
                        metadata: ["address": "\(String(decoding: frames.count > 3 ? frames[3] : [], as: UTF8.self))",
                                   "occurrences": "\(denials)"]
                    )
                }
            } else if reply[2] == Array("200".utf8) {
                metrics.count(.authenticationSuccesses)
            }
            for (index, frame) in reply.enumerated() {
                socket.send(frame, more: index < reply.count - 1)
            }
        }
    }

    /// The reply to one ZAP request (RFC 27): version, request id, status
    /// code, status text, user id, metadata.
    private func answer(_ frames: [[UInt8]]) -> [[UInt8]] {
        let requestID = frames.count > 1 ? frames[1] : []
        guard frames.count >= 6, frames[0] == Array("1.0".utf8) else {
            return [Array("1.0".utf8), requestID, Array("500".utf8), Array("malformed ZAP request".utf8), [], []]
        }
        guard frames[5] == Array("CURVE".utf8), frames.count >= 7, frames[6].count == 32 else {
            return [Array("1.0".utf8), requestID, Array("400".utf8), Array("CURVE required".utf8), [], []]
        }
        let key = frames[6]
        guard authorized.contains(key) else {
            return [Array("1.0".utf8), requestID, Array("400".utf8), Array("unknown client key".utf8), [], []]
        }
        let user = (try? ZMQCurveKey(bytes: key))?.z85 ?? ""
        return [Array("1.0".utf8), requestID, Array("200".utf8), Array("OK".utf8), Array(user.utf8), []]
    }
}

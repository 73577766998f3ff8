import CZMQ
import Logging
import Metrics
import ServiceLifecycle
import Synchronization

/// The XSUB/XPUB forwarder that the ``ZMQTopology/forwarder(xsub:xpub:)``
/// topology meets through, run by `combo zmq-proxy` (or embedded in a process
/// of your own, as a swift-service-lifecycle `Service`).
///
/// It is libzmq's `zmq_proxy_steerable` on a thread of its own: messages from
/// the XSUB side go to every subscriber whose prefixes match, subscriptions
/// from the XPUB side go to every publisher, so publishers filter at the
/// source. With ``ZMQProxyConfiguration/serverKeys`` both sockets are CURVE
/// servers and a ZAP handler admits only the authorized client keys; the
/// proxy refuses to start if the handler cannot.
public final class ZMQProxy: Service, Sendable {
    /// The proxy's configuration.
    public let configuration: ZMQProxyConfiguration
    private let logger: Logger
    private let metrics: ZMQMetrics
    private let bound = Mutex<ZMQOneShot<(xsub: String, xpub: String)?>>(ZMQOneShot())

    /// A proxy; binds nothing until ``run()``.
    ///
    /// - Throws: ``ZMQConfigurationError`` for an invalid configuration.
    public init(
        configuration: ZMQProxyConfiguration,
        logger: Logger,
        metricsFactory: (any MetricsFactory)? = nil
    ) throws(ZMQConfigurationError) {
        try configuration.validate()
        self.configuration = configuration
        self.logger = logger
        metrics = ZMQMetrics(dimensions: [("proxy", configuration.xsub)], factory: metricsFactory ?? MetricsSystem.factory)
    }

    /// What the proxy has counted (its ZAP handler's decisions).
    public var statistics: ZMQStatistics { metrics.statistics }

    /// The bound endpoints (with the ports chosen for wildcard ports) once the
    /// current run has bound them, or `nil` if it ended without binding.
    public func waitUntilBound() async -> (xsub: String, xpub: String)? {
        await bound.withLock { $0 }.value()
    }

    /// Binds both sockets and forwards until cancelled.
    ///
    /// - Throws: ``ZMQError`` when a socket cannot bind, or the ZAP handler cannot start.
    public func run() async throws {
        let context = try ZMQContext()
        let started = ZMQOneShot<Result<(xsub: String, xpub: String), ZMQError>>()
        let exited = ZMQOneShot<Void>()
        let current = bound.withLock { $0 }
        var authenticator: ZMQAuthenticator?
        var forwarding = false
        defer {
            current.fulfil(nil)
            bound.withLock { $0 = ZMQOneShot() }
        }
        do {
            if configuration.serverKeys != nil {
                let handler = ZMQAuthenticator(authorizedKeys: configuration.authorizedClientKeys, metrics: metrics, logger: logger)
                authenticator = handler
                try await handler.start(context: context)
            }
            let configuration = self.configuration
            let serverKey = configuration.serverKeys?.secretKey
            let logger = self.logger
            try ZMQThread.start(name: "combo-zmq-proxy") {
                defer { exited.fulfil(()) }
                Self.forward(context: context, configuration: configuration, serverKey: serverKey, started: started, logger: logger)
            }
            forwarding = true
            let endpoints = try await started.value().get()
            logger.info("zmq proxy forwarding", metadata: ["xsub": "\(endpoints.xsub)", "xpub": "\(endpoints.xpub)"])
            current.fulfil(endpoints)
            // Cancellation and graceful shutdown (in a ServiceGroup) both stop the proxy.
            await withGracefulShutdownHandler {
                await withTaskCancellationHandler {
                    await exited.value()
                } onCancel: {
                    Self.terminate(context: context)
                }
            } onGracefulShutdown: {
                Self.terminate(context: context)
            }
        } catch {
            // A proxy thread that failed to bind ends by itself.
            if forwarding { await exited.value() }
            context.shutdown()
            if let authenticator { await authenticator.exited.value() }
            _ = try? await ZMQThread.run(name: "combo-zmq-term") { context.terminate() }
            throw error
        }
        context.shutdown()
        if let authenticator { await authenticator.exited.value() }
        _ = try? await ZMQThread.run(name: "combo-zmq-term") { context.terminate() }
        logger.info("zmq proxy stopped")
    }

    static let controlEndpoint = "inproc://combo-proxy-control"

    /// Stops `zmq_proxy_steerable`, which ends on TERMINATE from its control
    /// socket; a socket of the stopping thread's own sends it.
    private static func terminate(context: ZMQContext) {
        try? ZMQThread.start(name: "combo-zmq-stop") {
            guard let control = try? ZMQSocket(context: context, type: ZMQ_PAIR) else { return }
            defer { control.close() }
            guard (try? control.connect(controlEndpoint)) != nil else { return }
            _ = zmq_send(control.handle, "TERMINATE", 9, 0)
        }
    }

    /// The proxy thread: sets up both sockets and the control socket, then
    /// forwards until told to terminate.
    private static func forward(
        context: ZMQContext,
        configuration: ZMQProxyConfiguration,
        serverKey: ZMQCurveKey?,
        started: ZMQOneShot<Result<(xsub: String, xpub: String), ZMQError>>,
        logger: Logger
    ) {
        var sockets: [ZMQSocket] = []
        defer { for socket in sockets { socket.close() } }
        do {
            let xsub = try ZMQSocket(context: context, type: ZMQ_XSUB)
            sockets.append(xsub)
            let xpub = try ZMQSocket(context: context, type: ZMQ_XPUB)
            sockets.append(xpub)
            let control = try ZMQSocket(context: context, type: ZMQ_PAIR)
            sockets.append(control)
            let highWaterMark = Int32(clamping: configuration.highWaterMark)
            for socket in [xsub, xpub] {
                try socket.set(ZMQ_SNDHWM, highWaterMark)
                try socket.set(ZMQ_RCVHWM, highWaterMark)
                try socket.set(ZMQ_HEARTBEAT_IVL, configuration.heartbeatInterval.zmqMilliseconds)
                try socket.set(ZMQ_HEARTBEAT_TIMEOUT, configuration.heartbeatTimeout.zmqMilliseconds)
                try socket.set(ZMQ_HEARTBEAT_TTL, configuration.heartbeatTimeout.zmqMilliseconds)
                if let serverKey { try ZMQSocketOptions.applyCurveServer(secretKey: serverKey, to: socket) }
            }
            try xsub.set(ZMQ_MAXMSGSIZE, Int64(configuration.maximumMessageSize))
            try xpub.set(ZMQ_MAXMSGSIZE, ZMQSocketOptions.maximumSubscriptionSize)
            try control.bind(controlEndpoint)
            try xsub.bind(configuration.xsub)
            try xpub.bind(configuration.xpub)
            started.fulfil(.success((xsub.lastEndpoint, xpub.lastEndpoint)))
            if zmq_proxy_steerable(xsub.handle, xpub.handle, nil, control.handle) != 0, zmq_errno() != ETERM {
                logger.error("zmq proxy ended", metadata: ["error": "\(ZMQError.last("zmq_proxy_steerable"))"])
            }
        } catch {
            started.fulfil(.failure(error))
        }
    }
}

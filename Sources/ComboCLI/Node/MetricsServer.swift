import NIOCore
import NIOHTTP1
import NIOPosix
import Prometheus
import ServiceLifecycle
import Synchronization

/// The HTTP/1.1 endpoint of `combo node --metrics-port`: `GET /metrics`
/// answers the Prometheus text exposition of `registry`, anything else 404.
///
/// Bounded in every direction, since anyone who reaches the port can connect:
///
/// - at most ``maximumConnections`` connections at once; one more is closed
///   as soon as it is accepted (`combo_metrics_rejected_connections_total{reason="limit"}`);
/// - one request per connection, answered with `Connection: close`; a
///   connection that has not sent a complete request head within
///   ``requestTimeout`` is closed (`reason="idle"`);
/// - a request whose bytes exceed ``maximumRequestBytes`` before it is
///   answered gets 431, a request that announces a body 413, and the
///   connection is closed: the server keeps no request body and no more
///   than that many bytes of any request.
///
/// It is a `Service`: ``run()`` serves until graceful shutdown or
/// cancellation, then closes the listening socket.
final class MetricsServer: Service, Sendable {
    static let maximumConnections = 16
    static let maximumRequestBytes = 8_192
    static let requestTimeout = Duration.seconds(10)

    /// Where the server listens, `HOST:PORT`, with the port it was given.
    let address: String
    private let channel: any Channel

    private init(address: String, channel: any Channel) {
        self.address = address
        self.channel = channel
    }

    /// Binds `host:port` (port 0 picks a free port) and starts accepting;
    /// `requestTimeout` is shorter in tests.
    static func start(
        host: String, port: Int, registry: PrometheusCollectorRegistry, metrics: NodeMetrics,
        requestTimeout: Duration = MetricsServer.requestTimeout
    ) async throws -> MetricsServer {
        let open = OpenConnections()
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.backlog, value: 64)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                guard open.enter() else {
                    metrics.rejectedConnection("limit")
                    channel.close(promise: nil)
                    return channel.eventLoop.makeSucceededVoidFuture()
                }
                channel.closeFuture.whenComplete { _ in open.leave() }
                return channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandlers([
                        MetricsConnectionGuard(metrics: metrics, timeoutAfter: TimeAmount(requestTimeout)),
                        HTTPResponseEncoder(),
                        ByteToMessageHandler(HTTPRequestDecoder(leftOverBytesStrategy: .dropBytes)),
                        MetricsHTTPHandler(registry: registry, metrics: metrics),
                    ])
                }
            }
            .bind(host: host, port: port)
            .get()
        let bound = channel.localAddress?.port ?? port
        let shownHost = host.contains(":") ? "[\(host)]" : host
        return MetricsServer(address: "\(shownHost):\(bound)", channel: channel)
    }

    /// Serves until graceful shutdown or cancellation, then stops listening.
    func run() async throws {
        try? await gracefulShutdown()
        try await channel.close()
    }
}

/// How many connections are open, against ``MetricsServer/maximumConnections``.
private final class OpenConnections: Sendable {
    private let count = Atomic(0)

    /// Counts a new connection; `false` (and not counted) when the limit is reached.
    func enter() -> Bool {
        if count.add(1, ordering: .relaxed).newValue <= MetricsServer.maximumConnections { return true }
        count.subtract(1, ordering: .relaxed)
        return false
    }

    func leave() { count.subtract(1, ordering: .relaxed) }
}

/// The first handler of a connection: closes it when it stays without a
/// complete request for ``MetricsServer/requestTimeout``, and answers 431 when
/// its bytes exceed ``MetricsServer/maximumRequestBytes`` before an answer.
private final class MetricsConnectionGuard: ChannelDuplexHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let metrics: NodeMetrics
    private var received = 0
    private var answered = false
    private let requestTimeout: TimeAmount
    private var timeout: Scheduled<Void>?

    init(metrics: NodeMetrics, timeoutAfter requestTimeout: TimeAmount) {
        self.metrics = metrics
        self.requestTimeout = requestTimeout
    }

    func handlerAdded(context: ChannelHandlerContext) {
        timeout = context.eventLoop.assumeIsolated().scheduleTask(in: requestTimeout) {
            guard !self.answered else { return }
            self.answered = true
            self.metrics.rejectedConnection("idle")
            context.close(promise: nil)
        }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        timeout?.cancel()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !answered else { return }
        received += unwrapInboundIn(data).readableBytes
        guard received <= MetricsServer.maximumRequestBytes else {
            answered = true
            timeout?.cancel()
            metrics.request(status: 431)
            let response = "HTTP/1.1 431 Request Header Fields Too Large\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
            context.writeAndFlush(wrapOutboundOut(ByteBuffer(string: response))).assumeIsolated().whenComplete { _ in
                context.close(promise: nil)
            }
            return
        }
        context.fireChannelRead(data)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        // The HTTP handler answers: the request needs no more time or room.
        answered = true
        timeout?.cancel()
        context.write(data, promise: promise)
    }
}

import NIOCore
import NIOHTTP1
import Prometheus

/// Answers the one request of a metrics connection, then closes it:
/// `GET /metrics` (any query) with the registry's text exposition, another
/// path with 404, another method with 405, a request announcing a body with
/// 413, and bytes that are not HTTP/1 with 400.
final class MetricsHTTPHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    /// The content type of Prometheus' text exposition format.
    static let contentType = "text/plain; version=0.0.4; charset=utf-8"

    private let registry: PrometheusCollectorRegistry
    private let metrics: NodeMetrics
    private var answered = false

    init(registry: PrometheusCollectorRegistry, metrics: NodeMetrics) {
        self.registry = registry
        self.metrics = metrics
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard case .head(let head) = unwrapInboundIn(data), !answered else { return }
        let path = head.uri.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
        if head.method != .GET {
            answer(context, .methodNotAllowed, headers: [("allow", "GET")])
        } else if announcesBody(head.headers) {
            answer(context, .payloadTooLarge)
        } else if path != "/metrics" {
            answer(context, .notFound, body: "not found: only /metrics is served\n")
        } else {
            answer(context, .ok, headers: [("content-type", Self.contentType)], body: ByteBuffer(bytes: registry.emitToBuffer()))
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        // The decoder's errors: bytes that are not an HTTP/1 request, or a
        // request cut short by the connection's end (nobody left to answer).
        if answered || !context.channel.isActive {
            context.close(promise: nil)
        } else {
            answer(context, .badRequest)
        }
    }

    private func announcesBody(_ headers: HTTPHeaders) -> Bool {
        if headers.contains(name: "transfer-encoding") { return true }
        return headers["content-length"].contains { $0.filter { $0 != " " && $0 != "\t" } != "0" }
    }

    private func answer(
        _ context: ChannelHandlerContext, _ status: HTTPResponseStatus, headers: [(String, String)] = [], body: String
    ) {
        answer(context, status, headers: headers + [("content-type", "text/plain; charset=utf-8")], body: ByteBuffer(string: body))
    }

    private func answer(
        _ context: ChannelHandlerContext, _ status: HTTPResponseStatus, headers: [(String, String)] = [],
        body: ByteBuffer = ByteBuffer()
    ) {
        answered = true
        metrics.request(status: Int(status.code))
        var fields = HTTPHeaders(headers)
        fields.add(name: "content-length", value: "\(body.readableBytes)")
        fields.add(name: "connection", value: "close")
        context.write(wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: status, headers: fields))), promise: nil)
        if body.readableBytes > 0 { context.write(wrapOutboundOut(.body(.byteBuffer(body))), promise: nil) }
        context.writeAndFlush(wrapOutboundOut(.end(nil))).assumeIsolated().whenComplete { _ in
            context.close(promise: nil)
        }
    }
}

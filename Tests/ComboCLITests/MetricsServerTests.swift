@testable import ComboCLI
import Foundation
import Prometheus
import Testing

/// The metrics endpoint's HTTP handling and bounds, in process, with a
/// registry of its own.
@Suite("metrics endpoint")
struct MetricsServerTests {
    /// Runs a server on a free loopback port with its own registry, in which
    /// one counter `combo_test_total` is 3, and stops it when `body` returns.
    func withServer(
        requestTimeout: Duration = .seconds(10),
        _ body: (_ address: String, _ registry: PrometheusCollectorRegistry) async throws -> Void
    ) async throws {
        let registry = PrometheusCollectorRegistry()
        let factory = PrometheusMetricsFactory(registry: registry)
        factory.makeCounter(label: "combo_test_total", dimensions: [("kind", "a")]).increment(by: 3)
        let server = try await MetricsServer.start(
            host: "127.0.0.1", port: 0, registry: registry, metrics: NodeMetrics(factory: factory),
            requestTimeout: requestTimeout)
        let running = Task { try await server.run() }
        defer { running.cancel() }
        try await body(server.address, registry)
    }

    func counters(_ registry: PrometheusCollectorRegistry) throws -> PrometheusText {
        try PrometheusText(parsing: registry.emitToString())
    }

    @Test("GET /metrics answers the registry's text exposition; other paths 404, other methods 405; each counted")
    func answers() async throws {
        try await withServer { address, registry in
            let scrape = try await HTTPExchange.send(address, "GET /metrics?x=1 HTTP/1.1\r\nhost: a\r\n\r\n")
            #expect(scrape.status == 200)
            #expect(scrape.head.lowercased().contains("content-type: text/plain; version=0.0.4"))
            #expect(try PrometheusText(parsing: scrape.body).value("combo_test_total", ["kind": "a"]) == 3)
            #expect(try await HTTPExchange.send(address, "GET / HTTP/1.1\r\nhost: a\r\n\r\n").status == 404)
            #expect(try await HTTPExchange.send(address, "POST /metrics HTTP/1.1\r\nhost: a\r\n\r\n").status == 405)
            let text = try counters(registry)
            #expect(text.value("combo_metrics_requests_total", ["status": "200"]) == 1)
            #expect(text.value("combo_metrics_requests_total", ["status": "404"]) == 1)
            #expect(text.value("combo_metrics_requests_total", ["status": "405"]) == 1)
        }
    }

    @Test("a request with a body gets 413, one over 8 KiB 431, bytes that are not HTTP 400; the server keeps serving")
    func refusesOversizedAndMalformed() async throws {
        try await withServer { address, registry in
            let body = try await HTTPExchange.send(
                address, "GET /metrics HTTP/1.1\r\nhost: a\r\ncontent-length: 5\r\n\r\nhello")
            #expect(body.status == 413)
            let chunked = try await HTTPExchange.send(
                address, "GET /metrics HTTP/1.1\r\nhost: a\r\ntransfer-encoding: chunked\r\n\r\n0\r\n\r\n")
            #expect(chunked.status == 413)
            let huge = "GET /metrics HTTP/1.1\r\nhost: a\r\nx-padding: \(String(repeating: "p", count: 10_000))\r\n\r\n"
            #expect(try await HTTPExchange.send(address, huge).status == 431)
            let garbage = try await HTTPExchange.send(address, "\u{1}\u{2}garbage that is not http\r\n\r\n")
            #expect(garbage.status == 400)
            #expect(try await HTTPExchange.send(address, "GET /metrics HTTP/1.1\r\nhost: a\r\n\r\n").status == 200)
            let text = try counters(registry)
            #expect(text.value("combo_metrics_requests_total", ["status": "413"]) == 2)
            #expect(text.value("combo_metrics_requests_total", ["status": "431"]) == 1)
            #expect(text.value("combo_metrics_requests_total", ["status": "400"]) == 1)
        }
    }

    @Test("a connection beyond 16 at once is closed unanswered and counted; a connection without a request is closed when idle")
    func boundsConnections() async throws {
        try await withServer(requestTimeout: .seconds(2)) { address, registry in
            // 16 connections that say nothing hold every place.
            var held: [HTTPExchange.Socket] = []
            defer { held.forEach { $0.close() } }
            for _ in 0..<MetricsServer.maximumConnections {
                held.append(try HTTPExchange.Socket(connectingTo: address))
            }
            // The server counts a connection when it accepts it, so the 17th may
            // be accepted before some of the 16: retry until one is refused.
            try await eventually("a refused connection") {
                let extra = try await HTTPExchange.exchange(address, [])
                let refused = try counters(registry).value("combo_metrics_rejected_connections_total", ["reason": "limit"])
                return extra.isEmpty && refused >= 1
            }
            // The idle ones are closed after the request timeout: reading them ends.
            for socket in held {
                #expect(try await Self.readToEnd(socket).isEmpty)
            }
            try await eventually("the idle connections counted") {
                let idle = try counters(registry).value("combo_metrics_rejected_connections_total", ["reason": "idle"])
                return idle >= Double(MetricsServer.maximumConnections)
            }
            #expect(try await HTTPExchange.send(address, "GET /metrics HTTP/1.1\r\nhost: a\r\n\r\n").status == 200)
        }
    }

    static func readToEnd(_ socket: HTTPExchange.Socket) async throws -> [UInt8] {
        try await withCheckedThrowingContinuation { continuation in
            Thread { continuation.resume(with: Result { try socket.readToEnd() }) }.start()
        }
    }
}

/// docs/METRICS.md against the sources: every metric name made anywhere in
/// `Sources/` is documented, whether or not a test run makes it appear.
@Suite("docs/METRICS.md")
struct MetricsDocumentationTests {
    @Test("every metric name in the sources' metrics files and metric labels is in docs/METRICS.md")
    func everyNameDocumented() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        let document = try String(contentsOf: root.appendingPathComponent("docs/METRICS.md"), encoding: .utf8)
        let sources = root.appendingPathComponent("Sources")
        let files = try #require(FileManager.default.enumerator(at: sources, includingPropertiesForKeys: nil))
        let name = try Regex(#""(combo_[a-z0-9_]+)""#)
        var found: Set<String> = []
        for case let file as URL in files where file.pathExtension == "swift" {
            let text = try String(contentsOf: file, encoding: .utf8)
            let metricsFile = file.lastPathComponent.hasSuffix("Metrics.swift")
            for line in text.split(separator: "\n") where metricsFile || line.contains("label:") {
                for match in line.matches(of: name) {
                    found.insert(String(line[match.range].dropFirst().dropLast()))
                }
            }
        }
        // The core's, the tracker's, each adapter's and the node's own.
        #expect(found.count >= 45, "the scan found only \(found.sorted())")
        let missing = found.filter { !document.contains("`\($0)`") }.sorted()
        #expect(missing.isEmpty, "metrics missing from docs/METRICS.md: \(missing)")
    }
}

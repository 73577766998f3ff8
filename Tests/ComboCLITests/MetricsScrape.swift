@testable import ComboCLI
import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// Reads a `combo node --metrics-port` endpoint: an HTTP exchange over a plain
/// socket, and a parser of the Prometheus text exposition it answers.
enum MetricsScrape {
    /// The `HOST:PORT` of a node's `metrics` line, once it printed it.
    static func address(of node: DemoNodeProcess) async throws -> String {
        let line = try await node.waitFor("metrics", anywhere: true) { $0.hasPrefix("metrics ") }
        return String(line.dropFirst("metrics ".count))
    }

    /// `GET /metrics`, parsed; throws unless the answer is 200.
    static func scrape(_ address: String) async throws -> PrometheusText {
        let response = try await HTTPExchange.send(address, "GET /metrics HTTP/1.1\r\nhost: combo\r\n\r\n")
        guard response.status == 200 else { throw DemoError("GET /metrics answered \(response.status): \(response.body)") }
        return try PrometheusText(parsing: response.body)
    }

    /// Scrapes until `condition` holds of what the endpoint shows, polling
    /// every 50 ms until `timeout`; returns the scrape that satisfied it.
    @discardableResult
    static func waitUntil(
        _ address: String, _ description: String, timeout: Duration = .seconds(30),
        _ condition: (PrometheusText) -> Bool
    ) async throws -> PrometheusText {
        let deadline = ContinuousClock.now + timeout
        var last: PrometheusText?
        while ContinuousClock.now < deadline {
            let text = try await scrape(address)
            if condition(text) { return text }
            last = text
            try await Task.sleep(for: .milliseconds(50))
        }
        throw DemoError("the endpoint did not show \(description) within \(timeout); last scrape: \(last?.source ?? "none")")
    }

    /// The metric families an endpoint shows that docs/METRICS.md does not name
    /// (in backquotes, as the document writes every metric name).
    static func undocumentedFamilies(in text: PrometheusText) throws -> [String] {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        let document = try String(contentsOf: root.appendingPathComponent("docs/METRICS.md"), encoding: .utf8)
        return text.families.keys.filter { !document.contains("`\($0)`") }.sorted()
    }
}

/// A metric page in Prometheus' text exposition format.
struct PrometheusText {
    /// One sample line: `name{label="value",...} value`.
    struct Sample: Equatable {
        let name: String
        let labels: [String: String]
        let value: Double
    }

    let samples: [Sample]
    /// Family name to type, from the `# TYPE` lines.
    let families: [String: String]
    /// The text as it was scraped, for failure messages.
    let source: String

    init(parsing text: String) throws {
        var samples: [Sample] = []
        var families: [String: String] = [:]
        for line in text.split(separator: "\n", omittingEmptySubsequences: true) {
            if line.hasPrefix("# TYPE ") {
                let words = line.split(separator: " ")
                guard words.count == 4 else { throw DemoError("bad TYPE line: \(line)") }
                families[String(words[2])] = String(words[3])
                continue
            }
            if line.hasPrefix("#") { continue }
            samples.append(try Self.sample(Substring(line)))
        }
        self.samples = samples
        self.families = families
        self.source = text
    }

    /// The sum of the samples named `name` whose labels include `labels`; 0 when none.
    func value(_ name: String, _ labels: [String: String] = [:]) -> Double {
        samples.filter { sample in
            sample.name == name && labels.allSatisfy { sample.labels[$0.key] == $0.value }
        }.reduce(0) { $0 + $1.value }
    }

    /// Every value the label `label` takes among the samples named `name`.
    func labelValues(_ name: String, _ label: String) -> Set<String> {
        Set(samples.filter { $0.name == name }.compactMap { $0.labels[label] })
    }

    private static func sample(_ line: Substring) throws -> Sample {
        var rest = line[...]
        let nameEnd = rest.firstIndex { $0 == "{" || $0 == " " } ?? rest.endIndex
        let name = String(rest[..<nameEnd])
        rest = rest[nameEnd...]
        var labels: [String: String] = [:]
        if rest.first == "{" {
            rest = rest.dropFirst()
            while rest.first != "}" {
                guard let equals = rest.firstIndex(of: "="), rest[rest.index(after: equals)] == "\"" else {
                    throw DemoError("bad labels in \(line)")
                }
                let label = String(rest[..<equals])
                rest = rest[rest.index(equals, offsetBy: 2)...]
                var value = ""
                while let character = rest.first, character != "\"" {
                    rest = rest.dropFirst()
                    if character == "\\", let escaped = rest.first {
                        rest = rest.dropFirst()
                        value.append(escaped == "n" ? "\n" : escaped)
                    } else {
                        value.append(character)
                    }
                }
                guard rest.first == "\"" else { throw DemoError("unterminated label value in \(line)") }
                rest = rest.dropFirst()
                labels[label] = value
                if rest.first == "," { rest = rest.dropFirst() }
                guard !rest.isEmpty else { throw DemoError("unterminated labels in \(line)") }
            }
            rest = rest.dropFirst()
        }
        let fields = rest.split(separator: " ")
        guard let first = fields.first, let value = Double(first) ?? Self.special(first) else {
            throw DemoError("bad value in \(line)")
        }
        return Sample(name: name, labels: labels, value: value)
    }

    private static func special(_ text: Substring) -> Double? {
        switch text {
        case "+Inf": .infinity
        case "-Inf": -.infinity
        case "NaN": .nan
        default: nil
        }
    }
}

/// One HTTP/1.1 exchange over a plain loopback socket, on a thread of its own
/// so that the blocking calls never occupy a Swift concurrency thread.
enum HTTPExchange {
    struct Response {
        /// The status code, or 0 when the server closed without answering.
        let status: Int
        let head: String
        let body: String
    }

    /// Sends `request` to `address` (`HOST:PORT`) and reads until the server
    /// closes the connection (the endpoint answers with `Connection: close`).
    static func send(_ address: String, _ request: String, timeout: Duration = .seconds(10)) async throws -> Response {
        let bytes = try await exchange(address, Array(request.utf8), timeout: timeout)
        let text = String(decoding: bytes, as: UTF8.self)
        guard let split = text.range(of: "\r\n\r\n") else { return Response(status: 0, head: text, body: "") }
        let head = String(text[..<split.lowerBound])
        let status = head.split(separator: " ").dropFirst().first.flatMap { Int($0) } ?? 0
        return Response(status: status, head: head, body: String(text[split.upperBound...]))
    }

    /// Sends `bytes` and returns everything read until the server closes.
    static func exchange(_ address: String, _ bytes: [UInt8], timeout: Duration = .seconds(10)) async throws -> [UInt8] {
        let socket = try Socket(connectingTo: address, timeout: timeout)
        return try await withCheckedThrowingContinuation { continuation in
            Thread {
                continuation.resume(with: Result {
                    defer { socket.close() }
                    try socket.write(bytes)
                    return try socket.readToEnd()
                })
            }.start()
        }
    }

    /// A connected TCP socket with send and receive timeouts.
    struct Socket: Sendable {
        let descriptor: Int32

        init(connectingTo address: String, timeout: Duration = .seconds(10)) throws {
            guard let colon = address.lastIndex(of: ":"), let port = UInt16(address[address.index(after: colon)...]) else {
                throw DemoError("not HOST:PORT: \(address)")
            }
            let host = String(address[..<colon])
            descriptor = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            guard descriptor >= 0 else { throw DemoError("socket() failed") }
            var wait = timeval(tv_sec: Int(timeout.components.seconds), tv_usec: 0)
            setsockopt(descriptor, SOL_SOCKET, SO_RCVTIMEO, &wait, socklen_t(MemoryLayout<timeval>.size))
            setsockopt(descriptor, SOL_SOCKET, SO_SNDTIMEO, &wait, socklen_t(MemoryLayout<timeval>.size))
            var socketAddress = sockaddr_in()
            socketAddress.sin_family = sa_family_t(AF_INET)
            socketAddress.sin_addr.s_addr = inet_addr(host)
            socketAddress.sin_port = port.bigEndian
            let connected = withUnsafePointer(to: &socketAddress) { pointer in
                pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0
                }
            }
            guard connected else {
                Glibc.close(descriptor)
                throw DemoError("cannot connect to \(address): errno \(errno)")
            }
        }

        func write(_ bytes: [UInt8]) throws {
            var offset = 0
            while offset < bytes.count {
                let written = bytes[offset...].withUnsafeBytes {
                    Glibc.send(descriptor, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL))
                }
                guard written > 0 else { throw DemoError("send failed: errno \(errno)") }
                offset += written
            }
        }

        /// Reads until the peer closes the connection (or resets it).
        func readToEnd() throws -> [UInt8] {
            var received: [UInt8] = []
            var chunk = [UInt8](repeating: 0, count: 65_536)
            while true {
                let count = chunk.withUnsafeMutableBytes { Glibc.recv(descriptor, $0.baseAddress, $0.count, 0) }
                if count == 0 || (count < 0 && errno == ECONNRESET) { return received }
                guard count > 0 else { throw DemoError("recv failed: errno \(errno)") }
                received += chunk[0..<count]
            }
        }

        func close() { Glibc.close(descriptor) }
    }
}

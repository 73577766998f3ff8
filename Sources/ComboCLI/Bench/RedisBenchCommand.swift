import AdapterRedis
import ArgumentParser
import Combo
import Foundation
import Logging
import NIOCore
import Synchronization

/// `combo bench redis`: two Redis-adapter nodes in one process, through a
/// `redis-server` the command starts itself, beside hiredis' own client
/// measured through the same server in the same run.
struct RedisBenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "redis",
        abstract: "Throughput and publish-to-receive latency between two Redis nodes, beside raw hiredis.",
        discussion: """
            Starts its own redis-server (loopback, a free port, no persistence) and \
            stops it at the end. Each throughput run publishes a fixed number of \
            messages; raw hiredis and Combo runs alternate, and the median run of \
            each is reported.
            """
    )

    @Option(help: "Messages per throughput run.")
    var messages = 1_000_000

    @Option(help: "Throughput runs of each side (the median is reported).")
    var runs = 3

    @Option(help: "Publish-to-receive samples in the latency case.")
    var latencySamples = 20_000

    @Option(help: "Payload bytes per message.")
    var payloadSize = 100

    @Option(help: "PubSub poolSize (receiving lanes per node).")
    var poolSize = 1

    @Option(help: "The Redis adapter's compressionLevel (0 = none, 1 to 9 = zlib).")
    var compressionLevel = 0

    @Option(help: "PUBLISH commands per pipelined write of the raw hiredis publisher.")
    var rawBatch = 1_000

    @Option(help: "The redis-server executable (a path, or a name looked up in PATH).")
    var redisServer = "redis-server"

    @Flag(help: "Skip the raw hiredis baseline (for profiling Combo alone).")
    var noBaseline = false

    func validate() throws {
        guard messages >= 1 else { throw ValidationError("--messages must be at least 1") }
        guard runs >= 1 else { throw ValidationError("--runs must be at least 1") }
        guard latencySamples >= 1 else { throw ValidationError("--latency-samples must be at least 1") }
        guard payloadSize >= 0 else { throw ValidationError("--payload-size must not be negative") }
        guard poolSize >= 1 else { throw ValidationError("--pool-size must be at least 1") }
        guard (0...9).contains(compressionLevel) else { throw ValidationError("--compression-level must be 0 to 9") }
        guard rawBatch >= 1 else { throw ValidationError("--raw-batch must be at least 1") }
    }

    func run() async throws {
        let server = try await RedisBenchServer.start(executable: redisServer)
        let results: [BenchResult]
        do {
            results = try await measure(port: server.port)
        } catch {
            await server.stop()
            throw error
        }
        await server.stop()
        BenchReport.print(title: "combo bench redis", results: results)
    }

    private func measure(port: Int) async throws -> [BenchResult] {
        let bytes = [UInt8](repeating: 0x61, count: payloadSize)
        let payload = ByteBuffer(bytes: bytes)
        let warmUp = min(1_000, max(10, latencySamples / 10))
        let (rawRuns, echoRuns, comboRuns, rawLatencies, comboSamples) = try await withNodePair(port: port) { sender, receiver, metrics in
            var rawRuns: [RawHiredisBaseline.Run] = []
            var echoRuns: [RawHiredisBaseline.Run] = []
            var comboRuns: [ComboRun] = []
            for run in 0..<runs {
                if !noBaseline {
                    rawRuns.append(try await RawHiredisBaseline.throughput(
                        port: port, channel: "raw:\(run)", messages: messages, payload: bytes, batch: rawBatch))
                    echoRuns.append(try await RawHiredisBaseline.throughput(
                        port: port, channel: "raw2:\(run)", messages: messages, payload: bytes, batch: rawBatch, subscribers: 2))
                }
                comboRuns.append(try await comboThroughput(
                    sender: sender, receiver: receiver, metrics: metrics, payload: payload, topic: "bench:\(run)"))
            }
            let rawLatencies = noBaseline ? [] : try await RawHiredisBaseline.latencies(
                port: port, channel: "raw:latency", samples: latencySamples, warmUp: warmUp, payload: bytes)
            let comboSamples = try await comboLatencies(sender: sender, receiver: receiver, payload: payload, warmUp: warmUp)
            return (rawRuns, echoRuns, comboRuns, rawLatencies, comboSamples)
        }

        var results: [BenchResult] = []
        let combo = median(comboRuns.map { Double($0.delivered) / $0.seconds })
        let comboDelivered = comboRuns.map(\.delivered).min() ?? 0
        let retries = comboRuns.map(\.retries).reduce(0, +)
        var comboDetail = "\(messages) broadcasts to a subscriber on the other node; median of \(runs) "
            .appending("(\(Int(combo.low))–\(Int(combo.high))); fewest delivered \(comboDelivered)")
        if !rawRuns.isEmpty {
            let raw = median(rawRuns.map { Double($0.delivered) / $0.seconds })
            let rawDelivered = rawRuns.map(\.delivered).min() ?? 0
            let rawDetail = "\(messages) messages of \(payloadSize) bytes, \(rawBatch) per write; median of \(runs) "
                .appending("(\(Int(raw.low))–\(Int(raw.high))); fewest delivered \(rawDelivered)")
            results.append(BenchResult(name: "  raw hiredis, PUBLISH to SUBSCRIBE", value: raw.median, unit: "messages/s", detail: rawDetail))
            let echo = median(echoRuns.map { Double($0.delivered) / $0.seconds })
            let echoDetail = "the same to two subscribed connections, as Combo's sender also subscribes; median of \(runs) "
                .appending("(\(Int(echo.low))–\(Int(echo.high)))")
            results.append(BenchResult(name: "  raw hiredis, two subscribers", value: echo.median, unit: "messages/s", detail: echoDetail))
            comboDetail.append("; \(percent(combo.median, of: raw.median)) of raw")
        }
        if retries > 0 { comboDetail.append("; \(retries) publishQueueFull retries") }
        let laneDrops = comboRuns.map(\.laneDrops).reduce(0, +)
        if laneDrops > 0 { comboDetail.append("; \(laneDrops) dropped by full lanes") }
        let reconnects = comboRuns.map(\.reconnects).reduce(0, +)
        if reconnects > 0 { comboDetail.append("; \(reconnects) reconnections") }
        results.append(BenchResult(name: "redis, node to node", value: combo.median, unit: "messages/s", detail: comboDetail))
        for (name, percentile) in [("p50", 50), ("p99", 99)] {
            let comboValue = microseconds(Self.percentile(comboSamples, percentile))
            var detail = "broadcast until the other node's subscriber reads it"
            if !rawLatencies.isEmpty {
                let rawValue = microseconds(Self.percentile(rawLatencies, percentile))
                results.append(BenchResult(
                    name: "  raw hiredis publish to receive \(name)", value: rawValue, unit: "µs",
                    detail: "\(latencySamples) messages, one at a time"))
                detail.append("; \(String(format: "%.2f", comboValue / rawValue))x raw")
            }
            results.append(BenchResult(name: "redis publish to receive \(name)", value: comboValue, unit: "µs", detail: detail))
        }
        return results
    }

    // MARK: Combo

    /// What one Combo throughput run measured.
    private struct ComboRun {
        let delivered: Int
        let seconds: Double
        /// Broadcasts retried because the publishing connection's queue was full.
        let retries: Int
        /// Received envelopes dropped because a lane was full (`combo_redis_inbound_dropped_total`).
        let laneDrops: Int64
        /// Connections re-established during the run.
        let reconnects: Int64
    }

    /// Runs two nodes with Redis adapters for the duration of `body`, and
    /// stops them whatever `body` does.
    private func withNodePair<T>(port: Int, _ body: (PubSub, PubSub, RedisBenchMetrics) async throws -> T) async throws -> T {
        let metrics = RedisBenchMetrics()
        let sender = try makeNode("bench-a", port: port, metrics: metrics)
        let receiver = try makeNode("bench-b", port: port, metrics: metrics)
        let tasks = [sender, receiver].map { node in Task { try await node.run() } }
        let result: T
        do {
            for node in [sender, receiver] {
                guard let adapter = node.adapter as? RedisAdapter else { throw ValidationError("not a Redis adapter") }
                try await withDeadline(.seconds(10), "\(node.nodeName) to connect to Redis") {
                    await adapter.waitUntilConnected()
                }
            }
            result = try await body(sender, receiver, metrics)
        } catch {
            for task in tasks { task.cancel() }
            for task in tasks { _ = await task.result }
            throw error
        }
        for task in tasks { task.cancel() }
        for task in tasks {
            if case .failure(let error) = await task.result, !(error is CancellationError) { throw error }
        }
        return result
    }

    private func makeNode(_ name: NodeName, port: Int, metrics: RedisBenchMetrics) throws -> PubSub {
        var redis = Redis(nodeName: name, port: port, channelPrefix: "bench")
        redis.compressionLevel = compressionLevel
        return try PubSub(
            configuration: PubSub.Configuration(name: "bench", poolSize: poolSize),
            adapter: redis,
            logger: Logger(label: "combo.bench") { _ in SwiftLogNoOpLogHandler() },
            metricsFactory: metrics
        )
    }

    /// Broadcasts `messages` raw payloads from `sender`; returns how many a
    /// subscriber on `receiver` read, and the time from the first broadcast
    /// to the last message read.
    private func comboThroughput(
        sender: PubSub,
        receiver: PubSub,
        metrics: RedisBenchMetrics,
        payload: ByteBuffer,
        topic: String
    ) async throws -> ComboRun {
        let dropsBefore = metrics.total("combo_redis_inbound_dropped_total")
        let reconnectsBefore = metrics.total("combo_redis_reconnects_total")
        let subscriber = receiver.makeSubscriber(options: .init(capacity: messages, overflowPolicy: .dropNewest))
        defer { subscriber.close() }
        try subscriber.subscribe(to: topic)
        let total = messages
        let counter = ReadCounter()
        let reader = Task {
            for try await _ in subscriber {
                if counter.increment() == total { break }
            }
        }
        defer { reader.cancel() }
        let clock = ContinuousClock()
        let message = RawBytes(payload)
        var retries = 0
        let start = clock.now
        for _ in 0..<total {
            retries += try await broadcastRetrying(sender, message, to: topic)
        }
        // Delivery is at most once: stop waiting once nothing has arrived for a second.
        var seen = counter.value
        var lastProgress = clock.now
        while counter.value < total, lastProgress.duration(to: clock.now) < .seconds(1) {
            try await Task.sleep(for: .milliseconds(5))
            let value = counter.value
            if value != seen {
                seen = value
                lastProgress = clock.now
            }
        }
        let delivered = counter.value
        guard delivered > 0 else { throw RedisBenchError.incomplete("no message reached the other node") }
        let seconds = LocalBenchCommand.seconds(start.duration(to: counter.lastRead))
        return ComboRun(
            delivered: delivered,
            seconds: seconds,
            retries: retries,
            laneDrops: metrics.total("combo_redis_inbound_dropped_total") - dropsBefore,
            reconnects: metrics.total("combo_redis_reconnects_total") - reconnectsBefore
        )
    }

    /// Broadcasts `message`, retrying while the publishing connection's queue
    /// is full (Redis reads slower than we publish); returns the retries.
    private func broadcastRetrying(_ pubsub: PubSub, _ message: RawBytes, to topic: String) async throws -> Int {
        var retries = 0
        while true {
            do {
                try await pubsub.broadcast(message, to: topic)
                return retries
            } catch {
                guard case .adapterFailed(let cause) = error, cause as? RedisError == .publishQueueFull else { throw error }
                retries += 1
                try await Task.sleep(for: .microseconds(200))
            }
        }
    }

    /// Publish-to-receive latencies, one message at a time: the clock starts
    /// before the broadcast and stops when the other node's subscriber has
    /// read the message.
    private func comboLatencies(sender: PubSub, receiver: PubSub, payload: ByteBuffer, warmUp: Int) async throws -> [Duration] {
        let subscriber = receiver.makeSubscriber()
        defer { subscriber.close() }
        try subscriber.subscribe(to: "latency")
        // A lost message would leave `next()` waiting: closing the subscriber ends it.
        let samples = latencySamples
        let watchdog = Task {
            try await Task.sleep(for: .seconds(30) + .milliseconds(10) * (warmUp + samples))
            subscriber.close()
        }
        defer { watchdog.cancel() }
        var iterator = subscriber.makeAsyncIterator()
        let clock = ContinuousClock()
        let message = RawBytes(payload)
        var durations: [Duration] = []
        durations.reserveCapacity(samples)
        for index in 0..<(warmUp + samples) {
            let start = clock.now
            try await sender.broadcast(message, to: "latency")
            guard try await iterator.next() != nil else {
                throw RedisBenchError.incomplete("latency message \(index) did not arrive")
            }
            if index >= warmUp { durations.append(start.duration(to: clock.now)) }
        }
        return durations
    }

    // MARK: Figures

    private func median(_ values: [Double]) -> (median: Double, low: Double, high: Double) {
        let sorted = values.sorted()
        return (sorted[sorted.count / 2], sorted.first ?? 0, sorted.last ?? 0)
    }

    private static func percentile(_ durations: [Duration], _ percent: Int) -> Duration {
        let sorted = durations.sorted()
        return sorted[min(sorted.count - 1, sorted.count * percent / 100)]
    }

    private func microseconds(_ duration: Duration) -> Double {
        LocalBenchCommand.seconds(duration) * 1_000_000
    }

    private func percent(_ value: Double, of reference: Double) -> String {
        "\(Int((value / reference * 100).rounded()))%"
    }

    /// Runs `body`, and throws if it takes longer than `limit` (cancelling it).
    private func withDeadline(
        _ limit: Duration,
        _ what: String,
        _ body: @escaping @Sendable () async throws -> Void
    ) async throws {
        try await withThrowingTaskGroup(of: Bool.self) { group in
            group.addTask {
                try await body()
                return true
            }
            group.addTask {
                try await Task.sleep(for: limit)
                return false
            }
            defer { group.cancelAll() }
            guard try await group.next() == true else { throw RedisBenchError.incomplete("timed out waiting for \(what)") }
        }
    }
}

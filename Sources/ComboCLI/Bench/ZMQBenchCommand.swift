import AdapterZMQ
import ArgumentParser
import Combo
import Foundation
import Logging
import NIOCore

/// `combo bench zmq`: two ZeroMQ nodes on loopback, beside raw libzmq PUB/SUB
/// measured by the same program in the same run.
struct ZMQBenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "zmq",
        abstract: "Throughput and one-way latency between two ZeroMQ nodes, beside raw libzmq PUB/SUB."
    )

    @Option(help: "Messages in the throughput case.")
    var messages = 1_000_000

    @Option(help: "Messages, one at a time, in the latency case.")
    var latencyMessages = 20_000

    @Option(help: "Payload bytes per message.")
    var payloadSize = 100

    @Option(help: "PubSub poolSize (receiving lanes).")
    var poolSize = 1

    @Option(help: "The topology: peers, or forwarder (through a proxy in this process).")
    var topology = "peers"

    @Option(help: "High-water marks of the nodes, the proxy and the raw sockets, in messages.")
    var hwm = 100_000

    @Option(help: "Throughput runs of each, raw and adapter, alternating; the median is reported.")
    var runs = 3

    func run() async throws {
        guard payloadSize >= 8 else { throw ValidationError("--payload-size must be at least 8 (the send time)") }
        guard runs >= 1 else { throw ValidationError("--runs must be at least 1") }
        var results: [BenchResult] = []
        let (messages, payloadSize, latencyMessages, hwm) = (self.messages, self.payloadSize, self.latencyMessages, Int32(hwm))

        let rawDelays = try await RawZMQBaseline.onThread {
            try RawZMQBaseline.oneWay(count: latencyMessages, payloadSize: payloadSize)
        }

        try await withNodePair { sender, receiver in
            // Raw and adapter runs alternate, so that both see the machine in the same state;
            // the median run of each is reported.
            var rawRuns: [(delivered: Int, seconds: Double)] = []
            var runs: [(delivered: Int, seconds: Double, sending: Double, losses: String)] = []
            for _ in 0..<self.runs {
                rawRuns.append(try await RawZMQBaseline.onThread {
                    try RawZMQBaseline.throughput(messages: messages, payloadSize: payloadSize, highWaterMark: hwm)
                })
                let before = (receiver.adapter as? ZMQAdapter)?.statistics
                let (delivered, seconds, sending) = try await throughput(sender: sender, receiver: receiver)
                // Where the missing went, from the receiving node's own counts.
                var losses = ""
                if delivered < messages, let before, let after = (receiver.adapter as? ZMQAdapter)?.statistics {
                    losses = " (lost: \(after.gaps - before.gaps) to high-water marks, "
                        + "\(after.inboundDropped - before.inboundDropped) to a full receiving lane)"
                }
                runs.append((delivered, seconds, sending, losses))
            }
            let rawRates = rawRuns.map { Double($0.delivered) / $0.seconds }.sorted()
            let rawRate = rawRates[rawRates.count / 2]
            let raw = rawRuns.first { Double($0.delivered) / $0.seconds == rawRate }!
            results.append(BenchResult(
                name: "  raw libzmq PUB/SUB", value: rawRate, unit: "messages/s",
                detail: "\(raw.delivered) of \(messages) frames of \(payloadSize) bytes read in \(Self.rounded(raw.seconds)) s"
                    + Self.spread(rawRates)))
            let rates = runs.map { Double($0.delivered) / $0.seconds }.sorted()
            let rate = rates[rates.count / 2]
            let median = runs.first { Double($0.delivered) / $0.seconds == rate }!
            let fewest = runs.min { $0.delivered < $1.delivered }!
            results.append(BenchResult(
                name: "zmq adapter, node to node", value: rate, unit: "messages/s",
                detail: "\(median.delivered) of \(messages) delivered to a subscriber in \(Self.rounded(median.seconds)) s "
                    + "(broadcast calls: \(Int(Double(messages) / median.sending))/s)" + Self.spread(rates)
                    + "; fewest delivered \(fewest.delivered)\(fewest.losses); \(String(format: "%.0f", 100 * rate / rawRate))% of raw"))
            let delays = try await oneWay(sender: sender, receiver: receiver)
            for (name, percent) in [("p50", 50), ("p99", 99)] {
                let rawDelay = Self.percentile(rawDelays, percent)
                let delay = Self.percentile(delays, percent)
                results.append(BenchResult(name: "  raw libzmq one-way \(name)", value: Double(rawDelay) / 1000, unit: "µs",
                                           detail: "\(rawDelays.count) messages, one at a time"))
                results.append(BenchResult(name: "zmq adapter one-way \(name)", value: Double(delay) / 1000, unit: "µs",
                                           detail: "broadcast to a subscriber's read, one at a time; \(String(format: "%.2f", Double(delay) / Double(max(rawDelay, 1))))x raw"))
            }
        }
        BenchReport.print(title: "combo bench zmq", results: results)
    }

    /// Runs two connected nodes (and, for the forwarder, a proxy) for the duration of `body`.
    private func withNodePair(_ body: (PubSub, PubSub) async throws -> Void) async throws {
        let logger = Logger(label: "combo.bench") { _ in SwiftLogNoOpLogHandler() }
        var tasks: [Task<Void, any Error>] = []
        defer { tasks.forEach { $0.cancel() } }
        let (first, second): (ZMQ, ZMQ)
        switch topology {
        case "peers":
            let port = try RawZMQBaseline.freePort()
            first = ZMQ(nodeName: "bench-a", topology: .peers(bind: "tcp://127.0.0.1:\(port)"))
            second = ZMQ(nodeName: "bench-b", topology: .peers(bind: "tcp://127.0.0.1:*", peers: ["tcp://127.0.0.1:\(port)"]))
        case "forwarder":
            var proxyConfiguration = ZMQProxyConfiguration(xsub: "tcp://127.0.0.1:*", xpub: "tcp://127.0.0.1:*")
            proxyConfiguration.highWaterMark = hwm
            let proxy = try ZMQProxy(configuration: proxyConfiguration, logger: logger)
            tasks.append(Task { try await proxy.run() })
            guard let endpoints = await proxy.waitUntilBound() else { throw ZMQBenchFailure("the proxy did not start") }
            first = ZMQ(nodeName: "bench-a", topology: .forwarder(xsub: endpoints.xsub, xpub: endpoints.xpub))
            second = ZMQ(nodeName: "bench-b", topology: .forwarder(xsub: endpoints.xsub, xpub: endpoints.xpub))
        default:
            throw ValidationError("--topology must be peers or forwarder")
        }
        let configuration = PubSub.Configuration(name: "bench", poolSize: poolSize)
        let nodes = try [first, second].map { factory -> PubSub in
            var factory = factory
            factory.sendHighWaterMark = hwm
            factory.receiveHighWaterMark = hwm
            return try PubSub(configuration: configuration, adapter: factory, logger: logger)
        }
        for node in nodes { tasks.append(Task { try await node.run() }) }
        let adapters = nodes.compactMap { $0.adapter as? ZMQAdapter }
        let ready = Task {
            for adapter in adapters { await adapter.waitUntilReady() }
            await adapters[0].waitUntilUp(["bench-b"])
            await adapters[1].waitUntilUp(["bench-a"])
        }
        let deadline = Task {
            try await Task.sleep(for: .seconds(10))
            ready.cancel()
        }
        await ready.value
        deadline.cancel()
        guard adapters.allSatisfy(\.isReady) else { throw ZMQBenchFailure("the two nodes did not connect") }
        try await body(nodes[0], nodes[1])
        for task in tasks { task.cancel() }
        for task in tasks { _ = await task.result }
    }

    /// Broadcasts `messages` raw payloads from one node; returns how many the
    /// other node's subscriber read, how long that took, and how long the broadcasts took.
    private func throughput(sender: PubSub, receiver: PubSub) async throws -> (Int, Double, Double) {
        let subscriber = receiver.makeSubscriber(options: .init(capacity: messages, overflowPolicy: .dropNewest))
        defer { subscriber.close() }
        try subscriber.subscribe(to: "bench")
        let total = messages
        let progress = ZMQBenchProgress()
        let clock = ContinuousClock()
        let reader = Task {
            var count = 0
            var lastRead: ContinuousClock.Instant?
            for try await _ in subscriber {
                count += 1
                lastRead = clock.now
                if count == total { break }
                if count & 1023 == 0 { progress.publish(count, lastRead: lastRead) }
            }
            progress.publish(count, lastRead: lastRead, final: true)
        }
        let start = clock.now
        let message = RawBytes(ByteBuffer(repeating: 0x61, count: payloadSize))
        for _ in 0..<messages {
            try await sender.broadcast(message, to: "bench")
        }
        let sending = start.duration(to: clock.now)
        // Delivery is at most once: stop waiting once nothing has arrived for a second.
        var seen = -1
        while !progress.finished && progress.value != seen {
            seen = progress.value
            try await Task.sleep(for: .seconds(1))
        }
        reader.cancel()
        _ = await reader.result
        // The clock stops at the last message read, not when the wait for more gave up.
        let end = progress.lastRead ?? clock.now
        return (progress.value, LocalBenchCommand.seconds(start.duration(to: end)), LocalBenchCommand.seconds(sending))
    }

    /// One message at a time: its send time in the payload, the delay taken at the subscriber's read.
    private func oneWay(sender: PubSub, receiver: PubSub) async throws -> [UInt64] {
        let subscriber = receiver.makeSubscriber()
        defer { subscriber.close() }
        try subscriber.subscribe(to: "latency")
        var iterator = subscriber.makeAsyncIterator()
        var delays: [UInt64] = []
        delays.reserveCapacity(latencyMessages)
        var payload = ByteBuffer(repeating: 0x61, count: payloadSize)
        for _ in 0..<latencyMessages {
            payload.setInteger(RawZMQBaseline.now(), at: 0)
            try await sender.broadcast(RawBytes(payload), to: "latency")
            guard let message = try await iterator.next(), let bytes = message.bytes,
                let sent = bytes.getInteger(at: bytes.readerIndex, as: UInt64.self)
            else { break }
            delays.append(RawZMQBaseline.now() - sent)
        }
        return delays
    }

    /// "; median of N (lowest–highest)" for more than one run.
    static func spread(_ sorted: [Double]) -> String {
        guard sorted.count > 1 else { return "" }
        return "; median of \(sorted.count) (\(Int(sorted.first!))–\(Int(sorted.last!)))"
    }

    static func percentile(_ values: [UInt64], _ percent: Int) -> UInt64 {
        let sorted = values.sorted()
        guard !sorted.isEmpty else { return 0 }
        return sorted[min(sorted.count - 1, sorted.count * percent / 100)]
    }

    static func rounded(_ seconds: Double) -> Double {
        (seconds * 1000).rounded() / 1000
    }
}

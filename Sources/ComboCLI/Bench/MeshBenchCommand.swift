import AdapterMesh
import ArgumentParser
import Combo
import Logging
import NIOCore
import NIOPosix

/// `combo bench mesh`: two mesh nodes on loopback, beside plain TCP with the
/// same framing measured in the same run.
struct MeshBenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mesh",
        abstract: "Throughput and round trips between two mesh nodes, beside raw TCP."
    )

    @Option(help: "Messages in the throughput case.")
    var messages = 1_000_000

    @Option(help: "Round trips in the latency case.")
    var roundTrips = 20_000

    @Option(help: "Payload bytes per message.")
    var payloadSize = 100

    @Option(help: "PubSub poolSize (lanes per peer).")
    var poolSize = 1

    @Flag(help: "Run both nodes (and both raw TCP ends) on the process-wide event loops instead of one event loop each.")
    var sharedEventLoops = false

    func run() async throws {
        let payload = ByteBuffer(repeating: 0x61, count: payloadSize)
        var results: [BenchResult] = []
        // One event loop per node, as two processes would have: on the shared
        // two-thread group, whether both directions' sockets land on one
        // thread is a coin toss that moves the figures by half.
        let groups: (sender: any EventLoopGroup, receiver: any EventLoopGroup)
        var owned: [MultiThreadedEventLoopGroup] = []
        if sharedEventLoops {
            groups = (MultiThreadedEventLoopGroup.singleton, MultiThreadedEventLoopGroup.singleton)
        } else {
            owned = [MultiThreadedEventLoopGroup(numberOfThreads: 1), MultiThreadedEventLoopGroup(numberOfThreads: 1)]
            groups = (owned[0], owned[1])
        }
        defer { for group in owned { group.shutdownGracefully { _ in } } }

        let rawRate = try await RawTCPBaseline.throughput(
            messages: messages, payload: payload, senderGroup: groups.sender, receiverGroup: groups.receiver)
        results.append(BenchResult(name: "  raw TCP, one connection", value: rawRate, unit: "messages/s",
                                   detail: "\(messages) frames of \(payloadSize) bytes, batched writes"))
        let rawTrips = try await RawTCPBaseline.roundTrips(
            count: roundTrips, payload: payload, senderGroup: groups.sender, receiverGroup: groups.receiver)

        try await withMeshPair(groups: groups) { sender, receiver in
            let (delivered, seconds) = try await meshThroughput(sender: sender, receiver: receiver, payload: payload)
            results.append(BenchResult(
                name: "mesh, node to node", value: Double(delivered) / seconds, unit: "messages/s",
                detail: "\(delivered) of \(messages) delivered to a subscriber on the other node in \((seconds * 1000).rounded() / 1000) s"))
            let trips = try await meshRoundTrips(sender: sender, receiver: receiver, payload: payload)
            for (name, raw, mesh) in [("p50", percentile(rawTrips, 50), percentile(trips, 50)),
                                      ("p99", percentile(rawTrips, 99), percentile(trips, 99))] {
                results.append(BenchResult(name: "  raw TCP round trip \(name)", value: microseconds(raw), unit: "µs",
                                           detail: "\(roundTrips) echo round trips"))
                results.append(BenchResult(name: "mesh round trip \(name)", value: microseconds(mesh), unit: "µs",
                                           detail: "broadcast, then a direct broadcast back; \(String(format: "%.2f", microseconds(mesh) / microseconds(raw)))x raw"))
            }
        }
        BenchReport.print(title: "combo bench mesh", results: results)
    }

    /// Runs two connected mesh nodes for the duration of `body`.
    private func withMeshPair(
        groups: (sender: any EventLoopGroup, receiver: any EventLoopGroup), _ body: (PubSub, PubSub) async throws -> Void
    ) async throws {
        let secret = Array("bench-\(UInt64.random(in: 0 ... .max))".utf8)
        let logger = Logger(label: "combo.bench") { _ in SwiftLogNoOpLogHandler() }
        let configuration = PubSub.Configuration(name: "bench", poolSize: poolSize)
        let first = try PubSub(configuration: configuration, adapter: Mesh(nodeName: "bench-a", secret: secret, eventLoopGroup: groups.sender), logger: logger)
        let firstTask = Task { try await first.run() }
        defer { firstTask.cancel() }
        guard let firstMesh = first.adapter as? MeshAdapter else { throw ValidationError("not a mesh adapter") }
        let address = try await firstMesh.boundAddress()
        let second = try PubSub(configuration: configuration,
                                adapter: Mesh(nodeName: "bench-b", seeds: [address], secret: secret, eventLoopGroup: groups.receiver),
                                logger: logger)
        let secondTask = Task { try await second.run() }
        defer { secondTask.cancel() }
        guard let secondMesh = second.adapter as? MeshAdapter else { throw ValidationError("not a mesh adapter") }
        let deadline = ContinuousClock.now + .seconds(10)
        while firstMesh.members.isEmpty || secondMesh.members.isEmpty {
            guard ContinuousClock.now < deadline else { throw ValidationError("the two mesh nodes did not connect") }
            try await Task.sleep(for: .milliseconds(10))
        }
        try await body(first, second)
        firstTask.cancel()
        secondTask.cancel()
        _ = await firstTask.result
        _ = await secondTask.result
    }

    /// Broadcasts `messages` raw payloads from one node; returns how many the
    /// other node's subscriber read and how long that took.
    private func meshThroughput(sender: PubSub, receiver: PubSub, payload: ByteBuffer) async throws -> (Int, Double) {
        let subscriber = receiver.makeSubscriber(options: .init(capacity: messages, overflowPolicy: .dropNewest))
        defer { subscriber.close() }
        try subscriber.subscribe(to: "bench")
        let total = messages
        let clock = ContinuousClock()
        let counter = ReadCounter()
        let reader = Task {
            for try await _ in subscriber {
                if counter.increment() == total { break }
            }
        }
        let start = clock.now
        let message = RawBytes(payload)
        for _ in 0..<messages {
            try await sender.broadcast(message, to: "bench")
        }
        // Delivery is at most once: stop waiting once nothing has arrived for a second.
        var seen = -1
        while counter.value != total && counter.value != seen {
            seen = counter.value
            try await Task.sleep(for: .seconds(1))
        }
        let elapsed = counter.lastRead
        reader.cancel()
        _ = await reader.result
        return (counter.value, LocalBenchCommand.seconds(start.duration(to: elapsed)))
    }

    /// Broadcast from one node, answered by a direct broadcast from the other.
    private func meshRoundTrips(sender: PubSub, receiver: PubSub, payload: ByteBuffer) async throws -> [Duration] {
        let echo = receiver.makeSubscriber()
        try echo.subscribe(to: "ping")
        let replies = sender.makeSubscriber()
        try replies.subscribe(to: "pong")
        defer {
            echo.close()
            replies.close()
        }
        let origin = sender.nodeName
        let echoTask = Task {
            for try await message in echo {
                try await receiver.directBroadcast(RawBytes(message.bytes ?? ByteBuffer()), to: "pong", on: origin)
            }
        }
        defer { echoTask.cancel() }
        var iterator = replies.makeAsyncIterator()
        let clock = ContinuousClock()
        let message = RawBytes(payload)
        var durations: [Duration] = []
        durations.reserveCapacity(roundTrips)
        for _ in 0..<roundTrips {
            let start = clock.now
            try await sender.broadcast(message, to: "ping")
            _ = try await iterator.next()
            durations.append(start.duration(to: clock.now))
        }
        return durations
    }

    private func percentile(_ durations: [Duration], _ percent: Int) -> Duration {
        let sorted = durations.sorted()
        return sorted[min(sorted.count - 1, sorted.count * percent / 100)]
    }

    private func microseconds(_ duration: Duration) -> Double {
        LocalBenchCommand.seconds(duration) * 1_000_000
    }
}

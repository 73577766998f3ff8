import Foundation

/// The raw-hiredis side of `combo bench redis`: hiredis' own synchronous
/// client, one connection publishing and one subscribed, each on a thread of
/// its own, through the same `redis-server` as the Combo nodes.
enum RawHiredisBaseline {
    /// What one throughput run measured.
    struct Run: Sendable {
        /// Messages the subscriber read.
        let delivered: Int
        /// From the first `PUBLISH` appended to the last message read.
        let seconds: Double
    }

    /// Pipelined `PUBLISH`es of `payload` on `channel`, `batch` commands per
    /// write: while Redis works through one batch the next is written, and
    /// the replies of a batch are read after the next one is sent, so the
    /// connection never waits for a round trip. The run ends when the
    /// subscriber has read `messages` messages, or read nothing for a second
    /// (delivery is at most once).
    ///
    /// With `subscribers` 2, a second connection subscribes the channel too
    /// and reads everything: the work Redis does for Combo's channel layout,
    /// where the sending node subscribes the broadcast channel as well. The
    /// run then ends when both have read every message.
    static func throughput(
        port: Int,
        channel: String,
        messages: Int,
        payload: [UInt8],
        batch: Int,
        subscribers: Int = 1
    ) async throws -> Run {
        let readers = try (0..<subscribers).map { _ in
            let subscriber = try RedisBenchHiredisContext(port: port)
            try subscriber.subscribe(channel)
            try subscriber.setReadTimeout(seconds: 1)
            return subscriber
        }
        let publisher = try RedisBenchHiredisContext(port: port)
        let arguments = [Array("PUBLISH".utf8), Array(channel.utf8), payload]
        let clock = ContinuousClock()

        async let reading = withTaskGroup(of: (Int, ContinuousClock.Instant).self) { group in
            for subscriber in readers {
                group.addTask {
                    await RedisBenchThread.run(name: "raw subscriber") { () -> (Int, ContinuousClock.Instant) in
                        var read = 0
                        var last = clock.now
                        // A read timeout ends the loop: the remaining messages were lost.
                        while read < messages, (try? subscriber.readMessage()) != nil {
                            read += 1
                            last = clock.now
                        }
                        return (read, last)
                    }
                }
            }
            var fewest = Int.max
            var last = clock.now
            for await (read, end) in group {
                fewest = min(fewest, read)
                last = max(last, end)
            }
            return (fewest, last)
        }
        let publishing = await RedisBenchThread.run(name: "raw publisher") {
            () -> Result<ContinuousClock.Instant, RedisBenchError> in
            let start = clock.now
            do throws(RedisBenchError) {
                var sent = 0
                var unanswered = 0
                while sent < messages {
                    let count = min(batch, messages - sent)
                    try publisher.append(arguments, count: count)
                    try publisher.flush()
                    for _ in 0..<unanswered { try publisher.discardReply() }
                    unanswered = count
                    sent += count
                }
                for _ in 0..<unanswered { try publisher.discardReply() }
                return .success(start)
            } catch {
                return .failure(error)
            }
        }
        let (delivered, last) = await reading
        let start = try publishing.get()
        return Run(delivered: delivered, seconds: LocalBenchCommand.seconds(start.duration(to: last)))
    }

    /// Publish-to-receive latencies, one message at a time: the clock starts
    /// before the `PUBLISH` is written and stops when the subscribed
    /// connection has read the message (the publisher's reply is read
    /// afterwards, outside the measurement).
    static func latencies(port: Int, channel: String, samples: Int, warmUp: Int, payload: [UInt8]) async throws -> [Duration] {
        let subscriber = try RedisBenchHiredisContext(port: port)
        try subscriber.subscribe(channel)
        try subscriber.setReadTimeout(seconds: 5)
        let publisher = try RedisBenchHiredisContext(port: port)
        let arguments = [Array("PUBLISH".utf8), Array(channel.utf8), payload]
        let result = await RedisBenchThread.run(name: "raw latency") { () -> Result<[Duration], RedisBenchError> in
            let clock = ContinuousClock()
            var durations: [Duration] = []
            durations.reserveCapacity(samples)
            do throws(RedisBenchError) {
                for index in 0..<(warmUp + samples) {
                    let start = clock.now
                    try publisher.append(arguments, count: 1)
                    try publisher.flush()
                    guard try subscriber.readMessage() else { throw RedisBenchError.unexpectedReply("not a message") }
                    let end = clock.now
                    try publisher.discardReply()
                    if index >= warmUp { durations.append(start.duration(to: end)) }
                }
                return .success(durations)
            } catch {
                return .failure(error)
            }
        }
        return try result.get()
    }
}

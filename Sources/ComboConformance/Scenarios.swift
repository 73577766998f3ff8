import Combo
import ComboTestKit

/// The bodies of the ``ConformanceScenario``s, with the helpers they share.
///
/// "Nothing arrives" is never checked by waiting: after the action under test,
/// the same node broadcasts a barrier on a topic that takes the same lane, and
/// the subscriber's next message must be the barrier (one node's messages on
/// one lane arrive in order, which the suite checks too).
struct Scenarios {
    let fixture: ClusterFixture
    let poolSize: Int
    let timeout: Duration

    var topic: String { "combo.conformance.topic" }

    func startCluster(count: Int) async throws -> [PubSub] {
        try await fixture.startCluster(count: count, poolSize: poolSize)
    }

    /// A subscriber of `topics` on `pubsub`, read by a probe.
    func probe(_ pubsub: PubSub, _ topics: String..., metadata: (any Hashable & Sendable)? = nil) throws -> SubscriberProbe {
        let subscriber = pubsub.makeSubscriber()
        for topic in topics {
            try pubsub.subscribe(subscriber, to: topic, metadata: metadata)
        }
        return SubscriberProbe(subscriber)
    }

    /// The next `count` messages of `probe`; a timeout is a ``ConformanceFailure`` at the caller's line.
    func receive(_ probe: SubscriberProbe, count: Int, file: String = #fileID, line: Int = #line) async throws -> [Message] {
        do {
            return try await probe.next(count: count, within: timeout)
        } catch let error as SubscriberProbeError {
            throw ConformanceFailure("expected \(count) message(s): \(error)", file: file, line: line)
        }
    }

    /// The next message of `probe`; a timeout is a ``ConformanceFailure`` at the caller's line.
    func receive(_ probe: SubscriberProbe, file: String = #fileID, line: Int = #line) async throws -> Message {
        try await receive(probe, count: 1, file: file, line: line)[0]
    }

    /// The next message of `probe`, decoded as a ``Ping``.
    func nextPing(_ probe: SubscriberProbe, file: String = #fileID, line: Int = #line) async throws -> Ping {
        let message = try await receive(probe, file: file, line: line)
        do {
            return try message.decode(Ping.self)
        } catch {
            throw ConformanceFailure("expected a Ping on \(message.topic), got \(message.payload): \(error)", file: file, line: line)
        }
    }

    /// Checks that the next messages of `probe` are exactly these pings, in order.
    func expectPings(_ probe: SubscriberProbe, _ sequences: [Int], file: String = #fileID, line: Int = #line) async throws {
        var got: [Int] = []
        for _ in sequences {
            got.append(try await nextPing(probe, file: file, line: line).sequence)
        }
        try check(got == sequences, "expected pings \(sequences), got \(got)", file: file, line: line)
    }

    /// A topic that takes the same lane as `topic` for every broadcast pool
    /// size the suite uses (1, 2, 8 and ``poolSize``), so a barrier on it is
    /// ordered after `topic`'s messages.
    func laneMate(of topic: String) -> String {
        func gcd(_ a: Int, _ b: Int) -> Int { b == 0 ? a : gcd(b, a % b) }
        let modulus = UInt32(8 * poolSize / gcd(8, poolSize))
        let target = Self.fnv1a(topic) % modulus
        var candidate = 0
        while true {
            let name = "combo.conformance.barrier.\(candidate)"
            if name != topic && Self.fnv1a(name) % modulus == target { return name }
            candidate += 1
        }
    }

    /// The stable topic hash of `docs/WIRE.md` (32-bit FNV-1a of the UTF-8 bytes).
    static func fnv1a(_ text: String) -> UInt32 {
        var hash: UInt32 = 0x811C_9DC5
        for byte in text.utf8 { hash = (hash ^ UInt32(byte)) &* 0x0100_0193 }
        return hash
    }

    func stopAll(_ probes: [SubscriberProbe]) {
        for probe in probes {
            probe.stop()
            probe.subscriber.close()
        }
    }
}

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

    /// The next message of `probe`, decoded as a ``Ping``.
    func nextPing(_ probe: SubscriberProbe, file: String = #fileID, line: Int = #line) async throws -> Ping {
        let message = try await probe.next(within: timeout)
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

    /// A topic that hashes to the same lane as `topic` for every broadcast pool
    /// size that divides 8, so a barrier on it is ordered after `topic`'s messages.
    func laneMate(of topic: String) -> String {
        let target = Self.fnv1a(topic) % 8
        var candidate = 0
        while true {
            let name = "combo.conformance.barrier.\(candidate)"
            if name != topic && Self.fnv1a(name) % 8 == target { return name }
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

@testable import Combo
import ComboTestKit
import Logging
import MetricsTestKit
import NIOCore
import Testing

@Suite("Tracker messages in chunks")
struct TrackerChunkTests {
    static let sender = NodeIdentity(name: "a", incarnation: Incarnation(rawValue: 7))

    static func bytes(_ count: Int, seed: UInt8 = 0) -> ByteBuffer {
        ByteBuffer(bytes: (0..<count).map { UInt8(truncatingIfNeeded: $0 &+ Int(seed)) })
    }

    @Test("a message cut into chunks and sent through the wire comes back whole")
    func roundTrip() throws {
        for (size, chunkSize) in [(1, 10), (10, 10), (11, 10), (10_000, 999), (4096, 4096)] {
            let message = Self.bytes(size)
            let chunks = TrackerChunk.split(message, sender: Self.sender, id: 3, size: chunkSize)
            #expect(chunks.count == (size + chunkSize - 1) / chunkSize)
            #expect(chunks.allSatisfy { $0.bytes.readableBytes <= chunkSize && $0.count == chunks.count })
            var reassembly = TrackerReassembly()
            var whole: ByteBuffer?
            for chunk in chunks {
                let wire = chunk.encoded()
                #expect(TrackerChunk.isChunk(wire))
                let decoded = try TrackerChunk.decode(wire)
                #expect(decoded == chunk)
                let outcome = reassembly.add(decoded)
                #expect(!outcome.dropped)
                if decoded.index < decoded.count - 1 { #expect(outcome.message == nil) }
                whole = outcome.message
            }
            #expect(whole == message)
            #expect(reassembly.pendingCount == 0)
        }
        #expect(!TrackerChunk.isChunk(TrackerMessage.gracefulPermdown(sender: Self.sender).encoded()))
    }

    @Test("a lost chunk drops the unfinished message; the next message still arrives")
    func lostChunk() {
        var reassembly = TrackerReassembly()
        let first = TrackerChunk.split(Self.bytes(30), sender: Self.sender, id: 1, size: 10)
        #expect(reassembly.add(first[0]) == .init())
        // first[1] is lost.
        #expect(reassembly.add(first[2]) == .init(message: nil, dropped: true))
        #expect(reassembly.pendingCount == 0)
        let second = TrackerChunk.split(Self.bytes(25, seed: 9), sender: Self.sender, id: 2, size: 10)
        #expect(reassembly.add(second[0]) == .init())
        #expect(reassembly.add(second[1]) == .init())
        #expect(reassembly.add(second[2]).message == Self.bytes(25, seed: 9))
    }

    @Test("a new message from a node drops its unfinished one; other nodes' messages are independent")
    func interleaving() {
        var reassembly = TrackerReassembly()
        let other = NodeIdentity(name: "b", incarnation: Incarnation(rawValue: 1))
        let restarted = NodeIdentity(name: "a", incarnation: Incarnation(rawValue: 8))
        let fromA = TrackerChunk.split(Self.bytes(20), sender: Self.sender, id: 1, size: 10)
        let fromB = TrackerChunk.split(Self.bytes(20, seed: 1), sender: other, id: 1, size: 10)
        let fromRestartedA = TrackerChunk.split(Self.bytes(20, seed: 2), sender: restarted, id: 1, size: 10)
        #expect(reassembly.add(fromA[0]) == .init())
        #expect(reassembly.add(fromB[0]) == .init())
        #expect(reassembly.pendingCount == 2)
        // The node restarted (same name, new incarnation) before finishing: its old message is dropped.
        #expect(reassembly.add(fromRestartedA[0]) == .init(message: nil, dropped: true))
        #expect(reassembly.add(fromB[1]).message == Self.bytes(20, seed: 1))
        #expect(reassembly.add(fromRestartedA[1]).message == Self.bytes(20, seed: 2))
        // A stray later chunk of the old message is dropped on its own.
        #expect(reassembly.add(fromA[1]) == .init(message: nil, dropped: true))
        #expect(reassembly.pendingCount == 0)
    }

    @Test("malformed chunks are refused with typed errors")
    func malformed() throws {
        let good = TrackerChunk.split(Self.bytes(20), sender: Self.sender, id: 1, size: 10)[1].encoded()
        for cut in [1, 5, 12, good.readableBytes - 1] {
            #expect(throws: TrackerMessageError.truncated) { try TrackerChunk.decode(good.getSlice(at: 0, length: cut)!) }
        }
        var trailing = good
        trailing.writeInteger(UInt8(0))
        #expect(throws: TrackerMessageError.trailingBytes(1)) { try TrackerChunk.decode(trailing) }
        // Index past the count, a count of zero, too many chunks.
        let senderLength = 1 + 1 + 8
        let indexOffset = 4 + senderLength + 8
        for (index, count) in [(UInt32(2), UInt32(2)), (0, 0), (0, UInt32(TrackerChunk.maximumCount + 1))] {
            var bad = good
            bad.setInteger(index, at: indexOffset)
            bad.setInteger(count, at: indexOffset + 4)
            #expect(throws: TrackerMessageError.invalidChunk) { try TrackerChunk.decode(bad) }
        }
        var noBytes = ByteBuffer()
        noBytes.writeBytes(good.getBytes(at: 0, length: indexOffset + 8)!)
        noBytes.writeInteger(UInt32(0))
        #expect(throws: TrackerMessageError.invalidChunk) { try TrackerChunk.decode(noBytes) }
    }

    @Test("a shard larger than one envelope replicates, and catches a newcomer up, in chunks")
    func trackerUsesChunks() async throws {
        let cluster = InMemoryCluster()
        let logger = Logger(label: "combo.test.tracker")
        // 32 KiB envelopes: 3,000 presences (about 300 KB) need a dozen chunks.
        let pubSubConfiguration = PubSub.Configuration(name: "test", maximumEnvelopeSize: 32 * 1024)
        var tasks: [Task<Void, any Error>] = []
        defer { tasks.forEach { $0.cancel() } }
        func start(_ name: String, metrics: TestMetrics) throws -> Tracker {
            let pubsub = try PubSub(configuration: pubSubConfiguration, adapter: cluster.node(try NodeName(name)), logger: logger)
            let tracker = try Tracker(
                configuration: TrackerTestCluster.configuration(poolSize: 1), pubsub: pubsub, logger: logger,
                metricsFactory: metrics)
            tasks.append(Task {
                try await withThrowingTaskGroup(of: Void.self) { group in
                    group.addTask { try await pubsub.run() }
                    group.addTask { try await tracker.run() }
                    try await group.waitForAll()
                }
            })
            return tracker
        }
        func sentChunked(_ metrics: TestMetrics) -> Int64 {
            (try? metrics.expectCounter("combo_tracker_messages_sent_total", [("tracker", "test"), ("kind", "chunk")]))?
                .totalValue ?? 0
        }
        let metricsA = TestMetrics()
        let metricsB = TestMetrics()
        let a = try start("a", metrics: metricsA)
        let b = try start("b", metrics: metricsB)
        try await cluster.waitForMembers(["a", "b"])
        #expect(a.chunkSize == 32 * 1024 - 4096)

        let owner = a.makeOwner()
        defer { owner.close() }
        for index in 0..<3000 {
            try owner.track(topic: "room:\(index % 10)", key: "user-\(index)", values: ["status": "online"])
        }
        try await eventually("b lists the 3,000 presences") { b.presenceCount == 3000 }
        #expect(sentChunked(metricsA) >= 1)

        // Nothing changes any more, so what is chunked from here on answers the newcomer.
        let sentBefore = sentChunked(metricsA) + sentChunked(metricsB)
        let c = try start("c", metrics: TestMetrics())
        try await eventually("a newcomer lists the 3,000 presences") { c.presenceCount == 3000 }
        #expect(Set(c.list("room:3").map(\.key)) == Set(a.list("room:3").map(\.key)))
        #expect(sentChunked(metricsA) + sentChunked(metricsB) > sentBefore)
    }
}

@testable import AdapterZMQ
import Combo
import Testing

@Suite("ZeroMQ adapter: high-water marks and sequence gaps")
struct ZMQHighWaterMarkTests {
    static let burst = 20_000

    /// Two peers, `b` subscribed to `a`, both ready, and what `b` reads on topic `burst`.
    func withPair(
        configure: (inout ZMQ) -> Void = { _ in },
        _ body: (PubSub, ZMQAdapter, MessageLog) async throws -> Void
    ) async throws {
        let (endpointA, endpointB) = (try FreePort.endpoint(), try FreePort.endpoint())
        var configurationA = ZMQ(nodeName: "a", topology: .peers(bind: endpointA))
        var configurationB = ZMQ(nodeName: "b", topology: .peers(bind: endpointB, peers: [endpointA]))
        configure(&configurationA)
        configure(&configurationB)
        let (a, b) = (try makeNode(configurationA), try makeNode(configurationB))
        let subscriber = b.makeSubscriber()
        try subscriber.subscribe(to: "burst")
        let log = MessageLog(subscriber)
        defer { log.stop() }
        try await withRunning([a, b]) {
            try await withDeadline(.seconds(30), "b to be ready") { await zmqAdapter(of: b).waitUntilReady() }
            try await body(a, zmqAdapter(of: b), log)
        }
    }

    @Test("the default high-water mark carries a burst of 20,000 broadcasts whole")
    func defaultCarriesBurst() async throws {
        try await withPair { a, adapterB, log in
            for index in 0..<Self.burst { try await a.broadcast("\(index)", to: "burst") }
            try await eventually("every message of the burst", within: .seconds(60)) { log.count == Self.burst }
            #expect(log.all == (0..<Self.burst).map { "\($0)" })
            #expect(adapterB.statistics.gaps == 0)
        }
    }

    @Test("a high-water mark of 1 drops most of a burst, and the receiver counts every lost message")
    func tinyHighWaterMarkCountsGaps() async throws {
        try await withPair(configure: { $0.sendHighWaterMark = 1; $0.receiveHighWaterMark = 1 }) { a, adapterB, log in
            var sent = 0
            // The first message of the stream sets the receiver's baseline.
            try await a.broadcast("first", to: "burst")
            sent += 1
            try await eventually("the first message") { log.contains("first") }
            for index in 0..<Self.burst { try await a.broadcast("\(index)", to: "burst") }
            sent += Self.burst
            // Once the queues have drained, a message gets through again; the one that does
            // proves that everything before it was received or is lost for good.
            var delivered = false
            for _ in 0..<500 where !delivered {
                try await a.broadcast("end", to: "burst")
                sent += 1
                delivered = (try? await eventually("an end marker", within: .milliseconds(20)) { log.contains("end") }) != nil
            }
            #expect(delivered)
            try await a.broadcast("last", to: "burst")
            sent += 1
            try await eventually("the last message") { log.contains("last") }
            let total = sent
            try await eventually("every message to be received or counted lost") {
                let statistics = adapterB.statistics
                return statistics.received + statistics.gaps == total
            }
            #expect(adapterB.statistics.gaps > 0)
            #expect(log.count == adapterB.statistics.received)
        }
    }
}

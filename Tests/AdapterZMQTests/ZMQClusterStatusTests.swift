@testable import AdapterZMQ
import Combo
import MetricsTestKit
import Testing

@Suite("ZeroMQ peer events are bounded")
struct ZMQClusterStatusTests {
    @Test("a reader that falls behind keeps the newest peer events; the dropped ones are counted")
    func peerEventsOverflow() async throws {
        let metrics = ZMQMetrics(dimensions: [("pubsub", "bounded")], factory: TestMetrics())
        let status = ZMQClusterStatus(metrics: metrics, eventLimit: 2)
        let events = status.events()
        let names = try ["a", "b", "c"].map { try NodeName($0) }
        for name in names {
            status.update { state in
                state.running = true
                state.peers[name] = .init(incarnation: .next(), endpoint: "tcp://127.0.0.1:1", subscribedHere: true, welcomedUs: true)
            }
        }
        #expect(metrics.statistics.peerEventsDropped == 1)
        var iterator = events.makeAsyncIterator()
        let first = await iterator.next()
        let second = await iterator.next()
        guard case .up(let firstName, _) = first, case .up(let secondName, _) = second else {
            Issue.record("expected two up events, got \(String(describing: first)), \(String(describing: second))")
            return
        }
        #expect([firstName, secondName] == Array(names[1...]))
    }
}

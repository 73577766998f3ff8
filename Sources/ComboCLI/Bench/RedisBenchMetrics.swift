import CoreMetrics
import Synchronization

/// The metrics of the benchmark's two nodes, summed by label, so that the
/// report can say where undelivered messages went (full lanes, lost
/// connections) instead of leaving it to guesswork. Recorders and timers are
/// not kept.
final class RedisBenchMetrics: MetricsFactory {
    /// One counter handle; every handle of a label adds to the same total.
    private final class Counter: CounterHandler {
        let total: Atomic<Int64>

        init() {
            total = Atomic(0)
        }

        func increment(by amount: Int64) {
            total.add(amount, ordering: .relaxed)
        }

        func reset() {
            total.store(0, ordering: .relaxed)
        }
    }

    private let counters = Mutex<[String: Counter]>([:])

    /// The sum of every counter labelled `label`, whatever its dimensions.
    func total(_ label: String) -> Int64 {
        counters.withLock { $0[label] }?.total.load(ordering: .relaxed) ?? 0
    }

    func makeCounter(label: String, dimensions: [(String, String)]) -> any CounterHandler {
        counters.withLock { counters in
            if let counter = counters[label] { return counter }
            let counter = Counter()
            counters[label] = counter
            return counter
        }
    }

    func makeRecorder(label: String, dimensions: [(String, String)], aggregate: Bool) -> any RecorderHandler {
        NOOPMetricsHandler.instance
    }

    func makeTimer(label: String, dimensions: [(String, String)]) -> any TimerHandler {
        NOOPMetricsHandler.instance
    }

    func destroyCounter(_ handler: any CounterHandler) {}
    func destroyRecorder(_ handler: any RecorderHandler) {}
    func destroyTimer(_ handler: any TimerHandler) {}
}

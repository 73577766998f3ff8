import Synchronization

/// Tells the socket threads of one run to stop, and remembers why a run
/// ended early (a thread that failed stops the others).
final class ZMQRunControl: Sendable {
    private let stopping = Atomic<Bool>(false)
    private let failure = Mutex<ZMQError?>(nil)
    private let wakeups: Mutex<[ZMQWakeup]>
    private let drainDeadline = Mutex<ContinuousClock.Instant?>(nil)
    /// Fulfilled by the publishing thread once a drain was asked for and its
    /// queue is empty, or by the drain's own timer at its deadline.
    let drained = ZMQOneShot<Void>()

    init() {
        wakeups = Mutex([])
    }

    var isStopping: Bool { stopping.load(ordering: .acquiring) }

    /// The first failure reported, if any.
    var firstFailure: ZMQError? { failure.withLock { $0 } }

    /// Registers the wakeup of a thread to signal when stopping.
    func register(_ wakeup: ZMQWakeup) {
        wakeups.withLock { $0.append(wakeup) }
        if isStopping { wakeup.signal() }
    }

    /// Asks the publishing thread to report when its queue is empty, and to
    /// let its socket flush until `deadline` when it closes.
    func requestDrain(until deadline: ContinuousClock.Instant) {
        drainDeadline.withLock { $0 = deadline }
    }

    /// The deadline of a drain asked for, if any.
    var drainRequest: ContinuousClock.Instant? { drainDeadline.withLock { $0 } }

    /// Stops every thread of the run; a failure is kept (the first one wins).
    func stop(failure error: ZMQError? = nil) {
        if let error {
            failure.withLock { if $0 == nil { $0 = error } }
        }
        stopping.store(true, ordering: .releasing)
        for wakeup in wakeups.withLock({ $0 }) { wakeup.signal() }
    }
}

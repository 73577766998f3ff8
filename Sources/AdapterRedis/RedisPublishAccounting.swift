import Combo
import Logging
import NIOCore
import NIOPosix
import Synchronization

/// What becomes of the `PUBLISH`es of a node's connections once they are
/// accepted: the receivers Redis reports against those expected, and the
/// ones whose connection closed before Redis answered. Every loss is
/// counted (``RedisMetrics``) and reported in a warning, at most one line per
/// ``logInterval`` per adapter, carrying the counts since the last line.
final class RedisPublishAccounting: Sendable {
    /// The shortest time between two warnings about lost or underdelivered `PUBLISH`es.
    static let logInterval: Duration = .seconds(5)

    /// The other nodes, from which a broadcast's expected receivers follow.
    let membership: RedisMembership
    private let metrics: RedisMetrics
    private let log: LossLog

    init(membership: RedisMembership, metrics: RedisMetrics, logger: Logger, eventLoop: any EventLoop) {
        self.membership = membership
        self.metrics = metrics
        self.log = LossLog(logger: logger, eventLoop: eventLoop)
    }

    /// Accounting for a connection outside any adapter (tools, tests): a
    /// membership of its own, knowing no other node.
    static func standalone(metrics: RedisMetrics, logger: Logger) -> RedisPublishAccounting {
        let membership = RedisMembership(
            node: NodeIdentity(name: "standalone", incarnation: Incarnation(rawValue: 0)),
            gauge: metrics.knownNodes
        )
        return RedisPublishAccounting(
            membership: membership, metrics: metrics, logger: logger, eventLoop: MultiThreadedEventLoopGroup.singleton.next())
    }

    /// Redis answered a broadcast's `PUBLISH` with `receivers`.
    ///
    /// - Returns: the receivers expected.
    @discardableResult
    func answeredBroadcast(receivers: Int64) -> Int {
        let expected = membership.expectedBroadcastReceivers
        if receivers < expected { underdelivered(missing: expected - Int(receivers)) }
        return expected
    }

    /// Redis answered a direct envelope's `PUBLISH` with `receivers` (one expected: the target's subscriber).
    func answeredDirect(receivers: Int64) {
        if receivers < 1 { underdelivered(missing: 1) }
    }

    /// `count` accepted `PUBLISH`es will never be answered: their connection closed first.
    func unconfirmed(_ count: Int) {
        guard count > 0 else { return }
        metrics.unconfirmed.increment(by: Int64(count))
        log.record(unconfirmed: count, underdelivered: 0, missing: 0)
    }

    private func underdelivered(missing: Int) {
        metrics.underdelivered.increment()
        metrics.missingReceivers.increment(by: Int64(missing))
        log.record(unconfirmed: 0, underdelivered: 1, missing: missing)
    }
}

/// The rate-limited warning of ``RedisPublishAccounting``: a line at once
/// when none was written within ``RedisPublishAccounting/logInterval``,
/// otherwise the counts wait for a line at the end of the interval.
private final class LossLog: Sendable {
    private struct Counts {
        var unconfirmed = 0
        var underdelivered = 0
        var missing = 0
        var lastLine: ContinuousClock.Instant?
        var flushScheduled = false
    }

    private let counts = Mutex(Counts())
    private let logger: Logger
    private let eventLoop: any EventLoop

    init(logger: Logger, eventLoop: any EventLoop) {
        self.logger = logger
        self.eventLoop = eventLoop
    }

    func record(unconfirmed: Int, underdelivered: Int, missing: Int) {
        let now = ContinuousClock.now
        enum Action { case write(Counts), schedule(Duration), none }
        let action = counts.withLock { counts -> Action in
            counts.unconfirmed += unconfirmed
            counts.underdelivered += underdelivered
            counts.missing += missing
            if let last = counts.lastLine, now - last < RedisPublishAccounting.logInterval {
                guard !counts.flushScheduled else { return .none }
                counts.flushScheduled = true
                return .schedule(last + RedisPublishAccounting.logInterval - now)
            }
            return .write(take(&counts, now: now))
        }
        switch action {
        case .write(let taken): write(taken)
        case .schedule(let delay):
            eventLoop.scheduleTask(in: delay.timeAmount) { self.flush() }
        case .none: break
        }
    }

    private func flush() {
        let taken = counts.withLock { counts -> Counts? in
            counts.flushScheduled = false
            guard counts.unconfirmed + counts.underdelivered > 0 else { return nil }
            return take(&counts, now: .now)
        }
        if let taken { write(taken) }
    }

    private func take(_ counts: inout Counts, now: ContinuousClock.Instant) -> Counts {
        let taken = counts
        counts.unconfirmed = 0
        counts.underdelivered = 0
        counts.missing = 0
        counts.lastLine = now
        return taken
    }

    private func write(_ counts: Counts) {
        logger.warning(
            "redis publishes lost or underdelivered since the last report",
            metadata: [
                "unconfirmed": "\(counts.unconfirmed)",
                "underdelivered": "\(counts.underdelivered)",
                "missingReceivers": "\(counts.missing)",
            ]
        )
    }
}

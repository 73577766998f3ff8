import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// How healthy this process's own timing is: the Lifeguard idea from SWIM,
/// "local health before blame".
///
/// A node starved of CPU, or paused (`SIGSTOP`, a suspended VM), runs its
/// timers late and reads its sockets late; the silence it then measures is
/// its own fault, not its peers'. A monitor ticks every ``period`` and
/// measures how late each tick fires. Failure detectors ask
/// ``mayDeclareDown(silence:timeout:at:)`` before declaring a peer down:
///
/// - a peer is declared down only once its silence exceeds the timeout plus
///   the recent local lateness (the largest lateness of the last
///   ``window`` ticks, or of the tick now overdue);
/// - never within one timeout after a pause was detected (a tick late by
///   more than ``pauseThreshold``), so that a node waking up first gives its
///   peers a whole timeout to be heard from;
/// - and never while the monitor's own tick is overdue by more than
///   ``pauseThreshold``: the process is waking from a pause right now and the
///   monitor has not run yet.
///
/// One monitor serves the whole process (``shared``), because starvation and
/// pauses are the process's: the mesh's liveness detection and the tracker's
/// down detection both use it, and a custom adapter's failure detector can
/// too. A monitor that was never started answers from silence alone, as a
/// plain failure detector.
public final class LocalHealth: Sendable {
    /// The process-wide monitor; started by the first component that uses it.
    public static let shared = LocalHealth()

    /// How often the monitor ticks.
    public let period: Duration
    /// A tick later than this means the process was paused (or starved as badly).
    public let pauseThreshold: Duration
    /// How many recent ticks the lateness figure covers.
    public let window: Int

    private struct State {
        var started = false
        /// When the last tick ran; `nil` until the monitor runs.
        var lastTick: ContinuousClock.Instant?
        /// The lateness of the last ``window`` ticks, a ring.
        var lateness: [Duration] = []
        var next = 0
        /// When the last pause ended (the late tick that revealed it).
        var lastPause: ContinuousClock.Instant?
        var pauses = 0
    }

    private let state = Mutex(State())

    /// Makes a monitor; it measures nothing until ``start()`` (or until a
    /// test feeds it ticks with ``recordTick(at:)``).
    ///
    /// - Parameters:
    ///   - period: how often the monitor ticks (100 ms by default).
    ///   - pauseThreshold: how late a tick must be to count as a pause (1 s by default).
    ///   - window: how many ticks the recent lateness covers (50 by default: 5 s).
    public init(period: Duration = .milliseconds(100), pauseThreshold: Duration = .seconds(1), window: Int = 50) {
        precondition(period > .zero && pauseThreshold > .zero && window >= 1, "invalid LocalHealth parameters")
        self.period = period
        self.pauseThreshold = pauseThreshold
        self.window = window
    }

    /// Starts ticking; later calls do nothing.
    ///
    /// The ticker is a thread of its own, not a task: a cooperative pool kept
    /// busy by the application must not look like a paused process. It runs
    /// as long as the process, at the cost of one wake-up per ``period``.
    public func start() {
        let first = state.withLock { state in
            defer { state.started = true }
            return !state.started
        }
        guard first else { return }
        recordTick(at: .now)
        Self.startThread(for: self)
    }

    /// Ticks forever: sleeps a period, then records how late it woke.
    private func tickForever() -> Never {
        let nanoseconds = max(1, period.components.seconds * 1_000_000_000 + period.components.attoseconds / 1_000_000_000)
        while true {
            var request = timespec(tv_sec: Int(nanoseconds / 1_000_000_000), tv_nsec: Int(nanoseconds % 1_000_000_000))
            var remaining = timespec()
            while nanosleep(&request, &remaining) != 0 { request = remaining }
            recordTick(at: .now)
        }
    }

    private static func startThread(for health: LocalHealth) {
        let box = Unmanaged.passRetained(health).toOpaque()
        #if canImport(Glibc)
        var thread = pthread_t()
        let status = pthread_create(&thread, nil, { argument in
            Unmanaged<LocalHealth>.fromOpaque(argument!).takeRetainedValue().tickForever()
        }, box)
        if status == 0 { pthread_detach(thread) }
        #else
        var thread: pthread_t?
        let status = pthread_create(&thread, nil, { argument in
            Unmanaged<LocalHealth>.fromOpaque(argument).takeRetainedValue().tickForever()
        }, box)
        if status == 0, let thread { pthread_detach(thread) }
        #endif
        if status != 0 {
            // No monitor: detectors judge by silence alone, as before it existed.
            Unmanaged<LocalHealth>.fromOpaque(box).release()
            health.state.withLock { $0.lastTick = nil }
        }
    }

    /// Records a tick that ran at `now`: its lateness is the time since the
    /// previous tick beyond one ``period``. The ticker calls it; tests call it
    /// with a controlled clock.
    public func recordTick(at now: ContinuousClock.Instant) {
        state.withLock { state in
            defer { state.lastTick = now }
            guard let last = state.lastTick else { return }
            let lateness = max(.zero, now - last - period)
            if state.lateness.count < window {
                state.lateness.append(lateness)
            } else {
                state.lateness[state.next] = lateness
                state.next = (state.next + 1) % window
            }
            if lateness > pauseThreshold {
                state.lastPause = now
                state.pauses += 1
            }
        }
    }

    /// What the monitor knows at `now`.
    public func reading(at now: ContinuousClock.Instant = .now) -> LocalHealthReading {
        state.withLock { state in
            guard let last = state.lastTick else {
                return LocalHealthReading(lateness: .zero, lastPause: nil, pauses: 0)
            }
            // The tick now due counts too, however late it already is.
            let overdue = max(.zero, now - last - period)
            var lateness = state.lateness.max() ?? .zero
            lateness = max(lateness, overdue)
            var lastPause = state.lastPause
            var pauses = state.pauses
            if overdue > pauseThreshold {
                // Waking from a pause the monitor has not run since.
                lastPause = now
                pauses += 1
            }
            return LocalHealthReading(lateness: lateness, lastPause: lastPause, pauses: pauses)
        }
    }

    /// Whether a peer silent for `silence` may be declared down now, given
    /// the detector's `timeout` (see the type's documentation).
    public func mayDeclareDown(silence: Duration, timeout: Duration, at now: ContinuousClock.Instant = .now) -> Bool {
        reading(at: now).mayDeclareDown(silence: silence, timeout: timeout, at: now)
    }
}

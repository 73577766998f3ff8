/// What a ``LocalHealth`` monitor knows at one instant, and the decision
/// built on it: pure, so detectors and tests can judge with any clock.
public struct LocalHealthReading: Sendable, Equatable {
    /// The largest recent lateness of the monitor's ticks, the one now due included.
    public var lateness: Duration
    /// When the last pause was detected (the process woke up), if ever.
    public var lastPause: ContinuousClock.Instant?
    /// How many pauses were detected so far.
    public var pauses: Int

    /// Makes a reading (monitors make them; tests may too).
    public init(lateness: Duration, lastPause: ContinuousClock.Instant?, pauses: Int) {
        self.lateness = lateness
        self.lastPause = lastPause
        self.pauses = pauses
    }

    /// A reading of a healthy process: no lateness, no pause.
    public static let healthy = LocalHealthReading(lateness: .zero, lastPause: nil, pauses: 0)

    /// Whether a peer silent for `silence` may be declared down at `now` by
    /// a detector whose timeout is `timeout`: only when the silence exceeds
    /// the timeout plus the recent local lateness, and not within one
    /// timeout after a pause.
    public func mayDeclareDown(silence: Duration, timeout: Duration, at now: ContinuousClock.Instant) -> Bool {
        if let lastPause, now - lastPause < timeout { return false }
        return silence > timeout + lateness
    }

    /// Whether a pause was detected less than `interval` before `now`.
    public func pausedWithin(_ interval: Duration, of now: ContinuousClock.Instant) -> Bool {
        guard let lastPause else { return false }
        return now - lastPause < interval
    }
}

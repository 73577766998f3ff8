/// Why a ``Tracker/Configuration`` was refused; thrown by ``Tracker/init(configuration:pubsub:handler:logger:)``.
///
/// The rules are Phoenix.Tracker's: a down period of at least two broadcast
/// periods, a permdown period longer than the down period.
public enum TrackerConfigurationError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The tracker's name is empty, too long, or holds a control character.
    case invalidName(String)
    /// `poolSize` is below 1.
    case invalidPoolSize(Int)
    /// `broadcastPeriod` is zero or negative.
    case invalidBroadcastPeriod(Duration)
    /// `maxSilentPeriods` is below 1.
    case invalidMaxSilentPeriods(Int)
    /// `downPeriod` is shorter than twice the broadcast period.
    case downPeriodTooShort(downPeriod: Duration, broadcastPeriod: Duration)
    /// `permdownPeriod` is not longer than the down period.
    case permdownPeriodTooShort(permdownPeriod: Duration, downPeriod: Duration)
    /// `clockSamplePeriods` is below 1.
    case invalidClockSamplePeriods(Int)
    /// `maxDeltaSizes` is empty, or holds a size below 1, or is not increasing.
    case invalidMaxDeltaSizes([Int])
    /// `eventBufferLimit` is below 1.
    case invalidEventBufferLimit(Int)
    /// `handlerBufferLimit` is below 1.
    case invalidHandlerBufferLimit(Int)

    public var description: String {
        switch self {
        case .invalidName(let name):
            "tracker name \(name.debugDescription) must be 1 to 200 printable characters"
        case .invalidPoolSize(let size):
            "poolSize must be at least 1, got \(size)"
        case .invalidBroadcastPeriod(let period):
            "broadcastPeriod must be positive, got \(period)"
        case .invalidMaxSilentPeriods(let periods):
            "maxSilentPeriods must be at least 1, got \(periods)"
        case .downPeriodTooShort(let down, let broadcast):
            "downPeriod (\(down)) must be at least twice as large as broadcastPeriod (\(broadcast))"
        case .permdownPeriodTooShort(let permdown, let down):
            "permdownPeriod (\(permdown)) must be larger than downPeriod (\(down))"
        case .invalidClockSamplePeriods(let periods):
            "clockSamplePeriods must be at least 1, got \(periods)"
        case .invalidMaxDeltaSizes(let sizes):
            "maxDeltaSizes must be a non-empty increasing list of positive sizes, got \(sizes)"
        case .invalidEventBufferLimit(let limit):
            "eventBufferLimit must be at least 1, got \(limit)"
        case .invalidHandlerBufferLimit(let limit):
            "handlerBufferLimit must be at least 1, got \(limit)"
        }
    }
}

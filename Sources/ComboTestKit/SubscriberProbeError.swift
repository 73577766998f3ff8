import Combo

/// Why a ``SubscriberProbe`` wait failed.
public enum SubscriberProbeError: Error, Sendable, CustomStringConvertible {
    /// Fewer messages than wanted arrived before the deadline.
    case timedOut(received: Int, wanted: Int, after: Duration)
    /// The subscriber's sequence ended before enough messages arrived.
    case ended(Result<Void, SubscriberError>, received: Int, wanted: Int)

    public var description: String {
        switch self {
        case .timedOut(let received, let wanted, let after):
            "timed out after \(after): \(received) of \(wanted) messages arrived"
        case .ended(let ending, let received, let wanted):
            "the subscriber ended (\(ending)) after \(received) of \(wanted) messages"
        }
    }
}

import NIOCore

extension Duration {
    /// The duration as NIO's `TimeAmount`, to nanosecond precision.
    var timeAmount: TimeAmount {
        let (seconds, attoseconds) = components
        return .nanoseconds(seconds.multipliedReportingOverflow(by: 1_000_000_000).partialValue + attoseconds / 1_000_000_000)
    }

    /// Whether the duration is longer than zero.
    var isPositive: Bool { self > .zero }
}

/// What a ``Subscriber`` does with a message that arrives while its buffer is full.
///
/// A slow subscriber never stalls a broadcast: the broadcaster applies the
/// policy and moves on. Every dropped message is counted, per subscriber
/// (``Subscriber/droppedCount``) and in `combo_dropped_total`.
public enum OverflowPolicy: Sendable, Hashable {
    /// Drop the oldest buffered message to make room: the subscriber sees the latest messages.
    case dropOldest
    /// Drop the arriving message: the subscriber sees the earliest messages.
    case dropNewest
    /// Unsubscribe from everything and end the sequence with
    /// ``SubscriberError/slowConsumer(capacity:)`` once the buffered messages are read.
    case fail
}

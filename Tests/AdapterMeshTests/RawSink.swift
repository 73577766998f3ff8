import Synchronization

/// Where a ``RawCollector`` puts what it reads.
final class RawSink: Sendable {
    let bytes = Mutex<[UInt8]>([])
}

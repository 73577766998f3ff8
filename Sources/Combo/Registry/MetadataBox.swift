/// A subscription's metadata, boxed so that a subscription without metadata
/// costs one nil pointer instead of an inline existential.
final class MetadataBox: Sendable {
    let value: any Hashable & Sendable

    init(_ value: any Hashable & Sendable) {
        self.value = value
    }

    func matches(_ other: any Hashable & Sendable) -> Bool {
        AnyHashable(value) == AnyHashable(other)
    }
}

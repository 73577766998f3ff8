/// The metadata of one presence: the application's values plus the references
/// Combo maintains (`combo_ref`, and `combo_ref_prev` after an update).
///
/// The references live beside the values rather than inside them, so an
/// application can never overwrite them by accident; ``subscript(_:)`` also
/// answers `"combo_ref"` and `"combo_ref_prev"` for code ported from Phoenix.
public struct PresenceMeta: Hashable, Sendable, Codable {
    /// This presence's reference, new on every track and update.
    public var ref: PresenceRef
    /// The reference this presence had before its last update, if it was updated.
    public var previousRef: PresenceRef?
    /// The application's values.
    public var values: [String: PresenceValue]

    /// Makes metadata; ``Tracker`` assigns the references when it tracks or updates.
    public init(ref: PresenceRef, previousRef: PresenceRef? = nil, values: [String: PresenceValue] = [:]) {
        self.ref = ref
        self.previousRef = previousRef
        self.values = values
    }

    /// An application value, or a reference under its Phoenix-style name.
    public subscript(_ name: String) -> PresenceValue? {
        switch name {
        case "combo_ref": .string(ref.description)
        case "combo_ref_prev": previousRef.map { .string($0.description) }
        default: values[name]
        }
    }
}

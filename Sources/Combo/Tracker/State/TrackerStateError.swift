/// Why the tracker state refused an operation.
enum TrackerStateError: Error, Hashable, Sendable, CustomStringConvertible {
    /// `join` for a (topic, owner, key) that is already tracked; the state is unchanged.
    case alreadyTracked(topic: String, key: String)
    /// `join` for an owner of another node: presences are only ever made by their
    /// owner's own node, which is what keeps one (topic, owner, key) to one row.
    case foreignOwner(PresenceOwnerID)
    /// Metadata values nest deeper than the wire format carries (``TrackerWire/maximumDepth``),
    /// so other nodes could not read the presence.
    case metadataTooDeep(limit: Int)
    /// Two deltas whose clock ranges neither overlap nor touch cannot be merged.
    case nonContiguousDelta

    var description: String {
        switch self {
        case .alreadyTracked(let topic, let key): "\(topic)/\(key) is already tracked by this owner"
        case .foreignOwner(let owner): "\(owner) belongs to another node"
        case .metadataTooDeep(let limit): "presence metadata nests deeper than \(limit) levels"
        case .nonContiguousDelta: "the deltas' clock ranges are not contiguous"
        }
    }
}

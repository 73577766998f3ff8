/// Why bytes are not a valid tracker state payload (`docs/WIRE.md`, "Tracker
/// state payloads").
///
/// Readers throw these for any malformed input and never trap; `field` names the
/// part being read, as the documentation names it.
enum TrackerWireError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The input ends inside `field`.
    case truncated(field: String)
    /// The payload's version byte is not one this node reads.
    case unsupportedVersion(UInt8)
    /// The payload kind byte is neither delta (1) nor full state (2).
    case invalidKind(UInt8)
    /// A presence value starts with an unknown type tag.
    case invalidValueTag(UInt8)
    /// Reserved flag bits of `field` are set.
    case invalidFlags(field: String, flags: UInt8)
    /// A variable-length integer of `field` is longer than 10 bytes or exceeds 64 bits.
    case invalidVarint(field: String)
    /// The bytes of `field` are not valid UTF-8.
    case invalidUTF8(field: String)
    /// A replica's name is not a valid node name.
    case invalidNodeName(field: String, reason: NodeNameError)
    /// A count of `field` is larger than the input could hold or than the limit.
    case countOverLimit(field: String, count: UInt64, limit: UInt64)
    /// An index into the replica or topic table is out of range.
    case indexOutOfRange(field: String, index: UInt64, count: Int)
    /// `field` names the same replica, or the same metadata name, twice.
    case duplicate(field: String)
    /// A clock of `field` is 0, out of order, overflows, or ends a range below its start.
    case invalidClock(field: String)
    /// A presence's dot is not in the payload's clouds (or context).
    case valueOutsideClouds
    /// Presence values nest deeper than ``TrackerWire/maximumDepth``.
    case nestingTooDeep(limit: Int)

    /// A short, stable label for metrics and logs (the names docs/WIRE.md uses).
    var label: String {
        switch self {
        case .truncated: "truncated"
        case .unsupportedVersion: "unsupported_version"
        case .invalidKind: "invalid_kind"
        case .invalidValueTag: "invalid_value_tag"
        case .invalidFlags: "invalid_flags"
        case .invalidVarint: "invalid_varint"
        case .invalidUTF8: "invalid_utf8"
        case .invalidNodeName: "invalid_node_name"
        case .countOverLimit: "count_over_limit"
        case .indexOutOfRange: "index_out_of_range"
        case .duplicate: "duplicate"
        case .invalidClock: "invalid_clock"
        case .valueOutsideClouds: "value_outside_clouds"
        case .nestingTooDeep: "nesting_too_deep"
        }
    }

    var description: String {
        switch self {
        case .truncated(let field): "truncated in \(field)"
        case .unsupportedVersion(let version): "unsupported tracker payload version \(version)"
        case .invalidKind(let kind): "invalid tracker payload kind \(kind)"
        case .invalidValueTag(let tag): "invalid presence value tag \(tag)"
        case .invalidFlags(let field, let flags): "reserved bits set in \(field) flags \(flags)"
        case .invalidVarint(let field): "invalid variable-length integer in \(field)"
        case .invalidUTF8(let field): "\(field) is not valid UTF-8"
        case .invalidNodeName(let field, let reason): "invalid node name in \(field): \(reason)"
        case .countOverLimit(let field, let count, let limit): "\(field) count \(count) over the limit \(limit)"
        case .indexOutOfRange(let field, let index, let count): "\(field) index \(index) out of range 0..<\(count)"
        case .duplicate(let field): "duplicate \(field)"
        case .invalidClock(let field): "invalid clock in \(field)"
        case .valueOutsideClouds: "a presence's dot is outside the payload's clouds"
        case .nestingTooDeep(let limit): "presence values nest deeper than \(limit)"
        }
    }
}

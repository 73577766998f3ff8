/// Constants of the tracker state payload format (`docs/WIRE.md`, "Tracker
/// state payloads").
enum TrackerWire {
    /// The payload format version this node writes and reads.
    static let version: UInt8 = 1
    /// The kind byte of a delta payload.
    static let deltaKind: UInt8 = 1
    /// The kind byte of a full-state payload.
    static let fullKind: UInt8 = 2
    /// The deepest nesting of presence values (arrays and maps) a payload may
    /// carry; a top-level metadata value is at depth 1.
    static let maximumDepth = 32
    /// The most replicas one payload's replica table may list.
    static let maximumReplicas = 65_535

    /// Type tag of ``PresenceValue/null``.
    static let nullTag: UInt8 = 0
    /// Type tag of `.bool(false)`.
    static let falseTag: UInt8 = 1
    /// Type tag of `.bool(true)`.
    static let trueTag: UInt8 = 2
    /// Type tag of ``PresenceValue/int(_:)``: a zigzag varint follows.
    static let intTag: UInt8 = 3
    /// Type tag of ``PresenceValue/double(_:)``: the IEEE 754 bits follow as a u64.
    static let doubleTag: UInt8 = 4
    /// Type tag of ``PresenceValue/string(_:)``.
    static let stringTag: UInt8 = 5
    /// Type tag of ``PresenceValue/bytes(_:)``.
    static let bytesTag: UInt8 = 6
    /// Type tag of ``PresenceValue/array(_:)``.
    static let arrayTag: UInt8 = 7
    /// Type tag of ``PresenceValue/map(_:)``.
    static let mapTag: UInt8 = 8

    /// The bit of the metadata flags byte that says a previous reference follows.
    static let previousRefFlag: UInt8 = 0x01

    /// Whether `values` nest no deeper than ``maximumDepth``, so every node can read them.
    static func isWithinDepth(_ values: [String: PresenceValue]) -> Bool {
        values.values.allSatisfy { isWithinDepth($0, depth: 1) }
    }

    /// Whether `value`, at nesting `depth`, and what it holds stay within the limit.
    private static func isWithinDepth(_ value: PresenceValue, depth: Int) -> Bool {
        guard depth <= maximumDepth else { return false }
        switch value {
        case .array(let elements): return elements.allSatisfy { isWithinDepth($0, depth: depth + 1) }
        case .map(let entries): return entries.values.allSatisfy { isWithinDepth($0, depth: depth + 1) }
        default: return true
        }
    }
}

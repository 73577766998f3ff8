/// One value in a presence's metadata: the JSON-like subset of terms that
/// Phoenix applications put in presence maps, in a form every node (and any
/// language following docs/WIRE.md) can decode.
///
/// Literals work: `["status": "away", "typing": false, "devices": 2]`.
public enum PresenceValue: Hashable, Sendable, Codable {
    /// No value (`nil` in Elixir).
    case null
    /// A boolean.
    case bool(Bool)
    /// A signed integer.
    case int(Int64)
    /// A floating-point number.
    case double(Double)
    /// UTF-8 text.
    case string(String)
    /// Raw bytes. The tracker's wire format keeps them as bytes; through a generic
    /// `Codable` coder they become an array of integers, as `[UInt8]` does.
    case bytes([UInt8])
    /// An ordered list of values.
    case array([PresenceValue])
    /// Named values.
    case map([String: PresenceValue])

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() {
            self = .null
        } else if let value = try? container.decode(Bool.self) {
            self = .bool(value)
        } else if let value = try? container.decode(Int64.self) {
            self = .int(value)
        } else if let value = try? container.decode(Double.self) {
            self = .double(value)
        } else if let value = try? container.decode(String.self) {
            self = .string(value)
        } else if let value = try? container.decode([PresenceValue].self) {
            self = .array(value)
        } else if let value = try? container.decode([String: PresenceValue].self) {
            self = .map(value)
        } else {
            throw DecodingError.dataCorruptedError(
                in: container, debugDescription: "not a presence value (null, bool, number, string, array or map)")
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .null: try container.encodeNil()
        case .bool(let value): try container.encode(value)
        case .int(let value): try container.encode(value)
        case .double(let value): try container.encode(value)
        case .string(let value): try container.encode(value)
        case .bytes(let value): try container.encode(value)
        case .array(let value): try container.encode(value)
        case .map(let value): try container.encode(value)
        }
    }
}

extension PresenceValue: ExpressibleByNilLiteral, ExpressibleByBooleanLiteral, ExpressibleByIntegerLiteral,
    ExpressibleByFloatLiteral, ExpressibleByStringLiteral, ExpressibleByArrayLiteral, ExpressibleByDictionaryLiteral
{
    public init(nilLiteral: ()) { self = .null }
    public init(booleanLiteral value: Bool) { self = .bool(value) }
    public init(integerLiteral value: Int64) { self = .int(value) }
    public init(floatLiteral value: Double) { self = .double(value) }
    public init(stringLiteral value: String) { self = .string(value) }
    public init(arrayLiteral elements: PresenceValue...) { self = .array(elements) }
    public init(dictionaryLiteral elements: (String, PresenceValue)...) {
        self = .map(Dictionary(elements, uniquingKeysWith: { _, last in last }))
    }
}

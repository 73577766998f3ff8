/// The name of a node, unique within one cluster.
///
/// The counterpart of an Erlang node name. A name is 1 to 255 bytes of UTF-8
/// without control characters, so that it fits the wire envelope and reads well
/// in logs. A node that restarts keeps its name and gets a new ``Incarnation``.
public struct NodeName: Hashable, Sendable, Codable, Comparable, CustomStringConvertible {
    /// The largest name, in UTF-8 bytes, that the wire envelope can carry.
    public static let maximumLength = 255

    /// The name as text.
    public let rawValue: String

    /// Creates a node name, validating it.
    ///
    /// - Throws: ``NodeNameError`` when the name is empty, too long, or contains
    ///   control characters.
    public init(_ rawValue: String) throws(NodeNameError) {
        let length = rawValue.utf8.count
        guard length > 0 else { throw .empty }
        guard length <= Self.maximumLength else { throw .tooLong(length) }
        // Printable ASCII, the usual case, needs no Unicode property lookups.
        let isPrintableASCII = rawValue.utf8.allSatisfy { (0x20...0x7E).contains($0) }
        guard isPrintableASCII || !rawValue.unicodeScalars.contains(where: { $0.properties.generalCategory == .control })
        else {
            throw .controlCharacter
        }
        self.rawValue = rawValue
    }

    /// Creates a name that the caller has already validated.
    init(validated rawValue: String) {
        self.rawValue = rawValue
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let text = try container.decode(String.self)
        do {
            try self.init(text)
        } catch {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: error.description)
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(rawValue)
    }

    public var description: String { rawValue }

    public static func < (lhs: NodeName, rhs: NodeName) -> Bool { lhs.rawValue < rhs.rawValue }
}

extension NodeName: ExpressibleByStringLiteral {
    /// Creates a node name from a literal; an invalid literal is a programming
    /// error and traps. Names read at run time go through ``init(_:)``: note that
    /// `NodeName("literal")` is this literal form too, so validate text that
    /// comes from outside through a variable.
    public init(stringLiteral value: String) {
        do {
            try self.init(value)
        } catch {
            preconditionFailure("invalid node name literal \(value.debugDescription): \(error)")
        }
    }
}

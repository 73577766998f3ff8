/// What an ``Envelope`` asks the receiving node to do.
public struct EnvelopeKind: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public let rawValue: UInt8

    public init(rawValue: UInt8) {
        self.rawValue = rawValue
    }

    /// Deliver to the topic's subscribers on every node that receives it.
    public static let broadcast = EnvelopeKind(rawValue: 1)
    /// Deliver to the topic's subscribers on the one node named as the target.
    public static let direct = EnvelopeKind(rawValue: 2)

    /// Whether this version of Combo understands the kind; the decoder rejects any other.
    var isKnown: Bool { self == .broadcast || self == .direct }

    public var description: String {
        switch self {
        case .broadcast: "broadcast"
        case .direct: "direct"
        default: "kind(\(rawValue))"
        }
    }
}

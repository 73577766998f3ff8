import struct Foundation.Date

/// One boot of a node: a node that restarts keeps its ``NodeName`` and gets a new incarnation.
///
/// Incarnations order boots of the same node: a new one is made from the wall
/// clock in milliseconds (high bits) and random bits (low 20 bits), so a later
/// boot compares greater unless the clock went back, and two boots in the same
/// millisecond still differ. Liveness never uses this value as a clock.
public struct Incarnation: Hashable, Sendable, Codable, Comparable, CustomStringConvertible {
    /// The incarnation as sent on the wire.
    public let rawValue: UInt64

    /// Wraps a raw incarnation read from the wire or from configuration.
    public init(rawValue: UInt64) {
        self.rawValue = rawValue
    }

    /// Makes the incarnation of a new boot.
    public static func next() -> Incarnation {
        let milliseconds = UInt64(max(0, Date().timeIntervalSince1970 * 1000))
        let random = UInt64.random(in: 0..<(1 << 20))
        return Incarnation(rawValue: (milliseconds << 20) | random)
    }

    public var description: String { String(rawValue, radix: 16) }

    public static func < (lhs: Incarnation, rhs: Incarnation) -> Bool { lhs.rawValue < rhs.rawValue }
}

/// A reference that changes every time a presence is tracked or updated: Combo's
/// `combo_ref` (Phoenix's `phx_ref`).
///
/// Clients use it to tell one join of a key from the next, for example a user who
/// opened a second tab. It is 64 random bits, shown as 11 URL-safe base64
/// characters so it fits in a small string without a heap allocation.
public struct PresenceRef: Hashable, Sendable, Codable, CustomStringConvertible {
    /// The 64 bits of the reference.
    public let rawValue: UInt64

    /// Wraps a reference received from elsewhere.
    public init(rawValue: UInt64) {
        self.rawValue = rawValue
    }

    /// A new random reference.
    public static func random() -> PresenceRef {
        var generator = SystemRandomNumberGenerator()
        return PresenceRef(rawValue: generator.next())
    }

    private static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".utf8)

    public var description: String {
        var bits = rawValue
        var characters = [UInt8](repeating: 0, count: 11)
        for index in stride(from: 10, through: 0, by: -1) {
            characters[index] = Self.alphabet[Int(bits & 63)]
            bits >>= 6
        }
        return String(decoding: characters, as: UTF8.self)
    }
}

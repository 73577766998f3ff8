import Synchronization

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

    /// A new reference: unpredictable, and distinct from every other one this
    /// process makes.
    ///
    /// A system random number per reference costs a system call on every track;
    /// instead a counter starting at a random point goes through SplitMix64's
    /// finaliser, a bijection, so no two calls in a process collide and the
    /// results look random.
    public static func random() -> PresenceRef {
        let counter = Self.counter.wrappingAdd(0x9E37_79B9_7F4A_7C15, ordering: .relaxed).newValue
        var mixed = counter
        mixed = (mixed ^ (mixed >> 30)) &* 0xBF58_476D_1CE4_E5B9
        mixed = (mixed ^ (mixed >> 27)) &* 0x94D0_49BB_1331_11EB
        return PresenceRef(rawValue: mixed ^ (mixed >> 31))
    }

    private static let counter = Atomic<UInt64>(UInt64.random(in: .min ... .max))

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

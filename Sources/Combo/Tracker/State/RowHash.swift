/// The hashes of the keys ``TrackerState`` indexes rows by.
///
/// Keys holding text go through the standard library's seeded `Hasher`;
/// integer keys go through a cheaper mixer (SplitMix64's finaliser) keyed by a
/// per-process random seed, which spreads sequential clocks and owner numbers
/// evenly at a fraction of the cost.
enum RowHash {
    /// Keys the mixer per process, as `Hasher` is.
    private static let seed = UInt64.random(in: .min ... .max)

    /// SplitMix64's finaliser of the seeded value.
    @inline(__always)
    private static func mix(_ value: UInt64) -> Int {
        var bits = value ^ seed
        bits = (bits ^ (bits >> 30)) &* 0xBF58_476D_1CE4_E5B9
        bits = (bits ^ (bits >> 27)) &* 0x94D0_49BB_1331_11EB
        return Int(truncatingIfNeeded: bits ^ (bits >> 31))
    }

    /// The hash of a (topic, replica, owner, key) key.
    static func key(topic: UInt32, replica: UInt32, owner: UInt64, key: String) -> Int {
        var hasher = Hasher()
        hasher.combine(UInt64(topic) << 32 | UInt64(replica))
        hasher.combine(owner)
        hasher.combine(key)
        return hasher.finalize()
    }

    /// The hash of a tag.
    @inline(__always)
    static func tag(replica: UInt32, clock: UInt64) -> Int {
        mix(clock &* 0x9E37_79B9_7F4A_7C15 ^ UInt64(replica))
    }

    /// The hash of a local owner.
    @inline(__always)
    static func owner(_ sequence: UInt64) -> Int {
        mix(sequence)
    }
}

/// The stable hash of a topic: 32-bit FNV-1a over its UTF-8 bytes.
///
/// Swift's `Hasher` is seeded per process, so it cannot pick a shard that other
/// processes (or programs in other languages, see `docs/WIRE.md`) agree on.
func stableTopicHash(_ topic: String) -> UInt32 {
    var hash: UInt32 = 0x811C_9DC5
    var topic = topic
    topic.withUTF8 { bytes in
        for byte in bytes {
            hash = (hash ^ UInt32(byte)) &* 0x0100_0193
        }
    }
    return hash
}

import Combo
import NIOCore
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Recognises this node's own broadcasts, which Redis sends back to it, from
/// the first bytes of the envelope (magic, version, and the origin's name
/// and incarnation at offset 8; see `docs/WIRE.md`).
///
/// The `InboundReceiver` would ignore them too, but only after a hop to a
/// lane's task and a full decode: in a cluster where every node broadcasts,
/// a node's own echoes are a large share of what it reads.
struct RedisEchoFilter: Sendable {
    /// `43 42 01`, then the kind, flags, codec and shard (not compared), then the origin.
    private let head: [UInt8] = [0x43, 0x42, 0x01]
    /// The origin as the envelope writes it: length, UTF-8 name, incarnation.
    private let origin: [UInt8]

    init(node: NodeIdentity) {
        let name = Array(node.name.rawValue.utf8)
        var origin = [UInt8(truncatingIfNeeded: name.count)] + name
        withUnsafeBytes(of: node.incarnation.rawValue.bigEndian) { origin.append(contentsOf: $0) }
        self.origin = origin
    }

    /// Whether `envelope` is a plain (uncompressed) envelope of this wire version sent by this node boot.
    func isOwnEcho(_ envelope: ByteBuffer) -> Bool {
        guard envelope.readableBytes >= 8 + origin.count else { return false }
        return envelope.withUnsafeReadableBytes { bytes in
            origin.withUnsafeBytes { origin in
                bytes[0] == head[0] && bytes[1] == head[1] && bytes[2] == head[2]
                    && memcmp(bytes.baseAddress! + 8, origin.baseAddress!, origin.count) == 0
            }
        }
    }
}

import Combo
import NIOCore

/// A membership message on a cluster's `#nodes` channel: a node saying that
/// it is up (`hello`, every ``interval``) or that it is leaving (`bye`).
///
/// ```
/// offset  size  field
/// 0       2     magic "CH" (43 48)
/// 2       1     version, 1
/// 3       1     kind: 1 hello, 2 bye
/// 4       8     incarnation, big-endian
/// 12      1     name length n (1...255)
/// 13      n     node name, UTF-8
/// ```
///
/// Nothing follows the name. The nodes a node hears from tell it how many
/// receivers a broadcast should reach (see ``RedisMembership``).
struct RedisHello: Sendable, Hashable {
    /// What the sender says.
    enum Kind: UInt8, Sendable {
        /// The sender is up.
        case hello = 1
        /// The sender is leaving: forget it now rather than after ``RedisMembership/timeout``.
        case bye = 2
    }

    /// How often a node says hello.
    static let interval: Duration = .seconds(1)
    private static let magic: (UInt8, UInt8) = (0x43, 0x48)
    private static let version: UInt8 = 1

    var kind: Kind
    var node: NodeIdentity

    /// Whether `bytes` start with the magic of a membership message (envelopes start with "CB" or "CZ").
    static func isHello(_ bytes: ByteBuffer) -> Bool {
        bytes.getInteger(at: bytes.readerIndex, as: UInt16.self) == UInt16(magic.0) << 8 | UInt16(magic.1)
    }

    /// The message's bytes.
    func encoded(allocator: ByteBufferAllocator) -> ByteBuffer {
        let name = node.name.rawValue.utf8
        var buffer = allocator.buffer(capacity: 13 + name.count)
        buffer.writeInteger(Self.magic.0)
        buffer.writeInteger(Self.magic.1)
        buffer.writeInteger(Self.version)
        buffer.writeInteger(kind.rawValue)
        buffer.writeInteger(node.incarnation.rawValue)
        buffer.writeInteger(UInt8(truncatingIfNeeded: name.count))
        buffer.writeBytes(name)
        return buffer
    }

    /// Reads a message; `nil` when the bytes are not exactly one valid message of this version.
    init?(decoding bytes: ByteBuffer) {
        var bytes = bytes
        guard Self.isHello(bytes), bytes.readableBytes >= 13 else { return nil }
        bytes.moveReaderIndex(forwardBy: 2)
        guard bytes.readInteger(as: UInt8.self) == Self.version,
            let kind = bytes.readInteger(as: UInt8.self).flatMap(Kind.init(rawValue:)),
            let incarnation = bytes.readInteger(as: UInt64.self),
            let length = bytes.readInteger(as: UInt8.self),
            length > 0, bytes.readableBytes == Int(length),
            let text = bytes.readString(length: Int(length)),
            let name = try? NodeName(text)
        else {
            return nil
        }
        self.kind = kind
        self.node = NodeIdentity(name: name, incarnation: Incarnation(rawValue: incarnation))
    }

    /// A message of `kind` from `node`.
    init(kind: Kind, node: NodeIdentity) {
        self.kind = kind
        self.node = node
    }
}

import Combo
import NIOCore

/// The first frame each side of a connection sends: who it is.
///
/// Body: magic `CMSH`, mesh version (`u8`), role (`u8`), PubSub name (`u16`
/// length + UTF-8), node name (`u8` length + UTF-8), incarnation (`u64`),
/// advertised host (`u8` length + UTF-8), advertised port (`u16`), pool size
/// (`u16`), lane index (`u16`), nonce (32 bytes). All integers big-endian.
struct MeshHello: Sendable, Hashable {
    static let magic: [UInt8] = Array("CMSH".utf8)
    static let nonceSize = 32

    var version: UInt8
    var role: MeshRole
    var pubSubName: String
    var node: NodeIdentity
    var address: MeshAddress
    /// The sender's `poolSize`: how many lanes it wants from each peer.
    var poolSize: Int
    /// Which lane of the receiver's pool a dialled connection is (0 from a listener);
    /// counted in the receiver's pool size, so it may exceed the sender's.
    var lane: Int
    var nonce: [UInt8]

    /// This hello's frame body; the exact bytes the proofs cover.
    func encoded(allocator: ByteBufferAllocator) -> ByteBuffer {
        var buffer = allocator.buffer(capacity: 96 + pubSubName.utf8.count + node.name.rawValue.utf8.count + address.host.utf8.count)
        buffer.writeBytes(Self.magic)
        buffer.writeInteger(version)
        buffer.writeInteger(role.rawValue)
        buffer.writeMediumText(pubSubName)
        buffer.writeShortText(node.name.rawValue)
        buffer.writeInteger(node.incarnation.rawValue)
        buffer.writeShortText(address.host)
        buffer.writeInteger(UInt16(address.port))
        buffer.writeInteger(UInt16(poolSize))
        buffer.writeInteger(UInt16(lane))
        buffer.writeBytes(nonce)
        return buffer
    }

    /// Parses a hello body. The version is read before anything else so that a
    /// peer of another version is told apart from garbage.
    init(decoding body: ByteBuffer) throws(MeshRejection) {
        var body = body
        guard body.readBytes(length: 4) == Self.magic else { throw .malformed }
        version = try body.readField()
        guard version == MeshWireVersion.current else { throw .version }
        guard let role = MeshRole(rawValue: try body.readField()) else { throw .malformed }
        self.role = role
        pubSubName = try body.readMediumText()
        let name: NodeName
        do {
            name = try NodeName(try body.readShortText())
        } catch {
            throw .malformed
        }
        node = NodeIdentity(name: name, incarnation: Incarnation(rawValue: try body.readField()))
        let host = try body.readShortText()
        address = MeshAddress(host: host, port: Int(try body.readField(UInt16.self)))
        poolSize = Int(try body.readField(UInt16.self))
        lane = Int(try body.readField(UInt16.self))
        guard poolSize >= 1, let nonce = body.readBytes(length: Self.nonceSize), body.readableBytes == 0 else {
            throw .malformed
        }
        self.nonce = nonce
    }

    init(role: MeshRole, pubSubName: String, node: NodeIdentity, address: MeshAddress, poolSize: Int, lane: Int) {
        self.version = MeshWireVersion.current
        self.role = role
        self.pubSubName = pubSubName
        self.node = node
        self.address = address
        self.poolSize = poolSize
        self.lane = lane
        var generator = SystemRandomNumberGenerator()
        self.nonce = (0..<Self.nonceSize).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
    }
}

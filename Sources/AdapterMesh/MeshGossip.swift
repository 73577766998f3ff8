import Combo
import NIOCore

/// The body of a gossip frame: the members the sender knows, itself included.
///
/// Body: count (`u16`), then per member: node name (`u8` length + UTF-8),
/// incarnation (`u64`), host (`u8` length + UTF-8), port (`u16`).
struct MeshGossip: Sendable, Hashable {
    /// The most members one frame carries (the count is a `u16`).
    static let maximumMembers = Int(UInt16.max)

    var members: [MeshMember]

    /// Gossip of `members`, cut so that its body fits in `byteLimit` bytes:
    /// the members left out are still learned through the others' gossip.
    init(members: [MeshMember], byteLimit: Int = .max) {
        var size = 2
        var kept: [MeshMember] = []
        for member in members.prefix(Self.maximumMembers) {
            size += 12 + member.node.name.rawValue.utf8.count + member.address.host.utf8.count
            guard size <= byteLimit else { break }
            kept.append(member)
        }
        self.members = kept
    }

    func encoded(allocator: ByteBufferAllocator) -> ByteBuffer {
        var buffer = allocator.buffer(capacity: 2 + members.count * 64)
        buffer.writeInteger(UInt16(members.count))
        for member in members {
            buffer.writeShortText(member.node.name.rawValue)
            buffer.writeInteger(member.node.incarnation.rawValue)
            buffer.writeShortText(member.address.host)
            buffer.writeInteger(UInt16(member.address.port))
        }
        return buffer
    }

    init(decoding body: ByteBuffer) throws(MeshRejection) {
        var body = body
        let count = Int(try body.readField(UInt16.self))
        var members: [MeshMember] = []
        members.reserveCapacity(min(count, Self.maximumMembers))
        for _ in 0..<count {
            let name: NodeName
            do {
                name = try NodeName(try body.readShortText())
            } catch {
                throw .malformed
            }
            let incarnation = Incarnation(rawValue: try body.readField())
            let host = try body.readShortText()
            let port = Int(try body.readField(UInt16.self))
            guard !host.isEmpty, port > 0 else { throw .malformed }
            members.append(MeshMember(node: NodeIdentity(name: name, incarnation: incarnation), address: MeshAddress(host: host, port: port)))
        }
        guard body.readableBytes == 0 else { throw .malformed }
        self.members = members
    }
}

import Combo

/// A node of the peer topology as it announces itself: its identity and the
/// endpoint where its publishing socket listens.
///
/// A node subscribes to its hello topic at every peer (``ZMQTopics/hello``
/// followed by ``encoded``); no message is ever published there. The
/// subscription itself is the announcement: a peer's publishing socket (an
/// XPUB) reads it, connects back to ``endpoint``, and welcomes the node.
struct ZMQPeerAnnouncement: Sendable, Hashable {
    static let version: UInt8 = 1

    let node: NodeIdentity
    let endpoint: String

    /// `version u8 | name length u8 | name | incarnation u64 | endpoint length u16 | endpoint`.
    var encoded: [UInt8] {
        var bytes: [UInt8] = [Self.version]
        append(to: &bytes)
        return bytes
    }

    /// Appends `name length u8 | name | incarnation u64 | endpoint length u16 | endpoint`.
    func append(to bytes: inout [UInt8]) {
        let name = Array(node.name.rawValue.utf8)
        let endpointBytes = Array(endpoint.utf8.prefix(Int(UInt16.max)))
        bytes.append(UInt8(name.count))
        bytes += name
        withUnsafeBytes(of: node.incarnation.rawValue.bigEndian) { bytes.append(contentsOf: $0) }
        withUnsafeBytes(of: UInt16(endpointBytes.count).bigEndian) { bytes.append(contentsOf: $0) }
        bytes += endpointBytes
    }

    /// Reads what ``append(to:)`` wrote.
    static func read(from reader: inout ZMQByteReader) -> ZMQPeerAnnouncement? {
        guard let length = reader.readUInt8(), let text = reader.readString(Int(length)),
            let name = try? NodeName(text), let incarnation = reader.readUInt64(),
            let endpointLength = reader.readUInt16(), let endpoint = reader.readString(Int(endpointLength)),
            !endpoint.isEmpty
        else { return nil }
        return ZMQPeerAnnouncement(node: NodeIdentity(name: name, incarnation: Incarnation(rawValue: incarnation)), endpoint: endpoint)
    }

    /// Parses a hello subscription's bytes after the hello topic.
    static func parseHello(_ bytes: UnsafeRawBufferPointer) throws(ZMQFrameError) -> ZMQPeerAnnouncement {
        var reader = ZMQByteReader(bytes)
        guard reader.readUInt8() == version, let announcement = read(from: &reader), reader.remaining == 0 else {
            throw .malformedHello
        }
        return announcement
    }
}

/// The body of a welcome: the endpoint of the node that welcomes (whose
/// identity is in the header) and the peers it knows, so that a node that
/// knows one member of the cluster comes to know them all.
///
/// `endpoint length u16 | endpoint | peer count u16 | peers (see ZMQPeerAnnouncement)`.
struct ZMQWelcome: Sendable, Hashable {
    /// The most peers one welcome lists.
    static let maximumPeers = 1024

    let endpoint: String
    let peers: [ZMQPeerAnnouncement]

    var encoded: [UInt8] {
        let endpointBytes = Array(endpoint.utf8.prefix(Int(UInt16.max)))
        var bytes: [UInt8] = []
        withUnsafeBytes(of: UInt16(endpointBytes.count).bigEndian) { bytes.append(contentsOf: $0) }
        bytes += endpointBytes
        let listed = peers.prefix(Self.maximumPeers)
        withUnsafeBytes(of: UInt16(listed.count).bigEndian) { bytes.append(contentsOf: $0) }
        for peer in listed { peer.append(to: &bytes) }
        return bytes
    }

    static func parse(_ bytes: UnsafeRawBufferPointer) throws(ZMQFrameError) -> ZMQWelcome {
        var reader = ZMQByteReader(bytes)
        guard let length = reader.readUInt16(), let endpoint = reader.readString(Int(length)),
            let count = reader.readUInt16(), Int(count) <= maximumPeers
        else { throw .malformedWelcome }
        var peers: [ZMQPeerAnnouncement] = []
        for _ in 0..<count {
            guard let peer = ZMQPeerAnnouncement.read(from: &reader) else { throw .malformedWelcome }
            peers.append(peer)
        }
        guard reader.remaining == 0 else { throw .malformedWelcome }
        return ZMQWelcome(endpoint: endpoint, peers: peers)
    }
}

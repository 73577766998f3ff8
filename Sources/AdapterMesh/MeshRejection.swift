/// Why a connection was refused or closed before or during its handshake: the
/// `reason` label of `combo_mesh_rejected_connections_total`.
enum MeshRejection: String, Sendable, Hashable, Error, CustomStringConvertible {
    /// A length prefix above the frame limit (checked before any allocation).
    case oversized
    /// A frame that does not parse: unknown type, bad magic, bad field.
    case malformed
    /// The connection ended in the middle of a frame.
    case truncated
    /// A frame that is not allowed at this point of the handshake.
    case unexpectedFrame = "unexpected_frame"
    /// The peer speaks another mesh protocol version.
    case version
    /// The peer belongs to another PubSub.
    case pubSubName = "pubsub_name"
    /// The peer's proof does not verify: it does not know the cluster secret.
    case authentication
    /// The peer uses this node's own name.
    case nameClash = "name_clash"
    /// The node reached itself (a seed that is its own address under another name).
    case ownNode = "own_node"
    /// The peer is an older boot of a node whose newer boot is known.
    case staleIncarnation = "stale_incarnation"
    /// A dialled address answered with another node than the one expected.
    case unexpectedNode = "unexpected_node"
    /// The handshake did not finish within the handshake timeout.
    case handshakeTimeout = "handshake_timeout"

    var description: String { rawValue }
}

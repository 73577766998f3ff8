/// The type byte of a mesh frame (see ``MeshFrame``).
enum MeshFrameType: UInt8, Sendable {
    /// The first frame on each side of a connection: who is speaking (``MeshHello``).
    case hello = 1
    /// The second frame on each side: the HMAC proof of knowing the secret (``MeshHandshake``).
    case proof = 2
    /// One envelope of `docs/WIRE.md`, handed unparsed to the receiver.
    case envelope = 3
    /// The members the sender knows (``MeshGossip``).
    case gossip = 4
    /// Nothing: keeps an idle connection alive and proves the peer is.
    case heartbeat = 5
}

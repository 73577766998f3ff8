import Combo

/// The version of the mesh's own connection protocol (handshake, gossip,
/// heartbeats), distinct from the envelope version of `docs/WIRE.md`.
///
/// The protocol, version 1:
/// - Every frame is a `u32` big-endian length (of what follows), a type byte
///   (1 hello, 2 proof, 3 envelope, 4 gossip, 5 heartbeat) and a body. A
///   length above the limit closes the connection before anything is
///   buffered; the limit is 4 KiB until the handshake ends, then the
///   configured maximum frame size.
/// - Both ends send a hello at once (magic `CMSH`, version, role, PubSub name,
///   node name, incarnation, advertised address, pool size, lane, 32-byte
///   nonce), then, on reading the other's hello, a proof:
///   HMAC-SHA256(secret, "combo-mesh-proof" ‖ prover role ‖ both hellos).
///   Nothing else is accepted until the other's proof verifies.
/// - A node opens `poolSize`-of-the-peer connections to each peer and only
///   sends envelopes on those; shard `s` takes connection `s % poolSize`.
/// - Gossip lists the members the sender is connected to, itself first; a
///   heartbeat is sent on a connection idle for the heartbeat interval, and
///   a connection silent for the liveness timeout is closed.
public enum MeshWireVersion {
    /// The version this build speaks; a peer announcing another one is refused.
    public static let current: UInt8 = 1
}

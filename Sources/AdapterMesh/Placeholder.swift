import Combo

/// The version of the mesh's own connection protocol (handshake, gossip,
/// heartbeats), distinct from the envelope version of `docs/WIRE.md`.
public enum MeshWireVersion {
    /// The version this build speaks.
    public static let current: UInt8 = 1
}

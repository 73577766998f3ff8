/// The largest frame a connection accepts right now, shared by its decoder and
/// its handler: small until the peer is authenticated, the configured maximum after.
///
/// Not `Sendable`: the decoder and the handler that share it both live on the
/// channel's event loop.
final class MeshFrameLimit {
    /// The largest frame accepted before the handshake: a hello or proof is far smaller,
    /// so an unauthenticated peer cannot make the node allocate much.
    static let handshake = 4096

    var maximum: Int

    init(maximum: Int) {
        self.maximum = maximum
    }
}

import Combo
import NIOCore

/// One envelope on its way from a sending task to the publisher thread.
struct ZMQOutgoing: Sendable {
    /// The envelope (`docs/WIRE.md`); the send queue copies a small one into its slot.
    var envelope: ByteBuffer
    /// The node of a direct broadcast; `nil` for a broadcast.
    var target: NodeName?
}

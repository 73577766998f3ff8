import Combo
import NIOCore

/// One envelope on its way from a sending task to the publisher thread.
struct ZMQOutgoing: Sendable {
    /// The envelope (`docs/WIRE.md`), shared, never copied before the socket.
    var envelope: ByteBuffer
    /// The node of a direct broadcast; `nil` for a broadcast.
    var target: NodeName?
}

/// An outbound connection whose handshake succeeded: who answered, and how to send to it.
struct MeshEstablished: Sendable {
    let hello: MeshHello
    let writer: MeshLaneWriter
}

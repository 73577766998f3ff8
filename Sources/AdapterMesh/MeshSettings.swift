import NIOCore

/// A validated ``Mesh`` configuration with its defaults resolved.
struct MeshSettings: Sendable {
    let listenAddress: MeshAddress
    let advertisedHost: String?
    let seeds: [MeshAddress]
    let secret: [UInt8]
    let maximumFrameSize: Int
    let heartbeatInterval: Duration
    let livenessTimeout: Duration
    let handshakeTimeout: Duration
    let reconnectBackoffBase: Duration
    let reconnectBackoffCap: Duration
    let forgetAfter: Duration
    let outboundQueueLimit: Int
    let onListening: (@Sendable (MeshAddress) -> Void)?
    let eventLoopGroup: (any EventLoopGroup)?

    /// The delay before reconnection attempt `attempt` (0 for the first retry):
    /// capped exponential backoff, randomised to half-to-full so that nodes
    /// that lost a peer together do not retry in lockstep.
    func backoff(attempt: Int) -> Duration {
        let exponent = min(attempt, 30)
        let base = reconnectBackoffBase * (1 << exponent)
        let capped = min(base, reconnectBackoffCap)
        return capped * Double.random(in: 0.5...1.0)
    }
}

import Combo
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
    let membershipEventBufferLimit: Int
    let localHealth: LocalHealth
    let onListening: (@Sendable (MeshAddress) -> Void)?
    let eventLoopGroup: (any EventLoopGroup)?

    /// The connections' write-buffer watermarks. They only decide when a lane
    /// stops handing batches to its connection, so that frames coalesce in
    /// the lane's buffer while the socket is backed up; the bound on the bytes
    /// held is the lane's (``outboundQueueLimit``, see `MeshLaneWriter`).
    var writeBufferWaterMark: ChannelOptions.Types.WriteBufferWaterMark {
        let high = max(1, min(outboundQueueLimit / 2, 256 * 1024))
        return .init(low: high / 2, high: high)
    }

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

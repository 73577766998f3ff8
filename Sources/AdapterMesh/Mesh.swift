import Combo
import NIOCore

/// The configuration of one node of the native TCP mesh: what you pass to
/// `PubSub.init` as its adapter.
///
/// The mesh is the counterpart of Phoenix.PubSub's `:pg` adapter: every node
/// connects directly to every other. A node listens on ``listenAddress``,
/// dials its ``seeds``, and learns the rest of the cluster by gossip. Every
/// connection is authenticated with ``secret`` (HMAC-SHA256 challenge and
/// response; the secret itself never crosses the wire).
///
/// ```swift
/// let mesh = Mesh(nodeName: "web-1", listenAddress: .init(host: "0.0.0.0", port: 4370),
///                 advertisedHost: "10.0.0.1", seeds: [.init(host: "10.0.0.2", port: 4370)],
///                 secret: Array("cookie".utf8))
/// let pubsub = try PubSub(configuration: .init(name: "chat"), adapter: mesh)
/// ```
public struct Mesh: AdapterFactory {
    /// The node's cluster-unique name; a restarted node keeps it and gets a new incarnation.
    public var nodeName: NodeName
    /// Where to listen. Port 0 takes any free port; read it with ``MeshAdapter/boundAddress()``.
    public var listenAddress: MeshAddress
    /// The host other nodes should dial; `nil` means ``listenAddress``'s host
    /// (set it when listening on a wildcard address such as `0.0.0.0`).
    public var advertisedHost: String?
    /// Addresses of nodes to join through; the rest of the cluster is learned from them.
    /// This node's own address may be listed (it is recognised and skipped).
    public var seeds: [MeshAddress]
    /// The cluster secret (Erlang's cookie): every node of a cluster has the same one.
    public var secret: [UInt8]
    /// The largest frame accepted or sent, header included; `nil` means the
    /// PubSub's `maximumEnvelopeSize` plus a small header allowance.
    public var maximumFrameSize: Int?
    /// How long a connection may stay without writing before a heartbeat is sent.
    public var heartbeatInterval: Duration
    /// How long a connection may stay silent before the peer is considered
    /// gone. Extended by this node's own recent lateness, and not applied
    /// within one timeout after this node woke from a pause (see ``localHealth``).
    public var livenessTimeout: Duration
    /// How long a new connection has to finish its handshake.
    public var handshakeTimeout: Duration
    /// The first reconnection delay; each failure doubles it, up to ``reconnectBackoffCap``.
    /// Each delay is randomised to between half and all of its value (jitter).
    public var reconnectBackoffBase: Duration
    /// The longest reconnection delay.
    public var reconnectBackoffCap: Duration
    /// A node that stays unreachable this long is forgotten (it rejoins by connecting or by gossip).
    public var forgetAfter: Duration
    /// The bytes that may wait to be written on one connection (queued, or
    /// handed to the connection and not yet written to its socket); a peer
    /// that falls further behind is disconnected (and reconnected) instead of
    /// growing memory, and counted in `combo_mesh_slow_peer_disconnects_total`.
    /// Default 64 MiB.
    public var outboundQueueLimit: Int
    /// How many unread events one ``MeshAdapter/membershipEvents()`` sequence
    /// may hold; past it the oldest are dropped and counted. Default 1,024.
    public var membershipEventBufferLimit: Int
    /// The monitor of this process's own timing that liveness detection
    /// consults before closing a silent connection or announcing a node down
    /// (see ``LocalHealth``); the process-wide one by default.
    public var localHealth: LocalHealth
    /// Called once the listener is bound, with the address this node advertises.
    public var onListening: (@Sendable (MeshAddress) -> Void)?
    /// The event loops the mesh runs on; `nil` means NIO's shared singleton group.
    public var eventLoopGroup: (any EventLoopGroup)?

    /// Creates a mesh node configuration.
    ///
    /// - Parameters:
    ///   - nodeName: the node's cluster-unique name.
    ///   - listenAddress: where to listen; port 0 for any free port.
    ///   - secret: the cluster secret; every node of the cluster must have the same one.
    ///   - seeds: nodes to join through.
    public init(
        nodeName: NodeName,
        listenAddress: MeshAddress = MeshAddress(host: "127.0.0.1", port: 0),
        advertisedHost: String? = nil,
        seeds: [MeshAddress] = [],
        secret: [UInt8],
        maximumFrameSize: Int? = nil,
        heartbeatInterval: Duration = .seconds(1),
        livenessTimeout: Duration = .seconds(5),
        handshakeTimeout: Duration = .seconds(5),
        reconnectBackoffBase: Duration = .milliseconds(100),
        reconnectBackoffCap: Duration = .seconds(5),
        forgetAfter: Duration = .seconds(300),
        outboundQueueLimit: Int = 64 * 1024 * 1024,
        membershipEventBufferLimit: Int = 1024,
        localHealth: LocalHealth = .shared,
        onListening: (@Sendable (MeshAddress) -> Void)? = nil,
        eventLoopGroup: (any EventLoopGroup)? = nil
    ) {
        self.nodeName = nodeName
        self.listenAddress = listenAddress
        self.advertisedHost = advertisedHost
        self.seeds = seeds
        self.secret = secret
        self.maximumFrameSize = maximumFrameSize
        self.heartbeatInterval = heartbeatInterval
        self.livenessTimeout = livenessTimeout
        self.handshakeTimeout = handshakeTimeout
        self.reconnectBackoffBase = reconnectBackoffBase
        self.reconnectBackoffCap = reconnectBackoffCap
        self.forgetAfter = forgetAfter
        self.outboundQueueLimit = outboundQueueLimit
        self.membershipEventBufferLimit = membershipEventBufferLimit
        self.localHealth = localHealth
        self.onListening = onListening
        self.eventLoopGroup = eventLoopGroup
    }

    /// The header allowance added to `maximumEnvelopeSize` for the default frame limit.
    static let frameHeaderAllowance = 64

    /// Checks the options and makes the adapter; starts nothing.
    ///
    /// - Throws: ``MeshError/invalidConfiguration(_:)``.
    public func makeAdapter(context: AdapterContext) throws -> any Adapter {
        try MeshAdapter(configuration: validated(context: context), context: context)
    }

    /// The configuration with defaults resolved, or why it is invalid.
    func validated(context: AdapterContext) throws(MeshError) -> MeshSettings {
        func fail(_ reason: String) -> MeshError { .invalidConfiguration(reason) }
        guard !secret.isEmpty else { throw fail("the secret is empty") }
        guard (0...65_535).contains(listenAddress.port) else { throw fail("listen port \(listenAddress.port) is out of range") }
        guard !listenAddress.host.isEmpty, listenAddress.host.utf8.count <= 255 else { throw fail("the listen host is empty or too long") }
        if let advertisedHost, advertisedHost.isEmpty || advertisedHost.utf8.count > 255 {
            throw fail("the advertised host is empty or too long")
        }
        for seed in seeds where !(1...65_535).contains(seed.port) || seed.host.isEmpty {
            throw fail("seed \(seed) is not a valid address")
        }
        let frameLimit = maximumFrameSize ?? context.maximumEnvelopeSize + Self.frameHeaderAllowance
        guard frameLimit >= context.maximumEnvelopeSize + MeshFrame.headerSize, frameLimit <= Int(UInt32.max) else {
            throw fail("maximumFrameSize \(frameLimit) cannot carry envelopes of \(context.maximumEnvelopeSize) bytes")
        }
        for (name, value) in [
            ("heartbeatInterval", heartbeatInterval), ("livenessTimeout", livenessTimeout),
            ("handshakeTimeout", handshakeTimeout), ("reconnectBackoffBase", reconnectBackoffBase),
            ("reconnectBackoffCap", reconnectBackoffCap), ("forgetAfter", forgetAfter),
        ] where value <= .zero {
            throw fail("\(name) must be positive")
        }
        guard livenessTimeout > heartbeatInterval else { throw fail("livenessTimeout must exceed heartbeatInterval") }
        guard reconnectBackoffCap >= reconnectBackoffBase else { throw fail("reconnectBackoffCap is below reconnectBackoffBase") }
        guard outboundQueueLimit >= frameLimit else { throw fail("outboundQueueLimit must hold at least one maximum-size frame") }
        guard membershipEventBufferLimit >= 1 else { throw fail("membershipEventBufferLimit must be at least 1") }
        guard context.poolSize <= Int(UInt16.max) else { throw fail("poolSize above \(UInt16.max)") }
        // The hello carries the name and must fit the small pre-handshake frame limit.
        guard context.pubSubName.utf8.count <= 1024 else { throw fail("the PubSub name is longer than 1024 bytes") }
        return MeshSettings(
            listenAddress: listenAddress,
            advertisedHost: advertisedHost,
            seeds: seeds,
            secret: secret,
            maximumFrameSize: frameLimit,
            heartbeatInterval: heartbeatInterval,
            livenessTimeout: livenessTimeout,
            handshakeTimeout: handshakeTimeout,
            reconnectBackoffBase: reconnectBackoffBase,
            reconnectBackoffCap: reconnectBackoffCap,
            forgetAfter: forgetAfter,
            outboundQueueLimit: outboundQueueLimit,
            membershipEventBufferLimit: membershipEventBufferLimit,
            localHealth: localHealth,
            onListening: onListening,
            eventLoopGroup: eventLoopGroup
        )
    }
}

import NIOCore
import ServiceLifecycle

/// Carries envelopes between the nodes of a cluster: the counterpart of a
/// Phoenix.PubSub adapter module.
///
/// An adapter is made by its ``AdapterFactory`` when a ``PubSub`` is created,
/// and its long-running work (listening, connecting, reconnecting) is its
/// `Service.run()`, which the ``PubSub`` runs inside its own: the Swift form of
/// the adapter's child spec. Everything it receives from other nodes it hands,
/// unparsed, to ``AdapterContext/receiver``.
///
/// Sending never waits for other nodes to process the message: delivery is
/// at-most-once. Envelopes sent on one `shard` to one node must arrive in the
/// order they were sent; that is how one node's messages on one topic stay in
/// order. `docs/CUSTOM_ADAPTER.md` walks through writing one, and the
/// `ComboConformance` suite checks it.
///
/// ``broadcast(_:shard:)`` and ``directBroadcast(_:to:shard:)`` run on the
/// caller's executor (`nonisolated(nonsending)`): they are called for every
/// message, and handing a buffer to a queue is cheaper than the two executor
/// switches a plain `async` function costs. An implementation declared plain
/// `async` still conforms; it is then called through a switch to the global
/// executor.
public protocol Adapter: Service {
    /// The node this adapter runs as (Elixir's `node_name/1`).
    var node: NodeIdentity { get }

    /// Sends an encoded envelope to every other node of the cluster.
    ///
    /// - Parameters:
    ///   - envelope: the envelope's bytes, shared by every destination; do not copy it per node.
    ///   - shard: the lane, in `0..<broadcastPoolSize`.
    /// - Throws: when the message could not be handed to the transport (the
    ///   ``PubSub`` then delivers nothing locally and reports the failure).
    nonisolated(nonsending) func broadcast(_ envelope: ByteBuffer, shard: Int) async throws

    /// Sends an encoded envelope to one other node.
    ///
    /// A node that is unknown or unreachable is not an error: the message is
    /// dropped, as with any at-most-once delivery. The ``PubSub`` never calls this
    /// for its own node.
    nonisolated(nonsending) func directBroadcast(_ envelope: ByteBuffer, to node: NodeName, shard: Int) async throws

    /// Hands to the transport every envelope already given to
    /// ``broadcast(_:shard:)`` and ``directBroadcast(_:to:shard:)``, and returns
    /// once they are out or `deadline` has passed.
    ///
    /// A ``PubSub`` calls it during a graceful shutdown, after the trackers on
    /// it have sent their leave and before it cancels `run()`: without it, the
    /// last messages a stopping node sends (its presences leaving) are lost
    /// with the queues that held them. "Out" is as far as the adapter can see:
    /// written to the socket, passed to the broker's client library, answered
    /// by the server. What is still queued at the deadline is counted as lost
    /// when `run()` ends. Broadcasts that arrive during the call may be sent
    /// or refused.
    ///
    /// The default returns at once: right for an adapter that queues nothing.
    func drain(until deadline: ContinuousClock.Instant) async
}

extension Adapter {
    /// Returns at once: an adapter that queues nothing has nothing to hand over.
    public func drain(until deadline: ContinuousClock.Instant) async {}
}

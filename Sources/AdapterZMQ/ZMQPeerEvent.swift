import Combo

/// A change in the nodes this node exchanges messages with.
///
/// In the peer topology a node is *up* once both directions are in place:
/// it has subscribed to this node (its hello arrived here) and has
/// confirmed this node's subscriptions (its welcome arrived here). In the
/// forwarder topology a node is up while its direct subscription is
/// visible through the proxy; the proxy does not carry incarnations, so
/// they are `nil` there.
public enum ZMQPeerEvent: Sendable, Hashable {
    /// The node became reachable both ways.
    case up(NodeName, Incarnation?)
    /// The node is no longer reachable (stopped, restarted, or its connection was lost).
    case down(NodeName, Incarnation?)
}

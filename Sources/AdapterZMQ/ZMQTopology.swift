/// How the nodes of a ZeroMQ cluster are connected.
public enum ZMQTopology: Sendable, Hashable {
    /// Brokerless: every node binds its publishing socket (an XPUB) at `bind`
    /// and subscribes to the publishing socket of every other node.
    ///
    /// - `bind`: where this node's publishing socket listens, such as
    ///   `tcp://127.0.0.1:5560` (port `*` or 0 picks a free port).
    /// - `advertise`: the endpoint other nodes connect to; `nil` for the bound
    ///   endpoint (required when `bind` is a wildcard address such as `*`).
    /// - `peers`: endpoints of other nodes to subscribe to from the start (a
    ///   node that is not up yet is connected once it is). Nodes that start
    ///   later announce themselves, so each node needs only one member of the
    ///   cluster in its list to reach them all.
    case peers(bind: String, advertise: String? = nil, peers: [String] = [])

    /// Every node connects to one XSUB/XPUB proxy (`combo zmq-proxy`): its
    /// publishing socket to the proxy's XSUB endpoint, its subscribing socket
    /// to the proxy's XPUB endpoint.
    case forwarder(xsub: String, xpub: String)
}

/// CURVE encryption and authentication for a ZeroMQ cluster.
///
/// The side that binds is the CURVE *server*, the side that connects the
/// *client*: in the peer topology every node is both (its publishing socket
/// serves, its subscribing socket connects to the others'); in the forwarder
/// topology the proxy serves and the nodes are clients. All servers of a
/// cluster share one server key pair, so a client needs one server public key;
/// every client has a key pair of its own, and a server accepts only the
/// client public keys it lists in ``authorizedClientKeys``, checked by a ZAP
/// handler (libzmq's CURVE without a ZAP handler accepts any client key, so a
/// node or proxy that serves refuses to start without its handler).
///
/// Keep the server secret key as secret as the clients' secret keys: a holder
/// can serve the cluster's clients.
public struct ZMQCurve: Sendable, Hashable {
    /// The servers' public key: clients accept only a server that proves it holds the matching secret.
    public var serverPublicKey: ZMQCurveKey
    /// The servers' secret key: required on nodes of the peer topology, unused
    /// on nodes of the forwarder topology (the proxy holds it).
    public var serverSecretKey: ZMQCurveKey?
    /// This node's client key pair.
    public var clientKeys: ZMQCurveKeyPair
    /// The client public keys this node's server accepts (peer topology).
    public var authorizedClientKeys: Set<ZMQCurveKey>

    /// A CURVE configuration.
    public init(
        serverPublicKey: ZMQCurveKey,
        serverSecretKey: ZMQCurveKey? = nil,
        clientKeys: ZMQCurveKeyPair,
        authorizedClientKeys: Set<ZMQCurveKey> = []
    ) {
        self.serverPublicKey = serverPublicKey
        self.serverSecretKey = serverSecretKey
        self.clientKeys = clientKeys
        self.authorizedClientKeys = authorizedClientKeys
    }
}

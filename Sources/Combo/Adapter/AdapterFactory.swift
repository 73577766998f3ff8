/// Makes the ``Adapter`` of a ``PubSub``: an adapter's configuration conforms to it.
public protocol AdapterFactory: Sendable {
    /// The name the node will have in the cluster.
    var nodeName: NodeName { get }

    /// Makes the adapter. Called once, from the ``PubSub`` initialiser: start
    /// nothing here; start in the adapter's `run()`.
    ///
    /// - Throws: when the adapter's own configuration is invalid.
    func makeAdapter(context: AdapterContext) throws -> any Adapter
}

import Combo

/// The ``AdapterFactory`` of one node of an ``InMemoryCluster``.
public struct InMemoryNode: AdapterFactory {
    /// The cluster the node joins when its ``PubSub`` runs.
    public let cluster: InMemoryCluster
    public let nodeName: NodeName

    public func makeAdapter(context: AdapterContext) throws -> any Adapter {
        InMemoryAdapter(cluster: cluster, context: context)
    }
}

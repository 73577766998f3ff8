import Combo

/// The errors of an ``InMemoryCluster``.
public enum InMemoryClusterError: Error, Sendable, Hashable, CustomStringConvertible {
    /// A node with this name is already running in the cluster (node names are unique).
    case duplicateNodeName(NodeName, running: Incarnation)
    /// A send on a node that is not running.
    case notRunning(NodeName)
    /// ``InMemoryCluster/waitForMembers(_:timeout:)`` gave up.
    case timedOut(waitingFor: [String])

    public var description: String {
        switch self {
        case .duplicateNodeName(let name, let incarnation):
            "node \(name) is already running in this cluster (incarnation \(incarnation))"
        case .notRunning(let name): "node \(name) is not running"
        case .timedOut(let names): "timed out waiting for nodes \(names.joined(separator: ", "))"
        }
    }
}

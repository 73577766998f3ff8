import Combo

/// What an adapter author provides to run the conformance suite: a way to
/// make clusters of their adapter.
///
/// ```swift
/// struct MyHarness: ConformanceHarness {
///     func makeCluster() async throws -> any ConformanceTransport { MyTransport() }
/// }
/// ```
public protocol ConformanceHarness: Sendable {
    /// Prepares the transport of one new, empty cluster (start a server, pick
    /// free ports…). Each scenario gets its own cluster.
    func makeCluster() async throws -> any ConformanceTransport
}

/// One cluster's transport, as the conformance suite uses it.
public protocol ConformanceTransport: Sendable {
    /// The adapter factory of the node named `name` in this cluster.
    ///
    /// Called once per node start; called again with the same name when the
    /// suite restarts a node (which then gets a new incarnation). The suite
    /// runs the node's ``PubSub`` and waits until it exchanges messages with
    /// every other running node, so the adapter needs no readiness hook.
    func adapter(for name: NodeName) async throws -> any AdapterFactory

    /// Releases what ``ConformanceHarness/makeCluster()`` set up. Called after
    /// every scenario, passed or failed, once every node has stopped.
    func tearDown() async
}

extension ConformanceTransport {
    /// Nothing to release by default.
    public func tearDown() async {}
}

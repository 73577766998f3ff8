import ComboConformance

/// Every scenario's nodes on real loopback TCP: the first node started is the
/// seed of the others; a restarted seed joins through the others.
struct MeshHarness: ConformanceHarness {
    func makeCluster() async throws -> any ConformanceTransport {
        MeshTransport()
    }
}

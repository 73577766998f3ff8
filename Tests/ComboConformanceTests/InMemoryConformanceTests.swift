import Combo
import ComboConformance
import ComboTestKit
import Testing

/// The reference harness: every node of a scenario joins one in-process cluster.
struct InMemoryHarness: ConformanceHarness {
    func makeCluster() async throws -> any ConformanceTransport {
        InMemoryTransport(cluster: InMemoryCluster())
    }
}

struct InMemoryTransport: ConformanceTransport {
    let cluster: InMemoryCluster

    func adapter(for name: NodeName) async throws -> any AdapterFactory {
        cluster.node(name)
    }
}

@Suite("Conformance: in-memory adapter")
struct InMemoryConformanceTests {
    @Test("scenario", arguments: ConformanceScenario.allCases, [1, 8])
    func scenario(_ scenario: ConformanceScenario, poolSize: Int) async throws {
        try await ConformanceSuite(harness: InMemoryHarness()).run(scenario, poolSize: poolSize)
    }
}

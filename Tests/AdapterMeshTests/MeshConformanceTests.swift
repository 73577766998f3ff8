import ComboConformance
import Testing

/// The whole conformance suite on in-process nodes over loopback TCP.
@Suite("Conformance: mesh adapter", .serialized)
struct MeshConformanceTests {
    @Test("scenario", arguments: ConformanceScenario.allCases, [1, 8])
    func scenario(_ scenario: ConformanceScenario, poolSize: Int) async throws {
        try await ConformanceSuite(harness: MeshHarness()).run(scenario, poolSize: poolSize)
    }
}

import AdapterZMQ
import Testing

@Suite("libzmq linkage")
struct LibZMQTests {
    @Test("links libzmq 4.x built with CURVE")
    func linkedVersion() {
        let version = LibZMQ.version
        #expect(version.major == 4)
        #expect(version.minor >= 3)
        #expect(LibZMQ.hasCurve)
    }
}

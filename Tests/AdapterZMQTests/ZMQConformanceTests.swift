import AdapterZMQ
import Combo
import ComboConformance
import Synchronization
import Testing

/// Peer topology: each node of a cluster gets a loopback port of its own and
/// lists, as its static peers, the nodes started before it (the first node
/// lists none: the others announce themselves to it). A restarted node keeps
/// its port and lists every other node. Each cluster has a channel prefix of
/// its own, so that a node that reaches another cluster's port (a port reused
/// between tests) exchanges nothing with it.
struct ZMQPeersHarness: ConformanceHarness {
    func makeCluster() async throws -> any ConformanceTransport {
        ZMQPeersTransport(prefix: "conformance-\(UInt64.random(in: 0 ... .max))")
    }
}

final class ZMQPeersTransport: ConformanceTransport {
    private let endpoints = Mutex<[(name: NodeName, endpoint: String)]>([])
    private let prefix: String

    init(prefix: String) {
        self.prefix = prefix
    }

    func adapter(for name: NodeName) async throws -> any AdapterFactory {
        let fresh = try FreePort.endpoint()
        let (endpoint, peers) = endpoints.withLock { endpoints -> (String, [String]) in
            let endpoint = endpoints.first { $0.name == name }?.endpoint ?? fresh
            if !endpoints.contains(where: { $0.name == name }) { endpoints.append((name, endpoint)) }
            return (endpoint, endpoints.filter { $0.name != name }.map(\.endpoint))
        }
        return ZMQTestNodes.configure(ZMQ(nodeName: name, topology: .peers(bind: endpoint, peers: peers), channelPrefix: prefix))
    }
}

/// Forwarder topology: each cluster gets a proxy of its own, in this process,
/// on ports libzmq chooses; the nodes connect to it.
struct ZMQForwarderHarness: ConformanceHarness {
    func makeCluster() async throws -> any ConformanceTransport {
        let proxy = try await RunningProxy.start()
        return ZMQForwarderTransport(proxy: proxy)
    }
}

struct ZMQForwarderTransport: ConformanceTransport {
    let proxy: RunningProxy

    func adapter(for name: NodeName) async throws -> any AdapterFactory {
        ZMQTestNodes.configure(ZMQ(nodeName: name, topology: .forwarder(xsub: proxy.xsub, xpub: proxy.xpub), channelPrefix: "conformance"))
    }

    func tearDown() async {
        await proxy.stop()
    }
}

@Suite("Conformance: ZeroMQ adapter, peer topology")
struct ZMQPeersConformanceTests {
    @Test("scenario", arguments: ConformanceScenario.allCases, [1, 8])
    func scenario(_ scenario: ConformanceScenario, poolSize: Int) async throws {
        try await ConformanceSuite(harness: ZMQPeersHarness(), timeout: .seconds(30)).run(scenario, poolSize: poolSize)
    }
}

@Suite("Conformance: ZeroMQ adapter, forwarder topology")
struct ZMQForwarderConformanceTests {
    @Test("scenario", arguments: ConformanceScenario.allCases, [1, 8])
    func scenario(_ scenario: ConformanceScenario, poolSize: Int) async throws {
        try await ConformanceSuite(harness: ZMQForwarderHarness(), timeout: .seconds(30)).run(scenario, poolSize: poolSize)
    }
}

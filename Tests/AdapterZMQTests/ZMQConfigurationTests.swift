@testable import AdapterZMQ
import Combo
import Testing

@Suite("ZeroMQ adapter: configuration")
struct ZMQConfigurationTests {
    @Test("the defaults are valid, and the high-water marks are far above libzmq's 1,000")
    func defaults() throws {
        let configuration = ZMQ(nodeName: "n1", topology: .peers(bind: "tcp://127.0.0.1:5560"))
        try configuration.validate()
        #expect(configuration.sendHighWaterMark == 100_000)
        #expect(configuration.receiveHighWaterMark == 100_000)
    }

    @Test("invalid options are refused, each with its own error")
    func invalid() throws {
        func check(_ expected: ZMQConfigurationError, _ change: (inout ZMQ) -> Void) {
            var configuration = ZMQ(nodeName: "n1", topology: .peers(bind: "tcp://127.0.0.1:5560"))
            change(&configuration)
            #expect(throws: expected) { try configuration.validate() }
        }
        check(.invalidEndpoint("127.0.0.1:5560")) { $0.topology = .peers(bind: "127.0.0.1:5560") }
        check(.advertisedEndpointRequired(bind: "tcp://*:5560")) { $0.topology = .peers(bind: "tcp://*:5560") }
        check(.invalidEndpoint("nowhere")) { $0.topology = .forwarder(xsub: "nowhere", xpub: "tcp://127.0.0.1:1") }
        check(.emptyChannelPrefix) { $0.channelPrefix = "" }
        check(.channelKeyContainsNUL) { $0.channelPrefix = "a\u{0}b" }
        check(.invalidHighWaterMark(option: "sendHighWaterMark", value: -1)) { $0.sendHighWaterMark = -1 }
        check(.invalidDuration(option: "heartbeatTimeout")) { $0.heartbeatTimeout = .zero }
        check(.invalidSendQueueCapacity(1)) { $0.sendQueueCapacity = 1 }
        check(.invalidInboundLaneCapacity(0)) { $0.inboundLaneCapacity = 0 }
    }

    @Test("CURVE between peers needs the server secret key, a matching pair, and authorized client keys")
    func curve() throws {
        let server = try ZMQCurveKeyPair.generate()
        let other = try ZMQCurveKeyPair.generate()
        let client = try ZMQCurveKeyPair.generate()
        func check(_ expected: ZMQConfigurationError, _ curve: ZMQCurve) {
            var configuration = ZMQ(nodeName: "n1", topology: .peers(bind: "tcp://127.0.0.1:5560"))
            configuration.curve = curve
            #expect(throws: expected) { try configuration.validate() }
        }
        check(.curveServerSecretKeyRequired, ZMQCurve(serverPublicKey: server.publicKey, clientKeys: client, authorizedClientKeys: [client.publicKey]))
        check(.curveServerKeyMismatch, ZMQCurve(serverPublicKey: server.publicKey, serverSecretKey: other.secretKey, clientKeys: client, authorizedClientKeys: [client.publicKey]))
        // CURVE serving without a client list would refuse everyone; libzmq without ZAP would accept everyone.
        check(.curveNoAuthorizedClients, ZMQCurve(serverPublicKey: server.publicKey, serverSecretKey: server.secretKey, clientKeys: client))
        // A forwarder node is only a client: the server public key and its own pair suffice.
        var forwarder = ZMQ(nodeName: "n1", topology: .forwarder(xsub: "tcp://127.0.0.1:1", xpub: "tcp://127.0.0.1:2"))
        forwarder.curve = ZMQCurve(serverPublicKey: server.publicKey, clientKeys: client)
        try forwarder.validate()
        var proxy = ZMQProxyConfiguration(xsub: "tcp://127.0.0.1:1", xpub: "tcp://127.0.0.1:2")
        proxy.serverKeys = server
        #expect(throws: ZMQConfigurationError.curveNoAuthorizedClients) { try proxy.validate() }
    }

    @Test("the adapter refuses to send before it runs")
    func notRunning() async throws {
        let node = try makeNode(ZMQ(nodeName: "n1", topology: .peers(bind: try FreePort.endpoint())))
        await #expect(throws: PubSubError.self) { try await node.broadcast("early", to: "t") }
        #expect(zmqAdapter(of: node).statistics.sendFailures == 1)
    }

    @Test("a port already bound fails run() with a typed error")
    func bindFailure() async throws {
        let endpoint = try FreePort.endpoint()
        let first = try makeNode(ZMQ(nodeName: "n1", topology: .peers(bind: endpoint)))
        let second = try makeNode(ZMQ(nodeName: "n2", topology: .peers(bind: endpoint)))
        try await withRunning([first]) {
            try await eventually("the first node to bind") { zmqAdapter(of: first).endpoint != nil }
            await #expect(throws: ZMQError.self) { try await second.run() }
        }
    }
}

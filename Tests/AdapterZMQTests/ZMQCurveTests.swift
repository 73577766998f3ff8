@testable import AdapterZMQ
import Combo
import ComboTestKit
import CZMQ
import Metrics
import Testing

@Suite("ZeroMQ adapter: CURVE with a ZAP handler")
struct ZMQCurveTests {
    @Test("peers: a node with an authorized client key delivers; one with an unknown key delivers nothing and is counted")
    func peers() async throws {
        let server = try ZMQCurveKeyPair.generate()
        let (keysA, keysB, intruderKeys) = (try ZMQCurveKeyPair.generate(), try ZMQCurveKeyPair.generate(), try ZMQCurveKeyPair.generate())
        let authorized: Set = [keysA.publicKey, keysB.publicKey]
        func curve(_ keys: ZMQCurveKeyPair) -> ZMQCurve {
            ZMQCurve(serverPublicKey: server.publicKey, serverSecretKey: server.secretKey, clientKeys: keys, authorizedClientKeys: authorized)
        }
        let (endpointA, endpointB, endpointI) = (try FreePort.endpoint(), try FreePort.endpoint(), try FreePort.endpoint())
        var configurationA = ZMQ(nodeName: "a", topology: .peers(bind: endpointA))
        configurationA.curve = curve(keysA)
        var configurationB = ZMQ(nodeName: "b", topology: .peers(bind: endpointB, peers: [endpointA]))
        configurationB.curve = curve(keysB)
        // The intruder holds the cluster's server keys but not an authorized client key.
        var configurationI = ZMQ(nodeName: "intruder", topology: .peers(bind: endpointI, peers: [endpointA, endpointB]))
        configurationI.curve = curve(intruderKeys)
        let (a, b, intruder) = (try makeNode(configurationA), try makeNode(configurationB), try makeNode(configurationI))
        let (adapterA, adapterB, adapterI) = (zmqAdapter(of: a), zmqAdapter(of: b), zmqAdapter(of: intruder))
        let subscriber = a.makeSubscriber()
        try subscriber.subscribe(to: "t")
        let probe = SubscriberProbe(subscriber)
        defer { probe.stop() }
        try await withRunning([a, b, intruder]) {
            try await withDeadline(.seconds(30), "b to be ready") { await adapterB.waitUntilReady() }
            try await eventually("both servers to refuse the intruder") {
                adapterA.statistics.authenticationFailures >= 1 && adapterB.statistics.authenticationFailures >= 1
            }
            try await eventually("the intruder to see its handshakes fail") { adapterI.statistics.handshakeFailures >= 2 }
            try await intruder.broadcast("intrusion", to: "t")
            try await b.broadcast("from b", to: "t")
            // b's message arrives; the intruder's, sent first, never does.
            let message = try await probe.next(within: .seconds(30))
            #expect(try message.decode(String.self) == "from b")
            #expect(message.origin.name == "b")
            #expect(adapterA.upPeers == ["b"])
            #expect(adapterA.statistics.authenticationSuccesses >= 1)
            #expect(!adapterI.isReady)
        }
    }

    @Test("forwarder: the proxy's ZAP handler admits the authorized key and refuses and counts the unknown one")
    func forwarder() async throws {
        let server = try ZMQCurveKeyPair.generate()
        let (keysA, keysB, intruderKeys) = (try ZMQCurveKeyPair.generate(), try ZMQCurveKeyPair.generate(), try ZMQCurveKeyPair.generate())
        let proxy = try await RunningProxy.start { configuration in
            configuration.serverKeys = server
            configuration.authorizedClientKeys = [keysA.publicKey, keysB.publicKey]
        }
        do {
            func node(_ name: NodeName, _ keys: ZMQCurveKeyPair) throws -> PubSub {
                var configuration = ZMQ(nodeName: name, topology: .forwarder(xsub: proxy.xsub, xpub: proxy.xpub))
                configuration.curve = ZMQCurve(serverPublicKey: server.publicKey, clientKeys: keys)
                return try makeNode(configuration)
            }
            let (a, b, intruder) = (try node("a", keysA), try node("b", keysB), try node("intruder", intruderKeys))
            let subscriber = a.makeSubscriber()
            try subscriber.subscribe(to: "t")
            let probe = SubscriberProbe(subscriber)
            defer { probe.stop() }
            try await withRunning([a, b, intruder]) {
                try await withDeadline(.seconds(30), "a and b to be ready") {
                    await zmqAdapter(of: a).waitUntilReady()
                    await zmqAdapter(of: b).waitUntilReady()
                }
                // Both of the intruder's sockets are refused.
                try await eventually("the proxy to refuse the intruder twice") { proxy.proxy.statistics.authenticationFailures >= 2 }
                try await intruder.broadcast("intrusion", to: "t")
                try await b.broadcast("from b", to: "t")
                let message = try await probe.next(within: .seconds(30))
                #expect(try message.decode(String.self) == "from b")
                #expect(!zmqAdapter(of: intruder).isReady)
            }
        } catch {
            await proxy.stop()
            throw error
        }
        await proxy.stop()
    }

    @Test("a ZAP handler that cannot bind refuses to start, so no CURVE server runs without one")
    func handlerMustBind() async throws {
        let context = try ZMQContext()
        // Something else already answers at the ZAP endpoint of this context.
        let occupied = ZMQOneShot<Bool>()
        let release = SharedFlag()
        try ZMQThread.start(name: "test-zap") {
            guard let socket = try? ZMQSocket(context: context, type: ZMQ_REP), (try? socket.bind(ZMQAuthenticator.endpoint)) != nil else {
                occupied.fulfil(false)
                return
            }
            occupied.fulfil(true)
            let message = ZMQMessage()
            try? socket.set(ZMQ_RCVTIMEO, Int32(100))
            for _ in 0..<300 where !release.isSet { _ = socket.receive(into: message, wait: true) }
            socket.close()
        }
        #expect(await occupied.value())
        let metrics = ZMQMetrics(dimensions: [], factory: NOOPMetricsHandler.instance)
        let handler = ZMQAuthenticator(authorizedKeys: [try ZMQCurveKeyPair.generate().publicKey], metrics: metrics, logger: quietLogger)
        await #expect(throws: ZMQError.self) { try await handler.start(context: context) }
        release.set()
        context.shutdown()
        _ = try await ZMQThread.run(name: "test-term") { context.terminate() }
    }

    @Test("keys: Z85 round trip, derived public keys, and malformed keys refused")
    func keys() throws {
        let pair = try ZMQCurveKeyPair.generate()
        #expect(try ZMQCurveKey(z85: pair.publicKey.z85) == pair.publicKey)
        #expect(try ZMQCurveKeyPair(secretKey: pair.secretKey).publicKey == pair.publicKey)
        #expect(!"\(pair.secretKey)".contains(pair.secretKey.z85))
        #expect(throws: ZMQConfigurationError.self) { try ZMQCurveKey(z85: "too short") }
        #expect(throws: ZMQConfigurationError.self) { try ZMQCurveKey(bytes: [1, 2, 3]) }
    }
}

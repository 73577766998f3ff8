@testable import AdapterZMQ
import Combo
import ComboTestKit
import Testing

@Suite("ZeroMQ adapter: readiness, membership and restarts")
struct ZMQClusterTests {
    @Test("peers: a node is ready once its configured peer has welcomed it; a peer learned from a welcome connects both ways")
    func peersReadiness() async throws {
        let (endpointA, endpointB, endpointC) = (try FreePort.endpoint(), try FreePort.endpoint(), try FreePort.endpoint())
        let a = try makeNode(ZMQ(nodeName: "a", topology: .peers(bind: endpointA)))
        let b = try makeNode(ZMQ(nodeName: "b", topology: .peers(bind: endpointB, peers: [endpointA])))
        let c = try makeNode(ZMQ(nodeName: "c", topology: .peers(bind: endpointC, peers: [endpointA])))
        let adapterB = zmqAdapter(of: b)
        try await withRunning([b]) {
            try await eventually("b to bind") { adapterB.endpoint != nil }
            // Its only peer is not up: not ready, and nothing to wait for.
            #expect(!adapterB.isReady)
            try await withRunning([a, c]) {
                try await withDeadline(.seconds(30), "b to be ready") { await adapterB.waitUntilReady() }
                for (node, others) in [(a, ["b", "c"]), (b, ["a", "c"]), (c, ["a", "b"])] {
                    let names = others.map { NodeName(stringLiteral: $0) }
                    try await withDeadline(.seconds(30), "\(node.nodeName) to see \(others) up") {
                        await zmqAdapter(of: node).waitUntilUp(names)
                    }
                }
                // c knew only a; its broadcasts reach b too.
                let subscriber = b.makeSubscriber()
                try subscriber.subscribe(to: "t")
                let probe = SubscriberProbe(subscriber)
                defer { probe.stop() }
                try await c.broadcast("from c", to: "t")
                #expect(try await probe.next(within: .seconds(30)).decode(String.self) == "from c")
            }
            // a and c stopped: b sees them go down, and is no longer ready.
            try await eventually("a and c to go down") { adapterB.upPeers.isEmpty && !adapterB.isReady }
        }
    }

    @Test("forwarder: a proxy restarted mid-stream; the nodes reconnect, become ready again, and traffic resumes")
    func proxyRestart() async throws {
        let first = try await RunningProxy.start()
        var proxy = first
        do {
            let a = try makeNode(ZMQ(nodeName: "a", topology: .forwarder(xsub: first.xsub, xpub: first.xpub)))
            let b = try makeNode(ZMQ(nodeName: "b", topology: .forwarder(xsub: first.xsub, xpub: first.xpub)))
            let (adapterA, adapterB) = (zmqAdapter(of: a), zmqAdapter(of: b))
            try await withRunning([a, b]) {
                try await withDeadline(.seconds(30), "both nodes to be ready") {
                    await adapterA.waitUntilReady()
                    await adapterB.waitUntilReady()
                    await adapterA.waitUntilUp(["b"])
                }
                let received = SharedCount()
                let subscriber = b.makeSubscriber()
                try subscriber.subscribe(to: "stream")
                let reader = Task {
                    for try await _ in subscriber { received.increment() }
                }
                let sender = Task {
                    // Bounded: at most 20 s of messages, one every 2 ms.
                    for index in 0..<10_000 where !Task.isCancelled {
                        try? await a.broadcast(index, to: "stream")
                        try? await Task.sleep(for: .milliseconds(2))
                    }
                }
                defer {
                    sender.cancel()
                    reader.cancel()
                    subscriber.close()
                }
                try await eventually("the stream to flow") { received.current >= 10 }
                await first.stop()
                try await eventually("both nodes to notice the proxy is gone") { !adapterA.isReady && !adapterB.isReady }
                proxy = try await RunningProxy.start(xsub: first.xsub, xpub: first.xpub)
                try await withDeadline(.seconds(30), "both nodes to be ready again") {
                    await adapterA.waitUntilReady()
                    await adapterB.waitUntilReady()
                }
                let before = received.current
                try await eventually("the stream to resume") { received.current >= before + 10 }
                // Messages lost inside the stopped proxy are counted as gaps; those a node sent
                // while reconnecting waited in its socket's queue (a connecting socket keeps it).
                #expect(adapterB.statistics.duplicates == 0)
                // a's own broadcasts came back through the proxy, and were dropped unread.
                #expect(adapterA.statistics.echoesDropped > 0)
            }
        } catch {
            await proxy.stop()
            throw error
        }
        await proxy.stop()
    }

    @Test("peers: a peer restarted mid-stream comes back with a new incarnation, and traffic to it resumes")
    func peerRestart() async throws {
        let (endpointA, endpointB) = (try FreePort.endpoint(), try FreePort.endpoint())
        let a = try makeNode(ZMQ(nodeName: "a", topology: .peers(bind: endpointA)))
        let configurationB = ZMQ(nodeName: "b", topology: .peers(bind: endpointB, peers: [endpointA]))
        let adapterA = zmqAdapter(of: a)
        let events = adapterA.peerEvents()
        try await withRunning([a]) {
            let sender = Task {
                for index in 0..<10_000 where !Task.isCancelled {
                    try? await a.broadcast(index, to: "stream")
                    try? await Task.sleep(for: .milliseconds(2))
                }
            }
            defer { sender.cancel() }
            var incarnations: [Incarnation] = []
            for _ in 0..<2 {
                let b = try makeNode(configurationB)
                let received = SharedCount()
                let subscriber = b.makeSubscriber()
                try subscriber.subscribe(to: "stream")
                let reader = Task {
                    for try await _ in subscriber { received.increment() }
                }
                defer {
                    reader.cancel()
                    subscriber.close()
                }
                try await withRunning([b]) {
                    try await withDeadline(.seconds(30), "b to be ready") { await zmqAdapter(of: b).waitUntilReady() }
                    try await eventually("the stream to reach b") { received.current >= 10 }
                }
                incarnations.append(b.node.incarnation)
            }
            var iterator = events.makeAsyncIterator()
            var seen: [ZMQPeerEvent] = []
            while seen.count < 4, let event = await iterator.next() { seen.append(event) }
            #expect(seen == [
                .up("b", incarnations[0]), .down("b", incarnations[0]), .up("b", incarnations[1]), .down("b", incarnations[1]),
            ])
        }
    }
}

@testable import AdapterZMQ
import Combo
import ComboTestKit
import CZMQ
import MetricsTestKit
import Testing

@Suite("ZeroMQ adapter: hostile input")
struct ZMQHostileInputTests {
    @Test("garbage, truncated and multipart messages from a raw socket are rejected and counted; the node keeps serving")
    func garbage() async throws {
        let topics = ZMQTopics(channelPrefix: "combo", pubSubName: "test")
        let raw = NodeIdentity(name: "raw", incarnation: Incarnation(rawValue: 7))
        let valid = try rawEnvelope(from: raw, topic: "t", text: "still serving")
        let sixteen = [UInt8](repeating: 0, count: 16)
        let burstSent = SharedFlag()
        // The node subscribes to the raw socket as to a peer; the raw XPUB sees its subscriptions.
        // Once it has shown the broadcast one, the node's pipe is attached and subscribed, and the
        // burst goes down that one connection in order: when its last message arrives, all did.
        let peer = try await RawSocketThread.start(type: ZMQ_XPUB) { socket, release in
            let message = ZMQMessage()
            // The node is made and started only after this thread, and on a busy machine it can take
            // many seconds to connect: wait as long as the test does, not for a count of timeouts.
            while !(socket.receive(into: message, wait: true) && Array(message.bytes) == [1] + topics.broadcast) {
                guard !release.isSet else { throw TestFailure("the node never subscribed") }
            }
            // Two parts, the first a well-formed frame.
            socket.send(frame(topic: topics.broadcast, sender: raw, sequence: 0, envelope: valid), more: true)
            socket.send([1, 2, 3])
            // Ends inside the header.
            socket.send(topics.broadcast + [1, 1])
            // A header version from the future.
            socket.send(topics.broadcast + [9, 1, 3] + Array("raw".utf8) + sixteen + valid)
            // An unknown kind.
            socket.send(topics.broadcast + [1, 9, 3] + Array("raw".utf8) + sixteen + valid)
            // An empty sender name.
            socket.send(topics.broadcast + [1, 1, 0] + sixteen + valid)
            // A well-formed frame around bytes that are not an envelope: the receiver rejects those.
            socket.send(frame(topic: topics.broadcast, sender: raw, sequence: 1, envelope: [0xDE, 0xAD, 0xBE, 0xEF]))
            // And then a good message, which must still arrive.
            socket.send(frame(topic: topics.broadcast, sender: raw, sequence: 2, envelope: valid))
            burstSent.set()
        }
        let metrics = TestMetrics()
        let node = try makeNode(ZMQ(nodeName: "victim", topology: .peers(bind: try FreePort.endpoint(), peers: [peer.endpoint])), metrics: metrics)
        let subscriber = node.makeSubscriber()
        try subscriber.subscribe(to: "t")
        let probe = SubscriberProbe(subscriber)
        defer { probe.stop() }
        do {
            try await withRunning([node]) {
                try await eventually("the node to subscribe to the raw socket, and the raw socket to send its burst") {
                    burstSent.isSet
                }
                let message = try await probe.next(within: .seconds(30))
                #expect(message.bytes.map { String(buffer: $0) } == "still serving")
                let statistics = zmqAdapter(of: node).statistics
                #expect(statistics.rejected == [
                    "multipart": 1, "truncated_header": 1, "unsupported_version": 1, "unknown_kind": 1, "invalid_sender": 1,
                ])
                #expect(metrics.counterTotal(label: "combo_decode_failures_total") == 1)
                #expect(metrics.counterTotal(label: "combo_zmq_rejected_total") == 5)
                // Received envelopes are counted once per burst, just after they are handed on.
                let adapter = zmqAdapter(of: node)
                try await eventually("both envelopes to be counted") { adapter.statistics.received == 2 }
            }
        } catch {
            // What went wrong on the raw socket's side explains what the node did not receive.
            if let failure = await peer.stop() { Issue.record("the raw socket: \(failure)") }
            throw error
        }
        let failure = await peer.stop()
        #expect(failure == nil)
    }

    @Test("a peer that sends a frame over the size limit is disconnected, then reconnected, and its later messages arrive")
    func oversizedFrameThenReconnect() async throws {
        let topics = ZMQTopics(channelPrefix: "combo", pubSubName: "test")
        let raw = NodeIdentity(name: "raw", incarnation: Incarnation(rawValue: 7))
        let valid = try rawEnvelope(from: raw, topic: "t", text: "after the reconnection")
        let oversized = [UInt8](repeating: 0x41, count: Envelope.defaultMaximumSize + 64 * 1024)
        let resubscribed = SharedFlag()
        let peer = try await RawSocketThread.start(type: ZMQ_XPUB) { socket, release in
            let message = ZMQMessage()
            func awaitSubscription() throws {
                while !(socket.receive(into: message, wait: true) && Array(message.bytes) == [1] + topics.broadcast) {
                    guard !release.isSet else { throw TestFailure("the node never subscribed") }
                }
            }
            try awaitSubscription()
            // libzmq ends the node's connection on this frame, before allocating it.
            socket.send(frame(topic: topics.broadcast, sender: raw, sequence: 1, envelope: oversized))
            // A new connection subscribes anew: only a reconnected node shows the subscription again.
            try awaitSubscription()
            resubscribed.set()
            while !release.isSet {
                socket.send(frame(topic: topics.broadcast, sender: raw, sequence: 0, envelope: valid))
                _ = socket.receive(into: message, wait: true)
            }
        }
        let metrics = TestMetrics()
        let node = try makeNode(
            ZMQ(nodeName: "victim", topology: .peers(bind: try FreePort.endpoint(), peers: [peer.endpoint])), metrics: metrics)
        let subscriber = node.makeSubscriber()
        try subscriber.subscribe(to: "t")
        let probe = SubscriberProbe(subscriber)
        defer { probe.stop() }
        do {
            try await withRunning([node]) {
                try await eventually("the node to reconnect to the peer after its oversized frame") { resubscribed.isSet }
                let message = try await probe.next(within: .seconds(30))
                #expect(message.bytes.map { String(buffer: $0) } == "after the reconnection")
                #expect(metrics.counterTotal(label: "combo_zmq_reconnects_forced_total") == 1)
            }
        } catch {
            if let failure = await peer.stop() { Issue.record("the raw socket: \(failure)") }
            throw error
        }
        _ = await peer.stop()
    }
}

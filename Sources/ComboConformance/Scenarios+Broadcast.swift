import Combo
import ComboTestKit
import NIOCore

extension Scenarios {
    func broadcastReachesEveryNode() async throws {
        let nodes = try await startCluster(count: 3)
        let probes = try nodes.map { try probe($0, topic) }
        defer { stopAll(probes) }
        try await nodes[0].broadcast(Ping(1), to: topic)
        try await nodes[0].broadcast(Ping(2), to: topic)
        try await nodes[2].broadcast(Ping(3), to: topic)
        for probe in probes {
            let got = try await (0..<3).asyncMap { _ in try await nextPing(probe).sequence }
            // Ordering holds per sending node: 1 before 2; 3 may come anywhere.
            try check(got.sorted() == [1, 2, 3] && got.firstIndex(of: 1)! < got.firstIndex(of: 2)!,
                      "a node received \(got)")
        }
    }

    func topicsAreIsolated() async throws {
        let nodes = try await startCluster(count: 3)
        let other = laneMate(of: topic)
        let outsider = try probe(nodes[1], other)
        let insiders = try (0..<11).map { try probe(nodes[$0 % 3], topic) }
        defer { stopAll(insiders + [outsider]) }
        try await nodes[0].broadcast(Ping(1), to: topic)
        for insider in insiders { try await expectPings(insider, [1]) }
        try await nodes[0].broadcast(Ping(2), to: other)
        try await expectPings(outsider, [2])
    }

    func broadcastFromSkipsSender() async throws {
        let nodes = try await startCluster(count: 2)
        let sender = try probe(nodes[0], topic)
        let neighbour = try probe(nodes[0], topic)
        let remote = try probe(nodes[1], topic)
        defer { stopAll([sender, neighbour, remote]) }
        try await nodes[0].broadcast(Ping(1), to: topic, from: sender.subscriber.id)
        try await nodes[0].broadcast(Ping(2), to: topic)
        try await expectPings(neighbour, [1, 2])
        let first = try await receive(remote)
        try check(first.from == sender.subscriber.id, "the remote message's from is \(String(describing: first.from))")
        try await expectPings(remote, [2])
        try await expectPings(sender, [2])
    }

    func localBroadcastStaysLocal() async throws {
        let nodes = try await startCluster(count: 3)
        let probes = try nodes.map { try probe($0, topic) }
        defer { stopAll(probes) }
        try nodes[0].localBroadcast(Ping(1), to: topic)
        try await nodes[0].broadcast(Ping(2), to: topic)
        try await expectPings(probes[0], [1, 2])
        try await expectPings(probes[1], [2])
        try await expectPings(probes[2], [2])
    }

    func localBroadcastFromSkipsSender() async throws {
        let nodes = try await startCluster(count: 2)
        let sender = try probe(nodes[0], topic)
        let neighbour = try probe(nodes[0], topic)
        defer { stopAll([sender, neighbour]) }
        try nodes[0].localBroadcast(Ping(1), to: topic, from: sender.subscriber.id)
        try nodes[0].localBroadcast(Ping(2), to: topic)
        try await expectPings(neighbour, [1, 2])
        try await expectPings(sender, [2])
    }

    func directBroadcastReachesOnlyTarget() async throws {
        let nodes = try await startCluster(count: 3)
        let probes = try nodes.map { try probe($0, topic) }
        defer { stopAll(probes) }
        try await nodes[0].directBroadcast(Ping(1), to: topic, on: nodes[1].nodeName)
        let direct = try await receive(probes[1])
        try check(direct.origin == nodes[0].node, "the direct message came from \(direct.origin)")
        try check((try? direct.decode(Ping.self)) == Ping(1), "the direct message is \(direct.payload)")
        try await nodes[0].broadcast(Ping(2), to: topic)
        for probe in probes { try await expectPings(probe, [2]) }
    }

    func directBroadcastToOwnNode() async throws {
        let nodes = try await startCluster(count: 2)
        let probes = try nodes.map { try probe($0, topic) }
        defer { stopAll(probes) }
        try await nodes[0].directBroadcast(Ping(1), to: topic, on: nodes[0].nodeName)
        try await nodes[0].broadcast(Ping(2), to: topic)
        try await expectPings(probes[0], [1, 2])
        try await expectPings(probes[1], [2])
    }

    func directBroadcastToUnknownNode() async throws {
        let nodes = try await startCluster(count: 2)
        let probes = try nodes.map { try probe($0, topic) }
        defer { stopAll(probes) }
        try await nodes[0].directBroadcast(Ping(1), to: topic, on: "combo-conformance-unknown-node")
        try await nodes[0].broadcast(Ping(2), to: topic)
        for probe in probes { try await expectPings(probe, [2]) }
    }

    func perTopicOrdering() async throws {
        let nodes = try await startCluster(count: 3)
        let topics = (0..<4).map { "\(topic).\($0)" }
        let receivers = try [nodes[1], nodes[2]].map { pubsub in try topics.map { try probe(pubsub, $0) } }
        defer { stopAll(receivers.flatMap { $0 }) }
        let perTopic = 500
        // Two senders at once, each interleaving the four topics.
        try await withThrowingTaskGroup(of: Void.self) { group in
            for sender in [nodes[0], nodes[2]] {
                group.addTask {
                    for sequence in 0..<perTopic {
                        for topic in topics {
                            try await sender.broadcast(Ping(sequence, sender.nodeName.rawValue), to: topic)
                        }
                    }
                }
            }
            try await group.waitForAll()
        }
        for (receiverIndex, probes) in receivers.enumerated() {
            // node2 receives its own broadcasts locally too: 2 senders each.
            for probe in probes {
                let messages = try await receive(probe, count: 2 * perTopic)
                var bySender: [String: [Int]] = [:]
                for message in messages {
                    let ping = try message.decode(Ping.self)
                    try check(ping.text == message.origin.name.rawValue, "a ping from \(ping.text) has origin \(message.origin)")
                    bySender[ping.text, default: []].append(ping.sequence)
                }
                for (sender, sequences) in bySender {
                    try check(sequences == Array(0..<perTopic),
                              "receiver \(receiverIndex) got \(sender)'s messages out of order or incomplete (\(sequences.count))")
                }
            }
        }
    }

    func payloadSizes() async throws {
        let nodes = try await startCluster(count: 2)
        let probe = try probe(nodes[1], topic)
        defer { stopAll([probe]) }
        var generator = SplitMix64(seed: 42)
        for size in [0, 1, 100, 65_536, 1_048_576] {
            let bytes = (0..<size).map { _ in UInt8(truncatingIfNeeded: generator.next()) }
            try await nodes[0].broadcast(RawBytes(bytes), to: topic)
            let raw = try await receive(probe)
            try check(raw.bytes.map { Array($0.readableBytesView) } == bytes, "a raw payload of \(size) bytes changed")
            try check((try? raw.decode(RawBytes.self))?.bytes == bytes, "a raw payload of \(size) bytes does not decode as RawBytes")

            try await nodes[0].broadcast(bytes, to: topic)
            let encoded = try await receive(probe)
            try check((try? encoded.decode([UInt8].self)) == bytes, "an encoded payload of \(size) bytes changed")
        }
    }

    func thousandsOfTopics() async throws {
        let nodes = try await startCluster(count: 2)
        let topics = (0..<5_000).map { "\(topic).many.\($0)" }
        let subscriber = nodes[1].makeSubscriber()
        for topic in topics { try subscriber.subscribe(to: topic) }
        let probe = SubscriberProbe(subscriber)
        defer { stopAll([probe]) }
        for (index, topic) in topics.enumerated() {
            try await nodes[0].broadcast(Ping(index), to: topic)
        }
        let messages = try await receive(probe, count: topics.count)
        var seen = Set<Int>()
        for message in messages {
            let ping = try message.decode(Ping.self)
            try check(message.topic == topics[ping.sequence], "ping \(ping.sequence) arrived on \(message.topic)")
            seen.insert(ping.sequence)
        }
        try check(seen.count == topics.count, "\(seen.count) distinct topics of \(topics.count) delivered")
    }

    func codablePayloadsAcrossNodes() async throws {
        struct Order: Codable, Sendable, Equatable {
            struct Line: Codable, Sendable, Equatable {
                let sku: String
                let quantity: Int
            }
            let id: Int64
            let customer: String?
            let lines: [Line]
            let tags: [String: Double]
            let paid: Bool
        }
        let nodes = try await startCluster(count: 2)
        let sender = nodes[0].makeSubscriber()
        defer { sender.close() }
        let probe = try probe(nodes[1], topic)
        defer { stopAll([probe]) }
        let order = Order(
            id: -9_007_199_254_740_993,
            customer: "Zoë",
            lines: [.init(sku: "a-1", quantity: 3), .init(sku: "β", quantity: 0)],
            tags: ["weight": 1.5, "discount": -0.25],
            paid: true
        )
        try await nodes[0].broadcast(order, to: topic, from: sender.id)
        let message = try await receive(probe)
        try check(try message.decode(Order.self) == order, "the order changed on the way")
        try check(message.origin == nodes[0].node, "origin is \(message.origin)")
        try check(message.from == sender.id, "from is \(String(describing: message.from))")
        try check(message.topic == topic, "topic is \(message.topic)")
        let mismatch = Result { try message.decode(Ping.self) }
        if case .success = mismatch { throw ConformanceFailure("an Order decoded as a Ping") }
    }
}

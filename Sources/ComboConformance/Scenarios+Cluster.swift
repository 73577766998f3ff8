import Combo
import ComboTestKit

extension Scenarios {
    func poolSizeMigration() async throws {
        // The seed's two-step migration, all steps in one cluster at once.
        let nodes = try await fixture.startCluster([
            ("node0", fixture.configuration(poolSize: 1)),
            ("node1", fixture.configuration(poolSize: 2, broadcastPoolSize: 1)),
            ("node2", fixture.configuration(poolSize: 2)),
        ])
        let topics = (0..<32).map { "\(topic).migration.\($0)" }
        let probes = try nodes.map { pubsub in
            let subscriber = pubsub.makeSubscriber()
            for topic in topics { try subscriber.subscribe(to: topic) }
            return SubscriberProbe(subscriber)
        }
        defer { stopAll(probes) }
        for (index, pubsub) in nodes.enumerated() {
            for (sequence, topic) in topics.enumerated() {
                try await pubsub.broadcast(Ping(sequence, "node\(index)"), to: topic)
            }
        }
        for (index, probe) in probes.enumerated() {
            let messages = try await receive(probe, count: nodes.count * topics.count)
            var received: [String: Set<Int>] = [:]
            for message in messages {
                let ping = try message.decode(Ping.self)
                received[ping.text, default: []].insert(ping.sequence)
            }
            for sender in 0..<nodes.count {
                try check(received["node\(sender)"]?.count == topics.count,
                          "node\(index) got \(received["node\(sender)"]?.count ?? 0) of \(topics.count) from node\(sender)")
            }
        }
    }

    func nodeLeavesAndRejoins() async throws {
        let nodes = try await startCluster(count: 3)
        let first = try probe(nodes[1], topic)
        defer { stopAll([first]) }
        let oldIdentity = nodes[2].node

        await fixture.stop("node2")
        try await nodes[0].broadcast(Ping(1), to: topic)
        try await expectPings(first, [1])

        let restarted = try await fixture.start("node2", configuration: fixture.configuration(poolSize: poolSize))
        try check(restarted.nodeName == oldIdentity.name, "the restarted node is named \(restarted.nodeName)")
        try check(restarted.node.incarnation != oldIdentity.incarnation, "the restarted node kept its incarnation")
        try await fixture.awaitConnected([nodes[0], nodes[1], restarted])

        let second = try probe(restarted, topic)
        defer { stopAll([second]) }
        try await nodes[0].broadcast(Ping(2), to: topic)
        try await expectPings(second, [2])
        try await expectPings(first, [2])
        try await restarted.broadcast(Ping(3), to: topic)
        let message = try await receive(first)
        try check(message.origin == restarted.node, "a message from the restarted node has origin \(message.origin)")
        try await nodes[0].directBroadcast(Ping(4), to: topic, on: restarted.nodeName)
        try await expectPings(second, [3, 4])
    }
}

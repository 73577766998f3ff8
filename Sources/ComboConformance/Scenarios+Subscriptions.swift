import Combo
import ComboTestKit

extension Scenarios {
    func nodeName() async throws {
        let nodes = try await startCluster(count: 2)
        for (index, pubsub) in nodes.enumerated() {
            try check(pubsub.nodeName.rawValue == "node\(index)", "node \(index) is named \(pubsub.nodeName)")
            try check(pubsub.adapter.node == pubsub.node, "the adapter runs as \(pubsub.adapter.node), the PubSub as \(pubsub.node)")
        }
        try check(nodes[0].node != nodes[1].node, "two nodes share the identity \(nodes[0].node)")
    }

    func subscribeAndUnsubscribe() async throws {
        let nodes = try await startCluster(count: 2)
        let barrier = laneMate(of: topic)
        let subscriber = nodes[0].makeSubscriber()
        defer { subscriber.close() }
        try subscriber.subscribe(to: topic)
        try subscriber.subscribe(to: barrier)
        let entries = nodes[0].subscriptions(of: topic)
        try check(entries.count == 1 && entries[0].subscriber == subscriber.id && entries[0].metadata == nil,
                  "lookup after subscribe: \(entries)")
        subscriber.unsubscribe(from: topic)
        try check(nodes[0].subscriptions(of: topic).isEmpty, "lookup after unsubscribe is not empty")
        subscriber.unsubscribe(from: "combo.conformance.never-subscribed")
        try check(subscriber.topics == [barrier: 1], "topics after unsubscribe: \(subscriber.topics)")

        let probe = SubscriberProbe(subscriber)
        defer { probe.stop() }
        try await nodes[1].broadcast(Ping(1), to: topic)
        try await nodes[1].broadcast(Ping(2), to: barrier)
        let message = try await receive(probe)
        try check(message.topic == barrier, "an unsubscribed topic delivered \(message.topic)")
    }

    func unsubscribeMatchingMetadata() async throws {
        let nodes = try await startCluster(count: 2)
        let first = nodes[0].makeSubscriber()
        let second = nodes[0].makeSubscriber()
        try first.subscribe(to: topic, metadata: "custom")
        try first.subscribe(to: topic, metadata: "other")
        try second.subscribe(to: topic)
        try check(nodes[0].subscriptions(of: topic).count == 3, "three subscriptions expected")

        let removed = first.unsubscribe(from: topic, matching: "custom")
        try check(removed == 1, "unsubscribe(matching:) removed \(removed), expected 1")
        let left = nodes[0].subscriptions(of: topic)
        try check(left.count == 2, "\(left.count) subscriptions left, expected 2")
        let metadata = Set(left.map { $0.metadata as? String ?? "<none>" })
        try check(metadata == ["other", "<none>"], "metadata left: \(metadata)")
        try check(second.unsubscribe(from: topic, matching: "custom") == 0, "a non-matching unsubscribe removed something")

        let probes = [SubscriberProbe(first), SubscriberProbe(second)]
        defer { stopAll(probes) }
        try await nodes[1].broadcast(Ping(1), to: topic)
        try await nodes[1].broadcast(Ping(2), to: topic)
        for probe in probes { try await expectPings(probe, [1, 2]) }
    }

    func duplicateSubscriptions() async throws {
        let nodes = try await startCluster(count: 2)
        let subscriber = nodes[1].makeSubscriber()
        try subscriber.subscribe(to: topic)
        try subscriber.subscribe(to: topic)
        try check(subscriber.topics[topic] == 2, "two subscriptions expected, got \(subscriber.topics)")
        let probe = SubscriberProbe(subscriber)
        let local = try self.probe(nodes[0], topic)
        defer { stopAll([probe, local]) }
        try local.subscriber.subscribe(to: topic)
        try await nodes[0].broadcast(Ping(1), to: topic)
        try await nodes[0].broadcast(Ping(2), to: topic)
        try await expectPings(probe, [1, 1, 2, 2])
        try await expectPings(local, [1, 1, 2, 2])
    }

    func scopeEndUnsubscribes() async throws {
        let nodes = try await startCluster(count: 2)
        let barrier = laneMate(of: topic)
        let watcher = try probe(nodes[1], topic, barrier)
        defer { stopAll([watcher]) }

        try await nodes[1].subscribe(to: topic) { subscriber in
            try check(nodes[1].subscriptions(of: topic).count == 2, "the scoped subscription is missing")
            try await nodes[0].broadcast(Ping(1), to: topic)
            var iterator = subscriber.makeAsyncIterator()
            let message = try await iterator.next()
            try check((try? message?.decode(Ping.self)) == Ping(1), "the scoped subscriber got \(String(describing: message))")
        }
        try check(nodes[1].subscriptions(of: topic).count == 1, "the scope ended but its subscription remains")

        struct ScopeEnded: Error {}
        do {
            try await nodes[1].withSubscriber { subscriber in
                try subscriber.subscribe(to: topic)
                throw ScopeEnded()
            }
        } catch is ScopeEnded {}
        try check(nodes[1].subscriptions(of: topic).count == 1, "a scope that threw left its subscription")

        do {
            let dropped = nodes[1].makeSubscriber()
            try dropped.subscribe(to: topic)
        }
        try check(nodes[1].subscriptions(of: topic).count == 1, "a released subscriber left its subscription")

        try await expectPings(watcher, [1])
        try await nodes[0].broadcast(Ping(2), to: topic)
        try await expectPings(watcher, [2])
    }
}

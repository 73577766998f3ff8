import Combo
import ComboTestKit

extension Scenarios {
    /// Takes the next `count` messages of `probe` as ``Tagged`` ones.
    func nextTagged(_ probe: SubscriberProbe, count: Int, file: String = #fileID, line: Int = #line) async throws -> [Tagged] {
        try await receive(probe, count: count).map { message in
            guard let tagged = Tagged.from(message) else {
                throw ConformanceFailure("expected a message of the custom dispatcher, got \(message.payload)", file: file, line: line)
            }
            return tagged
        }
    }

    func customDispatcherAcrossNodes() async throws {
        let nodes = try await startCluster(count: 2)
        let sender = try probe(nodes[0], topic)
        let receiver = nodes[1].makeSubscriber()
        try receiver.subscribe(to: topic)
        try receiver.subscribe(to: topic, metadata: "special")
        let remote = SubscriberProbe(receiver)
        defer { stopAll([sender, remote]) }
        let dispatcher = TaggingDispatcher.name

        // broadcast with from: the custom dispatcher sees the sender on both nodes.
        try await nodes[0].broadcast(Ping(1), to: topic, from: sender.subscriber.id, dispatcher: dispatcher)
        let remoteTagged = try await nextTagged(remote, count: 2)
        try check(Set(remoteTagged.map { $0.metadata ?? "<none>" }) == ["special", "<none>"],
                  "remote metadata seen: \(remoteTagged.map(\.metadata))")
        try check(remoteTagged.allSatisfy { $0.from == sender.subscriber.id },
                  "the remote dispatcher saw from = \(remoteTagged.map(\.from))")
        try check(remoteTagged.allSatisfy { (try? $0.original.decode(Ping.self)) == Ping(1) }, "the payload changed")
        let localTagged = try await nextTagged(sender, count: 1)
        try check(localTagged[0].from == sender.subscriber.id && localTagged[0].metadata == nil,
                  "the local dispatcher saw \(localTagged)")

        // broadcast without from.
        try await nodes[0].broadcast(Ping(2), to: topic, dispatcher: dispatcher)
        let plain = try await nextTagged(remote, count: 2)
        try check(plain.allSatisfy { $0.from == nil }, "from should be absent, saw \(plain.map(\.from))")
        _ = try await nextTagged(sender, count: 1)

        // local broadcast (from) and direct broadcast use the dispatcher too.
        try nodes[1].localBroadcast(Ping(3), to: topic, from: receiver.id, dispatcher: dispatcher)
        let local = try await nextTagged(remote, count: 2)
        try check(local.allSatisfy { $0.from == receiver.id }, "local broadcast from: saw \(local.map(\.from))")
        try await nodes[0].directBroadcast(Ping(4), to: topic, on: nodes[1].nodeName, dispatcher: dispatcher)
        let direct = try await nextTagged(remote, count: 2)
        try check(direct.allSatisfy { (try? $0.original.decode(Ping.self)) == Ping(4) }, "direct broadcast payload changed")

        do {
            try await nodes[0].broadcast(Ping(5), to: topic, dispatcher: "combo.conformance.unregistered")
            throw ConformanceFailure("an unregistered dispatcher was accepted")
        } catch PubSubError.unknownDispatcher(let name) {
            try check(name == "combo.conformance.unregistered", "the error names \(name)")
        }
    }

    func configuredDefaultDispatcher() async throws {
        var configuration = fixture.configuration(poolSize: poolSize)
        configuration.defaultDispatcher = TaggingDispatcher.name
        let nodes = try await fixture.startCluster([("node0", configuration), ("node1", configuration)])
        let receiver = try probe(nodes[1], topic, metadata: "meta")
        defer { stopAll([receiver]) }
        try await nodes[0].broadcast(Ping(1), to: topic)
        let tagged = try await nextTagged(receiver, count: 1)
        try check(tagged[0].metadata == "meta", "the configured default dispatcher did not run remotely")
        try nodes[1].localBroadcast(Ping(2), to: topic, dispatcher: DefaultDispatcher.name)
        let plain = try await receive(receiver)
        try check((try? plain.decode(Ping.self)) == Ping(2), "naming the built-in dispatcher did not override the default")
    }
}

@testable import ComboCLI
import Foundation
import Testing

/// The fault matrix's network cases: `combo node` processes on the mesh, each
/// in a network namespace of its own, cut apart with nftables and healed.
/// They take seconds, so `make test` runs them too, as root (skipped, with
/// the reason, otherwise); the figures they print are recorded in
/// docs/RELIABILITY.md.
@Suite(
    "Faults: partitions and packet loss between node processes",
    .enabled(if: ClusteredTests.enabled),
    .enabled(if: FaultNetwork.unavailableReason == nil, "\(FaultNetwork.unavailableReason ?? "")"),
    .serialized
)
struct PartitionFaultTests {
    /// The liveness timeout of the mesh, in seconds, and the tracker's periods, in milliseconds.
    static let liveness = 2
    static let trackerBroadcastPeriod = 100
    static let trackerDownPeriod = 1500

    /// Three hosts, a node on each, every node tracking `userN` in `room` and
    /// subscribed to `news`; returns once every node lists all three.
    func startCluster(_ network: FaultNetwork, liveness: Int = Self.liveness) async throws -> [DemoNodeProcess] {
        let secret = "faults-\(UInt64.random(in: 0 ... .max))"
        var environment = ProcessInfo.processInfo.environment
        environment["COMBO_SECRET"] = secret
        var nodes: [DemoNodeProcess] = []
        do {
            for host in network.hosts {
                var arguments = [
                    "--listen", "\(network.address(host)):4370", "--liveness-timeout", "\(liveness)",
                    "--tracker-broadcast-period", "\(Self.trackerBroadcastPeriod)",
                    "--tracker-down-period", "\(Self.trackerDownPeriod)",
                ]
                if host != network.hosts[0] { arguments += ["--seed", "\(network.address(network.hosts[0])):4370"] }
                let node = try DemoNodeProcess(
                    executable: ComboCLITests.executable, name: host, arguments: arguments, environment: environment,
                    launcher: network.launcher(host))
                nodes.append(node)
                _ = try await node.waitFor("ready") { $0.hasPrefix("ready ") }
            }
            for (index, node) in nodes.enumerated() {
                node.send("subscribe news")
                _ = try await node.waitFor("ok subscribe") { $0 == "ok subscribe news" }
                node.send("track room user\(index + 1)")
                _ = try await node.waitFor("ok track") { $0 == "ok track room user\(index + 1)" }
            }
            try await awaitPresences(nodes, "room", ["user1@h1", "user2@h2", "user3@h3"])
        } catch {
            nodes.forEach { $0.kill() }
            throw error
        }
        return nodes
    }

    /// Waits until every node lists exactly `expected` in `topic`.
    func awaitPresences(_ nodes: [DemoNodeProcess], _ topic: String, _ expected: [String], timeout: Duration = .seconds(30)) async throws {
        let line = "list \(topic) " + expected.sorted().joined(separator: ",")
        let deadline = ContinuousClock.now + timeout
        for node in nodes {
            while true {
                node.send("list \(topic)")
                let listed = try await node.waitFor("the list of \(topic)") { $0.hasPrefix("list \(topic)") }
                if listed.trimmingCharacters(in: .whitespaces) == line.trimmingCharacters(in: .whitespaces) { break }
                guard ContinuousClock.now < deadline else {
                    throw FaultNetworkError("\(node.name) lists \(listed), not \(line), after \(timeout)")
                }
                try await Task.sleep(for: .milliseconds(50))
            }
        }
    }

    /// Publishes `text` on `news` from `sender` until every node in `receivers` printed it.
    func awaitBroadcast(from sender: DemoNodeProcess, to receivers: [DemoNodeProcess], _ text: String) async throws {
        sender.send("publish news \(text)")
        for receiver in receivers {
            _ = try await receiver.waitFor("\(sender.name)'s broadcast \(text)", anywhere: true) {
                $0 == "received news \(sender.name) \(text)"
            }
        }
    }

    @Test("a 2|1 partition: both sides see the other down and its presences leave; after healing, everything converges")
    func twoOneSplit() async throws {
        let network = try FaultNetwork(hosts: 3)
        defer { network.tearDown() }
        let nodes = try await startCluster(network)
        defer { nodes.forEach { $0.kill() } }
        let (majority, minority) = (Array(nodes[0...1]), nodes[2])

        let cutAt = ContinuousClock.now
        try network.cut("h3", from: ["h1", "h2"])
        for node in majority {
            _ = try await node.waitFor("h3 down", anywhere: true) { $0.hasPrefix("down h3 ") }
            _ = try await node.waitFor("user3 leaving", anywhere: true) { $0.hasPrefix("leave room user3 h3") }
        }
        for name in ["h1", "h2"] {
            _ = try await minority.waitFor("\(name) down", anywhere: true) { $0.hasPrefix("down \(name) ") }
        }
        let detected = ContinuousClock.now - cutAt
        try await awaitPresences(majority, "room", ["user1@h1", "user2@h2"])
        try await awaitPresences([minority], "room", ["user3@h3"])
        // Each side still works on its own.
        try await awaitBroadcast(from: nodes[0], to: [nodes[1]], "during the split")

        let healedAt = ContinuousClock.now
        try network.heal()
        try await awaitPresences(nodes, "room", ["user1@h1", "user2@h2", "user3@h3"])
        let converged = ContinuousClock.now - healedAt
        try await awaitBroadcast(from: minority, to: majority, "after healing")
        print("fault matrix: 2|1 partition detected in \(detected), presences converged \(converged) after healing")
        #expect(converged < .seconds(15), "converged \(converged) after healing")
        for node in nodes { await node.stop() }
    }

    @Test("a one-way partition (h3 cannot hear h1): no ghost presence stays, and after healing everything converges")
    func oneWay() async throws {
        let network = try FaultNetwork(hosts: 3)
        defer { network.tearDown() }
        let nodes = try await startCluster(network)
        defer { nodes.forEach { $0.kill() } }

        try network.cut("h3", from: ["h1"], oneWay: true)
        // TCP cannot work one way: the h1–h3 link fails as a whole, and h2 stays linked to both.
        _ = try await nodes[2].waitFor("h1 down on h3", anywhere: true) { $0.hasPrefix("down h1 ") }
        _ = try await nodes[0].waitFor("h3 down on h1", anywhere: true) { $0.hasPrefix("down h3 ") }
        try await awaitBroadcast(from: nodes[1], to: [nodes[0], nodes[2]], "from the middle")

        let healedAt = ContinuousClock.now
        try network.heal()
        _ = try await nodes[0].waitFor("h3 up again on h1") { $0.hasPrefix("up h3 ") }
        try await awaitPresences(nodes, "room", ["user1@h1", "user2@h2", "user3@h3"])
        let converged = ContinuousClock.now - healedAt
        try await awaitBroadcast(from: nodes[2], to: [nodes[0], nodes[1]], "after healing")
        print("fault matrix: one-way partition healed, presences converged \(converged) after healing")
        #expect(converged < .seconds(15), "converged \(converged) after healing")
        for node in nodes { await node.stop() }
    }

    @Test("5% packet loss on every host: every broadcast arrives, in order, and no node is declared down")
    func packetLoss() async throws {
        let network = try FaultNetwork(hosts: 3)
        defer { network.tearDown() }
        // The default liveness timeout: loss alone must not look like a dead peer.
        let nodes = try await startCluster(network, liveness: 5)
        defer { nodes.forEach { $0.kill() } }
        try network.loss(percent: 5)
        let count = 200
        let startedAt = ContinuousClock.now
        for index in 1...count {
            nodes[0].send("publish news m\(index)")
            // About 100 broadcasts a second.
            try await Task.sleep(for: .milliseconds(10))
        }
        for receiver in nodes[1...2] {
            _ = try await receiver.waitFor("the last broadcast", anywhere: true, timeout: .seconds(60)) {
                $0 == "received news h1 m\(count)"
            }
            let received = receiver.transcript.filter { $0.hasPrefix("received news h1 m") }
            #expect(received == (1...count).map { "received news h1 m\($0)" }, "\(receiver.name) received \(received.count) of \(count)")
        }
        let elapsed = ContinuousClock.now - startedAt
        let dropped = try network.droppedPackets()
        #expect(dropped > 0, "the loss rules dropped no packet")
        try network.heal()
        for node in nodes {
            #expect(!node.transcript.contains { $0.hasPrefix("down ") }, "\(node.name) declared a peer down: \(node.transcript.filter { $0.hasPrefix("down ") })")
        }
        print("fault matrix: 5% loss (\(dropped) packets dropped), \(count) broadcasts at 100/s all delivered in order within \(elapsed)")
        for node in nodes { await node.stop() }
    }
}

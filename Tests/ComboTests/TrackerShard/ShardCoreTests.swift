import Testing
@testable import Combo

@Suite("Tracker shard protocol")
struct ShardCoreTests {
    let topic = "room:lobby"

    /// Replicas a and b that have heard each other, and a's presence "alice"
    /// already replicated to b.
    func pairWithAlice() throws -> (ShardNetwork, a: NodeIdentity, b: NodeIdentity) {
        var network = ShardNetwork()
        let a = network.add(ShardNetwork.identity("a"))
        let b = network.add(ShardNetwork.identity("b"))
        network.tickAll()
        network.deliverAll()
        try network.track("a", ShardNetwork.owner(a), topic, "alice")
        network.tickAll()
        network.deliverAll()
        return (network, a, b)
    }

    /// Replicas a and b that have heard each other, a with `count` presences
    /// b has not heard of, and the full transfer a would send b.
    func pairWithTransfer(count: Int) throws -> (ShardNetwork, a: NodeIdentity, b: NodeIdentity, TrackerMessage) {
        var network = ShardNetwork()
        let a = network.add(ShardNetwork.identity("a"))
        let b = network.add(ShardNetwork.identity("b"))
        network.tickAll()
        network.deliverAll()
        for index in 0..<count { try network.track("a", ShardNetwork.owner(a, UInt64(index)), topic, "a\(index)") }
        let clocks = network.cores[b.name]!.state.clocks
        let transfer = network.cores[a.name]!.state.extract(for: b, remoteContext: clocks)
        return (network, a, b, .transferAck(ref: 1, sender: a, payload: .full(transfer)))
    }

    @Test("a full transfer with a step budget is merged in steps; local writes and ticks go on between them")
    func transferMergedInSteps() throws {
        var (network, a, b, ack) = try pairWithTransfer(count: 40)
        let (nameA, nameB) = (a.name, b.name)

        let first = network.cores[nameB]!.receive(ack, now: network.now, mergeBudget: 8)
        #expect(network.cores[nameB]!.isMerging)
        #expect(first.diff.joins.count == 8)
        // Between steps the shard takes local writes and ticks.
        try network.track("b", ShardNetwork.owner(b), topic, "bob")
        network.tick("b")
        var steps = 1
        var joined = first.diff.joins.count
        while network.cores[nameB]!.isMerging {
            let effects = network.cores[nameB]!.continueMerge(budget: 8)
            #expect(effects.diff.joins.count <= 8)
            joined += effects.diff.joins.count
            steps += 1
        }
        #expect(steps == 5)
        #expect(joined == 40)
        #expect(network.keys("b", topic) == (["bob"] + (0..<40).map { "a\($0)" }).sorted())
        #expect(network.cores[nameB]!.state.context[a] == network.cores[nameA]!.state.context[a])
        #expect(network.cores[nameB]!.continueMerge(budget: 8).diff.joins.isEmpty)
    }

    @Test("a message that arrives during a merge in steps first finishes the merge")
    func messageFinishesMergeInSteps() throws {
        var (network, a, b, ack) = try pairWithTransfer(count: 20)
        let (nameA, nameB) = (a.name, b.name)
        _ = network.cores[nameB]!.receive(ack, now: network.now, mergeBudget: 3)
        #expect(network.cores[nameB]!.isMerging)
        // a's next change, as a delta heartbeat: merged after the transfer, in order.
        _ = network.cores[nameA]!.untrackAll(owner: ShardNetwork.owner(a, 0))
        network.tick("a")
        guard case .heartbeat(let sender, let delta?, let clocks) = network.pending.last else {
            Issue.record("expected a delta heartbeat from a, got \(network.pending)")
            return
        }
        let effects = network.cores[nameB]!.receive(.heartbeat(sender: sender, delta: delta, clocks: clocks), now: network.now)
        #expect(!network.cores[nameB]!.isMerging)
        #expect(effects.diff.joins.count == 17)
        #expect(effects.diff.leaves.map(\.key) == ["a0"])
        #expect(network.keys("b", topic) == (1..<20).map { "a\($0)" }.sorted())
    }

    @Test("the first tick announces the replica; idle ticks stay silent until maxSilentPeriods")
    func heartbeats() {
        var network = ShardNetwork()
        network.add(ShardNetwork.identity("a"))
        network.tick("a")
        #expect(network.pending.map(\.kindLabel) == ["heartbeat_empty"])
        network.outbox.removeAll()
        for _ in 0..<3 { network.tick("a") }
        #expect(network.pending.isEmpty, "three silent periods pass without a heartbeat")
        network.tick("a")
        #expect(network.pending.map(\.kindLabel) == ["heartbeat_empty"])
    }

    @Test("a change goes out as a delta heartbeat on the next tick, once")
    func deltaHeartbeat() throws {
        var network = ShardNetwork()
        let a = network.add(ShardNetwork.identity("a"))
        network.tick("a")
        network.outbox.removeAll()
        try network.track("a", ShardNetwork.owner(a), topic, "alice")
        network.tick("a")
        guard case .heartbeat(_, let delta?, _) = network.pending.first else {
            Issue.record("expected a delta heartbeat, got \(network.pending)")
            return
        }
        #expect(delta.size > 0)
        network.outbox.removeAll()
        network.tick("a")
        #expect(network.pending.isEmpty)
    }

    @Test("presences replicate through delta heartbeats")
    func replication() throws {
        let (network, _, _) = try pairWithAlice()
        #expect(network.keys("b", topic) == ["alice"])
        #expect(network.diffs[NodeName("b")]?.last?.joins.map(\.key) == ["alice"])
    }

    @Test("tracking the same owner, topic and key twice is an error; update needs a presence")
    func trackErrors() throws {
        var network = ShardNetwork()
        let a = network.add(ShardNetwork.identity("a"))
        let owner = ShardNetwork.owner(a)
        try network.track("a", owner, topic, "alice")
        #expect(throws: TrackerError.alreadyTracked(owner: owner, topic: topic, key: "alice")) {
            try network.track("a", owner, topic, "alice")
        }
        try network.track("a", ShardNetwork.owner(a, 2), topic, "alice")
        #expect(network.keys("a", topic) == ["alice", "alice"])
        var core = network.cores[a.name]!
        #expect(throws: TrackerError.noPresence(owner: owner, topic: topic, key: "bob")) {
            try core.update(owner: owner, topic: topic, key: "bob") { $0 }
        }
        let (ref, diff) = try core.update(owner: owner, topic: topic, key: "alice") { _ in ["status": "away"] }
        #expect(diff.leaves.count == 1 && diff.joins.count == 1)
        #expect(diff.joins[0].meta.ref == ref && diff.joins[0].meta.previousRef == diff.leaves[0].meta.ref)
        #expect(diff.joins[0].meta.values == ["status": "away"])
        #expect(core.untrack(owner: owner, topic: topic, key: "nobody").leaves.isEmpty)
        #expect(core.untrackAll(owner: owner).leaves.map(\.key) == ["alice"])
        #expect(core.state.list(topic: topic).count == 1)
    }

    @Test("a node that joins late asks exactly one peer for a transfer, once")
    func transferOnUnseenNode() throws {
        var network = ShardNetwork()
        let a = network.add(ShardNetwork.identity("a"))
        let b = network.add(ShardNetwork.identity("b"))
        network.tickAll()
        network.deliverAll()
        try network.track("a", ShardNetwork.owner(a), topic, "alice")
        try network.track("b", ShardNetwork.owner(b), topic, "bob")
        network.tickAll()
        network.deliverAll()
        // Let a and b settle so that their clocks are equal.
        for _ in 0..<4 {
            network.tickAll()
            network.deliverAll()
        }
        #expect(network.keys("a", topic) == ["alice", "bob"] && network.keys("b", topic) == ["alice", "bob"])

        network.add(ShardNetwork.identity("c"))
        var requests = 0
        for _ in 0..<6 {
            network.advance(.milliseconds(100))
            // a and b heartbeat (empty ones count too once silent long enough).
            for name in ["a", "b", "c"] { network.tick(name) }
            requests += network.pending.filter { if case .transferRequest = $0 { true } else { false } }.count
            network.deliverAll()
        }
        #expect(requests == 1, "c sent \(requests) transfer requests")
        #expect(network.keys("c", topic) == ["alice", "bob"])
    }

    @Test("a silent replica goes down (presences hidden) and comes back with the same incarnation")
    func temporaryDown() throws {
        var (network, a, _) = try pairWithAlice()
        #expect(network.keys("b", topic) == ["alice"])

        network.advance(.milliseconds(1100))
        network.tick("b")
        network.deliverAll(dropping: { $0.from == a })
        #expect(network.keys("b", topic) == [], "a's presences are hidden while it is down")
        #expect(network.events[NodeName("b")]?.last == .down(a))
        #expect(network.diffs[NodeName("b")]?.last?.leaves.map(\.key) == ["alice"])

        // a speaks again (same incarnation): its presences come back without a transfer.
        for _ in 0..<4 { network.tick("a") }
        network.deliverAll()
        #expect(network.keys("b", topic) == ["alice"])
        #expect(network.events[NodeName("b")]?.last == .up(a))
        #expect(network.diffs[NodeName("b")]?.last?.joins.map(\.key) == ["alice"])
    }

    @Test("a restarted node (new incarnation) replaces its old self: old presences leave at once")
    func restartWithNewIncarnation() throws {
        var network = ShardNetwork()
        let a = network.add(ShardNetwork.identity("a", 1))
        network.add(ShardNetwork.identity("b"))
        network.tickAll()
        network.deliverAll()
        try network.track("a", ShardNetwork.owner(a), topic, "alice")
        network.tickAll()
        network.deliverAll()
        #expect(network.keys("b", topic) == ["alice"])

        let a2 = network.add(ShardNetwork.identity("a", 2))
        try network.track("a", ShardNetwork.owner(a2), topic, "alice-again")
        network.tick("a")
        network.deliverAll()
        #expect(network.keys("b", topic) == ["alice-again"])
        let events = network.events[NodeName("b")] ?? []
        #expect(events.suffix(3) == [.down(a), .permdown(a), .up(a2)])
    }

    @Test("a replica silent past the permdown period is forgotten with its presences")
    func permdown() throws {
        var (network, a, b) = try pairWithAlice()
        network.remove("a")
        network.advance(.seconds(2))
        network.tick("b")
        #expect(network.keys("b", topic) == [])
        network.advance(.seconds(9))
        network.tick("b")
        #expect(network.events[b.name]?.suffix(2) == [.down(a), .permdown(a)])
        #expect(network.cores[b.name]!.replicas.identity(of: a.name) == nil)
        #expect(network.cores[b.name]!.state.status(of: a) == nil, "the permdowned replica is forgotten entirely")
    }

    @Test("a graceful permdown removes the sender's presences at once")
    func gracefulPermdown() throws {
        var (network, a, b) = try pairWithAlice()
        let core = network.cores[a.name]!
        guard case .broadcast(let message) = core.gracefulPermdownMessage() else {
            Issue.record("a graceful permdown is a broadcast")
            return
        }
        network.outbox.append(.init(from: a, to: nil, message: message))
        network.deliverAll()
        #expect(network.keys("b", topic) == [])
        #expect(network.events[b.name]?.suffix(2) == [.down(a), .permdown(a)])
        // A stale permdown for an incarnation b does not know changes nothing.
        network.outbox.append(.init(from: a, to: nil, message: .gracefulPermdown(sender: ShardNetwork.identity("a", 99))))
        network.deliverAll()
        #expect(network.events[b.name]?.count == 3)
    }

    @Test("a new node asks once for a transfer while a departed node is still down, not permdown")
    func rollingUpdate() throws {
        // Upstream's "rolling node update": down replicas are left out of the
        // clocks, or the newcomer would keep finding the primary's clock ahead.
        var network = ShardNetwork()
        let primary = network.add(ShardNetwork.identity("primary"))
        let first = network.add(ShardNetwork.identity("node1"))
        network.tickAll()
        network.deliverAll()
        try network.track("primary", ShardNetwork.owner(primary), topic, "primary")
        network.tickAll()
        network.deliverAll()
        #expect(network.keys("node1", topic) == ["primary"])

        network.remove("node1")
        network.advance(.milliseconds(1100))
        network.tick("primary")
        network.deliverAll()
        #expect(network.events[primary.name]?.last == .down(first))

        let second = network.add(ShardNetwork.identity("node2"))
        var requests: [(from: NodeName, to: NodeName?)] = []
        for _ in 0..<10 {
            network.advance(.milliseconds(100))
            network.tickAll()
            for envelope in network.outbox {
                if case .transferRequest = envelope.message { requests.append((envelope.from.name, envelope.to)) }
            }
            network.deliverAll()
        }
        #expect(requests.count == 1, "transfer requests: \(requests)")
        #expect(requests.first?.from == second.name && requests.first?.to == primary.name)
        #expect(network.keys("node2", topic) == ["primary"])
        #expect(!(network.events[primary.name] ?? []).contains(.permdown(first)), "node1 is still only down")
    }

    @Test("a newcomer is greeted on the next tick, not after the keep-alive interval")
    func greetNewcomer() {
        var network = ShardNetwork()
        network.add(ShardNetwork.identity("a"))
        network.tick("a")
        network.outbox.removeAll()
        network.tick("a")
        #expect(network.pending.isEmpty, "a is silent")
        network.add(ShardNetwork.identity("c"))
        network.tick("c")
        network.deliverAll()
        network.tick("a")
        #expect(network.pending.map(\.kindLabel) == ["heartbeat_empty"], "a greets c at once")
    }
}

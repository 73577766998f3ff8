@testable import Combo
import Testing

/// Regression tests for the reference implementation's known defects that Combo's
/// tracker state must not have; each fails on a direct port of upstream's State.
@Suite("Tracker state: reference defects")
struct TrackerDefectTests {
    typealias F = TrackerFixture

    /// Upstream issue #148: A and B synced alice; A updated her twice while B
    /// missed it; C, new, got A's latest delta and then B's stale full state.
    @Test("defect 2: a stale full-state transfer does not overwrite a newer value")
    func staleTransferAfterNewerDelta() throws {
        var states = F.connected(["a", "b"])
        var a = states.removeFirst()
        var b = states.removeFirst()
        let alice = F.owner(a.replica, 1)
        try a.join(owner: alice, topic: "lobby", key: "alice", meta: F.meta(1, ["v": "initial"]))
        b.merge(try a.takeRequiredDelta())
        try a.update(owner: alice, topic: "lobby", key: "alice", meta: F.meta(2, ["v": "update1"]))
        _ = try a.takeRequiredDelta()  // lost on its way to b

        var c = TrackerState(replica: F.node("c"))
        c.replicaUp(a.replica)
        c.replicaUp(b.replica)
        a.replicaUp(c.replica)
        b.replicaUp(c.replica)
        try a.update(owner: alice, topic: "lobby", key: "alice", meta: F.meta(3, ["v": "update2"]))
        let latest = try a.takeRequiredDelta()

        #expect(c.merge(latest).joins.map(\.meta.values) == [["v": "update2"]])
        let stale = b.transfer(for: c)
        #expect(stale.records.map(\.meta.values) == [["v": "initial"]])
        #expect(c.merge(stale).isEmpty)
        let listed = c.list(topic: "lobby")
        #expect(listed.count == 1)
        #expect(listed.first?.meta.values == ["v": "update2"])
        #expect(listed.first?.tag == PresenceTag(replica: a.replica, clock: 5))

        // A's own state then fills the gap; nothing changes visibly.
        #expect(c.merge(a.transfer(for: c)).isEmpty)
        #expect(c.context[a.replica] == 5 && c.clouds.isEmpty)
        #expect(c.list(topic: "lobby").map(\.meta.values) == [["v": "update2"]])
    }

    @Test("defect 2: a newer version replaces an older one even when the delta does not name the old dot")
    func newerDeltaAfterStaleTransfer() throws {
        var states = F.connected(["a", "b"])
        var a = states.removeFirst()
        var b = states.removeFirst()
        let alice = F.owner(a.replica, 1)
        try a.join(owner: alice, topic: "lobby", key: "alice", meta: F.meta(1, ["v": "initial"]))
        b.merge(try a.takeRequiredDelta())
        try a.update(owner: alice, topic: "lobby", key: "alice", meta: F.meta(2, ["v": "update1"]))
        _ = try a.takeRequiredDelta()
        try a.update(owner: alice, topic: "lobby", key: "alice", meta: F.meta(3, ["v": "update2"]))
        let latest = try a.takeRequiredDelta()
        #expect(!latest.covers(a.replica, 1))

        var c = TrackerState(replica: F.node("c"))
        c.replicaUp(a.replica)
        c.replicaUp(b.replica)
        #expect(c.merge(b.transfer(for: c)).joins.map(\.meta.values) == [["v": "initial"]])
        let diff = c.merge(latest)
        #expect(diff.leaves.map(\.meta.values) == [["v": "initial"]])
        #expect(diff.joins.map(\.meta.values) == [["v": "update2"]])
        #expect(c.list(topic: "lobby").map(\.meta.values) == [["v": "update2"]])
        #expect(c.merge(a.transfer(for: c)).isEmpty)
        #expect(c.count == 1)
    }

    @Test("defect 1: permdown forgets a replica entirely, so restarts never grow the state")
    func permdownForgetsReplicas() throws {
        var a = TrackerState(replica: F.node("a"))
        var generations = DeltaGenerations(maxSizes: [5, 50])
        for incarnation in UInt64(1)...200 {
            var peer = TrackerState(replica: F.node("b", incarnation))
            peer.replicaUp(a.replica)
            a.replicaUp(peer.replica)
            peer.track(1, "lobby", "user")
            let delta = try peer.takeRequiredDelta()
            a.merge(delta)
            generations.push(delta, parent: a)
            #expect(a.onlineKeys == ["user"])
            a.replicaDown(peer.replica)
            a.permdown(peer.replica)
            generations.removeReplica(peer.replica)
            #expect(a.status(of: peer.replica) == nil)
        }
        #expect(a.replicas == [a.replica: .up])
        #expect(a.context == [a.replica: 0] && a.clocks == [a.replica: 0])
        #expect(a.clouds.isEmpty && a.count == 0)
        #expect(a.replicaSlotCount == 2)
        #expect(generations.generations.allSatisfy { Set($0.start.replicas) == [a.replica] && $0.valueDots.isEmpty })
    }

    @Test("defect 3: merging a delta touches only the rows it names")
    func deltaMergeDoesNotScan() throws {
        var states = F.connected(["a", "b"])
        var a = states.removeFirst()
        var b = states.removeFirst()
        for index in 0..<5_000 { b.track(UInt64(index), "room:\(index % 7)", "user:\(index)") }
        _ = b.takeDelta()
        a.merge(b.transfer(for: a))
        #expect(a.count == 5_000)
        let scansBefore = a.fullScans

        b.untrack(10, "room:3", "user:10")
        try b.update(owner: F.owner(b.replica, 11), topic: "room:4", key: "user:11", meta: F.meta(7))
        b.track(9_999, "room:0", "user:9999")
        let diff = a.merge(try b.takeRequiredDelta())
        #expect(diff.leaves.map(\.key).sorted() == ["user:10", "user:11"])
        #expect(diff.joins.map(\.key).sorted() == ["user:11", "user:9999"])
        b.untrack(12, "room:5", "user:12")
        #expect(a.merge(try b.takeRequiredDelta()).leaves.map(\.key) == ["user:12"])
        #expect(a.fullScans == scansBefore)
        #expect(a.count == 4_999)

        // A delta naming more dots than there are rows is served by one scan, not by probing every dot.
        let sweeping = TrackerDelta(origin: b.replica, start: [b.replica: 0], end: [b.replica: .max - 1])
        #expect(a.merge(sweeping).leaves.count == 4_999)
        #expect(a.fullScans == scansBefore + 1)
        #expect(a.count == 0)
    }

    @Test("defect 6: a transfer never carries the requester's own rows, and tells incarnations apart")
    func transferExcludesRequesterOnly() {
        var a = TrackerState(replica: F.node("a"))
        var old = TrackerState(replica: F.node("b", 1))
        var new = TrackerState(replica: F.node("b", 2))
        for peer in [old.replica, new.replica] { a.replicaUp(peer) }
        old.replicaUp(a.replica)
        new.replicaUp(a.replica)
        new.replicaUp(old.replica)
        a.track(1, "lobby", "from-a")
        old.track(1, "lobby", "from-b1")
        new.track(1, "lobby", "from-b2")
        a.merge(old.transfer(for: a))
        a.merge(new.transfer(for: a))
        #expect(a.onlineKeys == ["from-a", "from-b1", "from-b2"])

        let forNew = a.transfer(for: new)
        #expect(forNew.records.keys == ["from-a", "from-b1"])
        #expect(forNew.context.replicas.contains(new.replica))
        let forOld = a.extract(for: old.replica, remoteContext: [a.replica: 0, old.replica: 0, new.replica: 0])
        #expect(forOld.records.keys == ["from-a", "from-b2"])

        // The same holds for a delta extracted from a generation.
        var generations = DeltaGenerations()
        a.track(2, "lobby", "later")
        generations.push(a.pendingDelta, parent: a)
        var merged = a.pendingDelta
        merged = (try? merged.merging(new.pendingDelta)) ?? merged
        let extracted = merged.extract(for: new.replica, remoteContext: new.context)
        #expect(extracted.records.allSatisfy { $0.tag.replica != new.replica })
        #expect(!extracted.records.isEmpty)
    }

    /// Found by the property tests, and present upstream: a delta extracted for a
    /// requester kept the requester's dots but not its presences; pushed into the
    /// requester's generations, it turned the requester's own live presences into
    /// removals, which a third replica then adopted for good (the dots count as seen).
    @Test("a delta extracted for a requester never claims the requester's presences were removed")
    func extractedDeltaKeepsRequesterIntact() throws {
        var states = F.connected(["a", "b", "c"])
        var a = states.removeFirst()
        var b = states.removeFirst()
        var c = states.removeFirst()
        var generationsA = DeltaGenerations()
        var generationsB = DeltaGenerations()

        a.track(1, "lobby", "alice")
        let fromA = try a.takeRequiredDelta()
        generationsA.push(fromA, parent: a)
        b.merge(fromA)
        generationsB.push(fromA, parent: b)
        b.track(2, "lobby", "bob")
        generationsB.push(try b.takeRequiredDelta(), parent: b)

        // a missed b's delta and asks b; b answers from its generations.
        let answer = generationsB.extract(from: b, for: a.replica, remoteContext: a.clocks)
        guard case .delta(let delta) = answer else {
            Issue.record("expected a delta, got \(answer)")
            return
        }
        #expect(delta.start[a.replica] == nil && delta.dots[a.replica] == nil)
        #expect(a.merge(answer).joins.keys == ["bob"])
        generationsA.push(delta, parent: a)
        #expect(generationsA.generations.allSatisfy {
            $0.extract(from: a, for: c.replica, remoteContext: c.clocks).records.contains { $0.key == "alice" }
        })

        // c asks a, and gets alice.
        let forC = generationsA.extract(from: a, for: c.replica, remoteContext: c.clocks)
        #expect(c.merge(forC).joins.keys == ["alice", "bob"])
        #expect(c.onlineKeys == ["alice", "bob"])
    }
}

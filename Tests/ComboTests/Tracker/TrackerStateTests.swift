@testable import Combo
import Testing

/// The cases of upstream's `state_test.exs`, in Combo's terms: owners live on
/// their replica, so "the same pid on two nodes" becomes two owners.
@Suite("Tracker state")
struct TrackerStateTests {
    typealias F = TrackerFixture

    @Test("a new state extracts nothing")
    func emptyExtract() {
        let a = TrackerState(replica: F.node("a"))
        let transfer = a.extract(for: a.replica, remoteContext: a.context)
        #expect(transfer.values.isEmpty)
        #expect(transfer.context == [F.node("a"): 0])
        #expect(!a.hasDelta)
        #expect(a.count == 0)
    }

    @Test("a presence tracked is listed until it leaves")
    func joinAndLeave() throws {
        var a = TrackerState(replica: F.node("a"))
        let john = F.owner(a.replica, 1)
        let joined = try a.join(owner: john, topic: "lobby", key: "john", meta: F.meta(1))
        #expect(joined.tag == PresenceTag(replica: a.replica, clock: 1))
        #expect(a.list(topic: "lobby").keys == ["john"])
        #expect(a.leave(owner: john, topic: "lobby", key: "john") == joined)
        #expect(a.list(topic: "lobby").isEmpty)
        #expect(a.leave(owner: john, topic: "lobby", key: "john") == nil)
        #expect(a.count == 0 && a.topicCount == 0)
    }

    @Test("join refuses a presence already tracked and an owner of another node")
    func joinErrors() throws {
        var a = TrackerState(replica: F.node("a"))
        let owner = F.owner(a.replica, 1)
        try a.join(owner: owner, topic: "lobby", key: "k", meta: F.meta(1))
        #expect(throws: TrackerStateError.alreadyTracked(topic: "lobby", key: "k")) {
            try a.join(owner: owner, topic: "lobby", key: "k", meta: F.meta(2))
        }
        let foreign = F.owner(F.node("b"), 1)
        #expect(throws: TrackerStateError.foreignOwner(foreign)) {
            try a.join(owner: foreign, topic: "lobby", key: "k", meta: F.meta(3))
        }
        // The same name in another incarnation is another node.
        let restarted = F.owner(F.node("a", 2), 1)
        #expect(throws: TrackerStateError.foreignOwner(restarted)) {
            try a.join(owner: restarted, topic: "lobby", key: "k", meta: F.meta(4))
        }
        var deep = PresenceValue.null
        for _ in 0..<TrackerWire.maximumDepth { deep = .array([deep]) }
        #expect(throws: TrackerStateError.metadataTooDeep(limit: TrackerWire.maximumDepth)) {
            try a.join(owner: owner, topic: "lobby", key: "deep", meta: F.meta(5, ["v": deep]))
        }
        #expect(throws: TrackerStateError.metadataTooDeep(limit: TrackerWire.maximumDepth)) {
            try a.update(owner: owner, topic: "lobby", key: "k", meta: F.meta(6, ["v": deep]))
        }
        #expect(a.count == 1)
        #expect(a.pendingDelta.end == [a.replica: 1])
    }

    @Test("users from other servers merge, once, and removes are observed")
    func usersFromOtherServersMerge() throws {
        var states = F.connected(["a", "b"])
        var a = states.removeFirst()
        var b = states.removeFirst()
        let alice = F.owner(a.replica, 1)
        let carol = F.owner(b.replica, 3)

        a.track(1, "lobby", "alice")
        b.track(2, "lobby", "bob")
        var diff = a.merge(b.transfer(for: a))
        #expect(diff.joins.keys == ["bob"] && diff.leaves.isEmpty)
        #expect(a.onlineKeys == ["alice", "bob"])
        #expect(a.records(owner: F.owner(b.replica, 2)).keys == ["bob"])

        // Merging twice changes nothing.
        let contextBefore = a.context
        #expect(a.merge(b.transfer(for: a)).isEmpty)
        #expect(a.context == contextBefore && a.onlineKeys == ["alice", "bob"])

        #expect(b.merge(a.transfer(for: b)).joins.keys == ["alice"])
        #expect(b.merge(a.transfer(for: b)).isEmpty)

        // Observed remove.
        a.untrack(1, "lobby", "alice")
        #expect(a.records(owner: alice).isEmpty)
        diff = b.merge(a.transfer(for: b))
        #expect(diff.joins.isEmpty && diff.leaves.keys == ["alice"])
        #expect(b.onlineKeys == ["bob"])
        #expect(b.merge(a.transfer(for: b)).isEmpty)

        b.track(3, "lobby", "carol")
        #expect(b.onlineKeys == ["bob", "carol"])
        #expect(a.merge(b.transfer(for: a)).joins.keys == ["carol"])
        #expect(a.merge(b.transfer(for: a)).isEmpty)
        #expect(Set(a.onlineRecords()) == Set(b.onlineRecords()))

        // An update is a leave and a join in one diff.
        let previous = try b.update(owner: carol, topic: "lobby", key: "carol", meta: F.meta(99, ["updated": true]))
        #expect(previous?.meta.values.isEmpty == true)
        diff = a.merge(b.transfer(for: a))
        #expect(diff.joins.map(\.meta.values) == [["updated": true]])
        #expect(diff.leaves.map(\.tag) == [previous?.tag])
        #expect(a.merge(b.transfer(for: a)).isEmpty)
        #expect(a.record(owner: carol, topic: "lobby", key: "carol")?.meta.ref == PresenceRef(rawValue: 99))
    }

    @Test("netsplit: a down replica's presences are hidden, then restored")
    func basicNetsplit() {
        var states = F.connected(["a", "b"])
        var a = states.removeFirst()
        var b = states.removeFirst()
        a.track(1, "lobby", "alice")
        b.track(2, "lobby", "bob")
        #expect(a.merge(b.transfer(for: a)).joins.keys == ["bob"])
        #expect(a.onlineKeys == ["alice", "bob"])

        a.track(3, "lobby", "carol")
        a.untrack(1, "lobby", "alice")
        a.track(4, "lobby", "david")
        let down = a.replicaDown(b.replica)
        #expect(down.joins.isEmpty && down.leaves.keys == ["bob"])
        #expect(a.onlineKeys == ["carol", "david"])
        #expect(a.status(of: b.replica) == .down)
        #expect(!a.clocks.replicas.contains(b.replica) && a.context.replicas.contains(b.replica))
        #expect(a.replicaDown(b.replica).isEmpty)

        #expect(a.merge(b.transfer(for: a)).isEmpty)
        #expect(a.onlineKeys == ["carol", "david"])

        let up = a.replicaUp(b.replica)
        #expect(up.joins.keys == ["bob"] && up.leaves.isEmpty)
        #expect(a.onlineKeys == ["bob", "carol", "david"])
        #expect(a.replicaUp(b.replica).isEmpty)
    }

    @Test("joins and removes made during a netsplit reach the other side through a third replica")
    func observedThroughThirdReplica() {
        var states = F.connected(["a", "b", "c"])
        var a = states.removeFirst()
        var b = states.removeFirst()
        var c = states.removeFirst()
        a.track(1, "lobby", "alice")
        #expect(c.merge(a.transfer(for: c)).joins.keys == ["alice"])

        // a and c no longer hear each other, but both hear b (and neither marks the other down).
        a.track(2, "lobby", "bob")
        #expect(b.merge(a.transfer(for: b)).joins.keys == ["alice", "bob"])
        #expect(c.merge(b.transfer(for: c)).joins.keys == ["bob"])

        a.untrack(2, "lobby", "bob")
        #expect(b.merge(a.transfer(for: b)).leaves.keys == ["bob"])
        #expect(c.merge(b.transfer(for: c)).leaves.keys == ["bob"])
        #expect(c.onlineKeys == ["alice"])

        // The same through deltas: b passes on the removal it observed.
        a.track(3, "lobby", "carol")
        let join = a.takeDelta()!
        #expect(b.merge(join).joins.keys == ["carol"])
        #expect(c.merge(join).joins.keys == ["carol"])
        _ = b.takeDelta()
        a.untrack(3, "lobby", "carol")
        #expect(b.merge(a.takeDelta()!).leaves.keys == ["carol"])
        let relayed = b.takeDelta()!
        #expect(relayed.cloudTags == [PresenceTag(replica: a.replica, clock: 4)])
        #expect(c.merge(relayed).leaves.keys == ["carol"])
        #expect(c.onlineKeys == ["alice"])
    }

    @Test("while a replica is marked down, what a third replica relays about it is held silently")
    func relayedWhileDown() {
        var states = F.connected(["a", "b", "c"])
        var a = states.removeFirst()
        var b = states.removeFirst()
        var c = states.removeFirst()
        a.track(1, "lobby", "alice")
        #expect(c.merge(a.transfer(for: c)).joins.keys == ["alice"])
        #expect(a.replicaDown(c.replica).isEmpty)
        #expect(c.replicaDown(a.replica).leaves.keys == ["alice"])

        a.track(2, "lobby", "bob")
        #expect(b.merge(a.transfer(for: b)).joins.keys == ["alice", "bob"])
        // c holds bob but reports nothing while a is down: nothing it lists changed.
        #expect(c.merge(b.transfer(for: c)).isEmpty)
        #expect(c.records(owner: F.owner(a.replica, 2)).keys == ["bob"])
        #expect(c.onlineKeys.isEmpty)

        a.untrack(1, "lobby", "alice")
        #expect(b.merge(a.transfer(for: b)).leaves.keys == ["alice"])
        #expect(c.merge(b.transfer(for: c)).isEmpty)
        #expect(c.count == 1)

        // When a comes back, c reports what a has now.
        let up = c.replicaUp(a.replica)
        #expect(up.joins.keys == ["bob"] && up.leaves.isEmpty)
    }

    @Test("records by owner, by key and by tag")
    func reads() throws {
        var state = TrackerState(replica: F.node("node1"))
        let owner = F.owner(state.replica, 1)
        let owner2 = F.owner(state.replica, 2)
        #expect(state.records(owner: owner).isEmpty)
        try state.join(owner: owner, topic: "topic", key: "key1", meta: F.meta(1))
        let record = try #require(state.record(owner: owner, topic: "topic", key: "key1"))
        #expect(record.tag == PresenceTag(replica: state.replica, clock: 1))
        #expect(record.owner == owner && record.topic == "topic" && record.meta == F.meta(1))
        #expect(state.records(owner: owner) == [record])
        #expect(state.record(owner: owner, topic: "notopic", key: "key1") == nil)
        #expect(state.record(owner: owner, topic: "topic", key: "nokey") == nil)

        try state.join(owner: owner2, topic: "topic", key: "key1", meta: F.meta(2, ["device": "ios"]))
        try state.join(owner: owner2, topic: "topic", key: "key2", meta: F.meta(3, ["device": "ios"]))
        try state.join(owner: owner2, topic: "other", key: "key1", meta: F.meta(4))
        let byKey = state.list(topic: "topic", key: "key1")
        #expect(byKey.map(\.owner) == [owner, owner2])
        #expect(byKey.map(\.meta.values) == [[:], ["device": "ios"]])
        #expect(state.list(topic: "another_topic", key: "key1").isEmpty)
        #expect(state.list(topic: "topic", key: "another_key").isEmpty)
        #expect(Set(state.records(owner: owner2).map(\.key)) == ["key1", "key2"])
        #expect(state.list(topic: "topic").keys == ["key1", "key1", "key2"])

        #expect(state.leave(owner: owner2).count == 3)
        #expect(state.records(owner: owner2).isEmpty)
        #expect(state.list(topic: "other").isEmpty && state.topicCount == 1)
        #expect(state.records(owner: owner).count == 1)
    }

    @Test("leaving an owner with many presences one at a time keeps its list intact")
    func ownerListUnlinking() throws {
        var state = TrackerState(replica: F.node("a"))
        let owner = F.owner(state.replica, 7)
        for index in 0..<50 { try state.join(owner: owner, topic: "t\(index % 5)", key: "k\(index)", meta: F.meta(1)) }
        for index in stride(from: 0, to: 50, by: 3) { #expect(state.leave(owner: owner, topic: "t\(index % 5)", key: "k\(index)") != nil) }
        #expect(state.records(owner: owner).count == 50 - 17)
        #expect(state.leave(owner: owner).count == 33)
        #expect(state.count == 0 && state.records(owner: owner).isEmpty)
    }

    @Test("list by topic hides down replicas")
    func listByTopic() {
        var states = F.connected(["node1", "node2", "node3"])
        var state = states.removeFirst()
        var state2 = states.removeFirst()
        var state3 = states.removeFirst()
        #expect(state.context == [F.node("node1"): 0, F.node("node2"): 0, F.node("node3"): 0])
        #expect(state2.context == state.context && state3.context == state.context)

        #expect(state.list(topic: "topic").isEmpty)
        state.track(1, "topic", "key1")
        state.track(1, "topic", "key2")
        state2.track(2, "topic", "user2")
        state3.track(3, "topic", "user3")
        #expect(state.list(topic: "topic").keys == ["key1", "key2"])

        state.merge(state2.transfer(for: state))
        state.merge(state3.transfer(for: state))
        #expect(state.list(topic: "topic").keys == ["key1", "key2", "user2", "user3"])

        state.replicaDown(state2.replica)
        #expect(state.list(topic: "topic").keys == ["key1", "key2", "user3"])
        state.replicaDown(state3.replica)
        #expect(state.list(topic: "topic").keys == ["key1", "key2"])
        #expect(state.list(topic: "another:topic").isEmpty)
        #expect(state.count == 4)
    }

    @Test("permdown removes a replica's presences for good")
    func permdownWithoutResurrection() {
        var states = F.connected(["node1", "node2"])
        var state1 = states.removeFirst()
        var state2 = states.removeFirst()
        state1.track(1, "lobby", "alice")
        state2.track(2, "lobby", "bob")
        state2.merge(state1.transfer(for: state2))
        #expect(state2.onlineKeys == ["alice", "bob"])

        #expect(state2.replicaDown(state1.replica).leaves.keys == ["alice"])
        #expect(state2.count == 2)
        #expect(state2.permdown(state1.replica).isEmpty)
        #expect(state2.count == 1)
        // A stale transfer or delta from the forgotten replica brings nothing back.
        #expect(state2.merge(state1.transfer(for: state2)).isEmpty)
        #expect(state2.merge(state1.pendingDelta).isEmpty)
        #expect(state2.replicaUp(state1.replica).isEmpty)
        #expect(state2.onlineKeys == ["bob"])
    }

    @Test("a graceful permdown of an up replica reports its presences leaving")
    func gracefulPermdown() {
        var states = F.connected(["a", "b"])
        var a = states.removeFirst()
        var b = states.removeFirst()
        b.track(1, "lobby", "bob")
        a.merge(b.transfer(for: a))
        let diff = a.permdown(b.replica)
        #expect(diff.leaves.keys == ["bob"] && diff.joins.isEmpty)
        #expect(a.count == 0 && a.status(of: b.replica) == nil)
        #expect(a.permdown(b.replica).isEmpty)
        #expect(a.permdown(a.replica).isEmpty && a.status(of: a.replica) == .up)
    }

    @Test("basic deltas carry exact clocks")
    func basicDeltas() {
        var states = F.connected(["a", "b"])
        var a = states.removeFirst()
        var b = states.removeFirst()
        a.track(1, "lobby", "alice")
        b.track(2, "lobby", "bob")

        #expect(b.merge(a.pendingDelta).joins.keys == ["alice"])
        #expect(b.clocks == [a.replica: 1, b.replica: 1])

        _ = a.takeDelta()
        a.untrack(1, "lobby", "alice")
        #expect(b.merge(a.pendingDelta).leaves.keys == ["alice"])
        #expect(b.clocks == [a.replica: 2, b.replica: 1])

        a.track(1, "lobby", "alice")
        #expect(b.merge(a.pendingDelta).joins.keys == ["alice"])
        #expect(b.clocks == [a.replica: 3, b.replica: 1])
        #expect(b.clouds.isEmpty)
    }

    @Test("the pending delta's range, values and dots follow every local operation")
    func exactDeltaClocks() throws {
        var a = TrackerState(replica: F.node("a"))
        let me = a.replica
        let owner = F.owner(me, 1)
        #expect(a.takeDelta() == nil)

        try a.join(owner: owner, topic: "t", key: "k1", meta: F.meta(1))
        try a.join(owner: owner, topic: "t", key: "k2", meta: F.meta(2))
        var delta = try a.takeRequiredDelta()
        #expect(delta.start == [me: 0] && delta.end == [me: 2])
        #expect(delta.records.map(\.tag.clock) == [1, 2])
        #expect(delta.cloudTags.map(\.clock) == [1, 2])
        #expect(delta.size == 4)
        #expect(!a.hasDelta && a.takeDelta() == nil)
        #expect(a.pendingDelta == TrackerDelta.empty(origin: me, at: 2))

        // Update: the old dot (from an earlier delta) is carried as a dot, then a
        // removal dot and the new value's dot.
        try a.update(owner: owner, topic: "t", key: "k1", meta: F.meta(3))
        delta = try a.takeRequiredDelta()
        #expect(delta.start == [me: 2] && delta.end == [me: 4])
        #expect(delta.dots == [me: DotSet([1])])
        #expect(delta.records.map(\.tag.clock) == [4])
        #expect(delta.cloudTags.map(\.clock) == [1, 3, 4])

        // Join then leave within one delta: nothing but dots.
        try a.join(owner: owner, topic: "t", key: "k3", meta: F.meta(4))
        a.leave(owner: owner, topic: "t", key: "k3")
        a.leave(owner: owner, topic: "t", key: "k2")
        delta = try a.takeRequiredDelta()
        #expect(delta.start == [me: 4] && delta.end == [me: 7])
        #expect(delta.values.isEmpty)
        #expect(delta.cloudTags.map(\.clock) == [2, 5, 6, 7])

        // Join, update, update within one delta: one value, its last version.
        try a.join(owner: owner, topic: "t", key: "k4", meta: F.meta(5))
        try a.update(owner: owner, topic: "t", key: "k4", meta: F.meta(6))
        try a.update(owner: owner, topic: "t", key: "k4", meta: F.meta(7))
        delta = try a.takeRequiredDelta()
        #expect(delta.records.map(\.tag.clock) == [12])
        #expect(delta.records.map(\.meta.ref) == [PresenceRef(rawValue: 7)])
        #expect(delta.start == [me: 7] && delta.end == [me: 12] && delta.dots.isEmpty)
        #expect(a.list(topic: "t").keys == ["k1", "k4"])
    }

    @Test("a slot freed in one delta period is not reused before the delta is taken")
    func deferredSlotReuse() throws {
        var a = TrackerState(replica: F.node("a"))
        let owner = F.owner(a.replica, 1)
        try a.join(owner: owner, topic: "t", key: "x", meta: F.meta(1))
        a.leave(owner: owner, topic: "t", key: "x")
        try a.join(owner: owner, topic: "t", key: "y", meta: F.meta(2))
        try a.join(owner: owner, topic: "t", key: "z", meta: F.meta(3))
        let delta = try a.takeRequiredDelta()
        #expect(delta.records.map(\.key) == ["y", "z"])
        try a.join(owner: owner, topic: "t", key: "w", meta: F.meta(4))
        #expect(a.pendingDelta.records.map(\.key) == ["w"])
    }

    @Test("deltas with a gap between their ranges are not merged")
    func nonContiguousDeltas() throws {
        var s1 = TrackerState(replica: F.node("s1"))
        s1.track(1, "lobby", "user1")
        let first = s1.pendingDelta
        s1.track(2, "lobby", "user2")
        _ = s1.takeDelta()
        s1.track(3, "lobby", "user3")
        let later = s1.pendingDelta
        #expect(throws: TrackerStateError.nonContiguousDelta) { try first.merging(later) }
        #expect(throws: TrackerStateError.nonContiguousDelta) { try later.merging(first) }
    }

    @Test("an extracted state only holds replicas the remote knows")
    func extractKeepsKnownReplicas() {
        var s1 = TrackerState(replica: F.node("s1"))
        var s2 = TrackerState(replica: F.node("s2"))
        var s3 = TrackerState(replica: F.node("s3"))
        s1.replicaUp(s2.replica)
        s2.replicaUp(s1.replica)
        s2.replicaUp(s3.replica)
        s1.track(1, "lobby", "user1")
        s2.track(2, "lobby", "user2")
        s3.track(3, "lobby", "user3")
        s1.merge(s2.pendingDelta)
        s2.merge(s1.pendingDelta)
        s2.merge(s3.pendingDelta)
        #expect(s2.onlineKeys == ["user1", "user2", "user3"])

        let extracted = s2.extract(for: s1.replica, remoteContext: s1.context)
        #expect(extracted.context == [s1.replica: 1, s2.replica: 1])
        #expect(extracted.records.keys == ["user2"])
    }

    @Test("merging deltas unites values and clouds")
    func mergingDeltas() throws {
        var s1 = TrackerState(replica: F.node("s1"))
        var s2 = TrackerState(replica: F.node("s2"))
        s1.track(1, "lobby", "user1")
        s1.track(1, "private", "user1")
        s2.track(2, "lobby", "user2")
        s2.track(2, "private", "user2")
        let merged = try s1.pendingDelta.merging(s2.pendingDelta)
        #expect(merged.records.map { "\($0.tag.replica.name)/\($0.tag.clock)/\($0.topic)/\($0.key)" } == [
            "s1/1/lobby/user1", "s1/2/private/user1", "s2/1/lobby/user2", "s2/2/private/user2",
        ])
        #expect(merged.cloudTags == [
            PresenceTag(replica: s1.replica, clock: 1), PresenceTag(replica: s1.replica, clock: 2),
            PresenceTag(replica: s2.replica, clock: 1), PresenceTag(replica: s2.replica, clock: 2),
        ])
        #expect(merged.start == [s1.replica: 0, s2.replica: 0] && merged.end == [s1.replica: 2, s2.replica: 2])
    }

    @Test("merging deltas with removes: a concurrent add wins, an observed remove holds")
    func mergingDeltasWithRemoves() throws {
        var states = F.connected(["s1", "s2"])
        var s1 = states.removeFirst()
        var s2 = states.removeFirst()

        // The same key joins on s1 while s2's owner of it joins and leaves.
        s1.track(1, "lobby", "user1")
        s1.track(1, "private", "user1")
        s2.track(2, "lobby", "user1")
        s2.untrack(2, "lobby", "user1")
        var merged = try s1.pendingDelta.merging(s2.pendingDelta)
        #expect(merged.records.map(\.tag) == [
            PresenceTag(replica: s1.replica, clock: 1), PresenceTag(replica: s1.replica, clock: 2),
        ])
        #expect(merged.cloudTags.map { "\($0.replica.name)/\($0.clock)" } == ["s1/1", "s1/2", "s2/1", "s2/2"])
        // Merging a duplicate changes nothing.
        #expect(try merged.merging(s2.pendingDelta) == merged)
        #expect(try merged.merging(merged) == merged)

        // s1's owner leaves "private" after s2 saw it: the remove holds in the merged delta.
        s2.merge(s1.pendingDelta)
        s1.untrack(1, "private", "user1")
        merged = try merged.merging(s1.pendingDelta)
        #expect(merged.records.map(\.tag) == [PresenceTag(replica: s1.replica, clock: 1)])
        #expect(merged.cloudTags.map { "\($0.replica.name)/\($0.clock)" } == ["s1/1", "s1/2", "s1/3", "s2/1", "s2/2"])

        // Applied to states, both sides agree.
        #expect(s2.merge(merged).leaves.map(\.topic) == ["private"])
        s1.merge(s2.pendingDelta)
        #expect(Set(s1.onlineRecords()) == Set(s2.onlineRecords()))
        #expect(s2.onlineRecords().map(\.owner) == [F.owner(s1.replica, 1)])
    }

    @Test("replica bookkeeping: up adds at clock 0, down of an unknown replica records nothing")
    func replicaBookkeeping() {
        var a = TrackerState(replica: F.node("a"))
        let b = F.node("b")
        #expect(a.status(of: b) == nil)
        #expect(a.replicaDown(b).isEmpty)
        #expect(a.status(of: b) == nil && a.replicas.count == 1)
        #expect(a.replicaUp(b).isEmpty)
        #expect(a.status(of: b) == .up && a.context == [a.replica: 0, b: 0])
        #expect(a.replicaDown(a.replica).isEmpty && a.status(of: a.replica) == .up)
        #expect(a.replicaUp(a.replica).isEmpty)
        #expect(a.replicas == [a.replica: .up, b: .up])
    }

    @Test("a delta from an unknown replica is ignored; one naming this replica changes nothing of it")
    func unknownAndOwnReplicas() {
        var a = TrackerState(replica: F.node("a"))
        var stranger = TrackerState(replica: F.node("x"))
        stranger.track(1, "lobby", "x")
        #expect(a.merge(stranger.pendingDelta).isEmpty)
        #expect(a.merge(stranger.transfer(for: a)).isEmpty)
        #expect(a.count == 0 && a.status(of: stranger.replica) == nil)

        a.track(1, "lobby", "mine")
        var b = TrackerState(replica: F.node("b"))
        b.replicaUp(a.replica)
        b.merge(a.pendingDelta)
        a.replicaUp(b.replica)
        let ownBefore = a.context[a.replica]
        // b's view of a, sent back to a, never touches a's own rows or clock.
        #expect(a.merge(b.extract(for: F.node("z"), remoteContext: a.context)).isEmpty)
        #expect(a.context[a.replica] == ownBefore && a.onlineKeys == ["mine"])
    }
}

@testable import Combo
import Testing

/// The cases of upstream's `delta_generation_test.exs`, plus what keeping
/// generations as clocks (values read back from the state) must preserve.
@Suite("Tracker delta generations")
struct TrackerDeltaGenerationsTests {
    typealias F = TrackerFixture

    /// The keys of the presences a generation hands a replica that knows every
    /// replica in it, read from `state`, sorted.
    static func keys(_ generation: DeltaGeneration, in state: TrackerState) -> [String] {
        let everyone = VersionVector(generation.end.clocks.mapValues { _ in 0 })
        return generation.extract(from: state, for: F.node("observer"), remoteContext: everyone).records.keys
    }

    /// A generation's cloud dots as "replica/clock", sorted.
    static func clouds(_ generation: DeltaGeneration) -> [String] {
        generation.clouds.cloudTags.map { "\($0.replica.name)/\($0.clock)" }
    }

    @Test("generations grow up to their sizes, then restart from the smaller one")
    func generations() throws {
        var s1 = TrackerState(replica: F.node("s1"))
        var s2 = TrackerState(replica: F.node("s2"))
        s1.replicaUp(s2.replica)
        var generations = DeltaGenerations(maxSizes: [2, 5, 6])

        s1.track(1, "lobby", "user1")
        let first = try s1.takeRequiredDelta()
        generations.push(first, parent: s1)
        var gens = generations.generations
        #expect(gens.count == 3 && gens.allSatisfy { $0 == gens[0] })
        #expect(Self.keys(gens[0], in: s1) == ["user1"] && Self.clouds(gens[0]) == ["s1/1"])
        // Pushing a duplicate changes nothing.
        generations.push(first, parent: s1)
        #expect(generations.generations == gens)

        s1.track(2, "lobby", "user2")
        generations.push(try s1.takeRequiredDelta(), parent: s1)
        gens = generations.generations
        #expect(gens.map { Self.keys($0, in: s1) } == [["user2"], ["user1", "user2"], ["user1", "user2"]])
        #expect(gens.map(Self.clouds) == [["s1/2"], ["s1/1", "s1/2"], ["s1/1", "s1/2"]])

        s1.track(3, "lobby", "user3")
        let third = try s1.takeRequiredDelta()
        generations.push(third, parent: s1)
        gens = generations.generations
        #expect(gens[0] == DeltaGeneration(third))
        #expect(gens.map { Self.keys($0, in: s1) } == [["user3"], ["user2", "user3"], ["user1", "user2", "user3"]])
        #expect(gens.map(Self.clouds) == [["s1/3"], ["s1/2", "s1/3"], ["s1/1", "s1/2", "s1/3"]])

        s1.track(4, "lobby", "user4")
        generations.push(try s1.takeRequiredDelta(), parent: s1)
        gens = generations.generations
        #expect(gens.map { Self.keys($0, in: s1) } == [["user4"], ["user3", "user4"], ["user2", "user3", "user4"]])
        #expect(gens.map(Self.clouds) == [["s1/4"], ["s1/3", "s1/4"], ["s1/2", "s1/3", "s1/4"]])

        // A remote replica's delta, once merged, joins the generations too.
        s2.track(5, "lobby", "user5")
        let joined = s2.pendingDelta
        s1.merge(joined)
        generations.push(joined, parent: s1)
        gens = generations.generations
        #expect(gens.map { Self.keys($0, in: s1) } == [["user5"], ["user4", "user5"], ["user3", "user4", "user5"]])
        #expect(gens.map(Self.clouds) == [["s2/1"], ["s1/4", "s2/1"], ["s1/3", "s1/4", "s2/1"]])

        // Tombstones.
        s2.untrack(5, "lobby", "user5")
        let left = s2.pendingDelta
        s1.merge(left)
        generations.push(left, parent: s1)
        gens = generations.generations
        #expect(gens.map { Self.keys($0, in: s1) } == [[], ["user4"], ["user3", "user4"]])
        #expect(gens.map(Self.clouds) == [
            ["s2/1", "s2/2"], ["s1/4", "s2/1", "s2/2"], ["s1/3", "s1/4", "s2/1", "s2/2"],
        ])
    }

    @Test("a generation keeps clocks, not values: a burst of joins is one interval")
    func clocksNotValues() throws {
        var s1 = TrackerState(replica: F.node("s1"))
        var generations = DeltaGenerations(maxSizes: [100, 1000, 10000])
        for index in UInt64(1)...5000 { s1.track(index, "room:\(index % 7)", "user:\(index)") }
        generations.push(try s1.takeRequiredDelta(), parent: s1)
        for generation in generations.generations {
            #expect(generation.valueDots == [s1.replica: DotSet(intervals: [1...5000])])
            #expect(generation.clouds.values.isEmpty)
            // Sizes count as upstream's do: a value and its dot.
            #expect(generation.size == 10000)
        }
        let observer = F.node("observer")
        let payload = generations.extract(from: s1, for: observer, remoteContext: [s1.replica: 0])
        guard case .delta(let delta) = payload else {
            Issue.record("expected a delta, got \(payload)")
            return
        }
        #expect(delta.valueCount == 5000)
        #expect(delta.values[s1.replica]?.map(\.clock) == Array(1...5000))
        var remote = TrackerState(replica: observer)
        remote.replicaUp(s1.replica)
        #expect(remote.merge(payload).joins.count == 5000)
        #expect(remote.list(topic: "room:3").keys == s1.list(topic: "room:3").keys)
    }

    @Test("a presence removed or updated after its generation was pushed is extracted as the state holds it")
    func valuesReadFromTheState() throws {
        var s1 = TrackerState(replica: F.node("s1"))
        var generations = DeltaGenerations(maxSizes: [100])
        s1.track(1, "lobby", "gone")
        s1.track(2, "lobby", "kept")
        s1.track(3, "lobby", "changed", ["mood": "calm"])
        generations.push(try s1.takeRequiredDelta(), parent: s1)
        s1.untrack(1, "lobby", "gone")
        try s1.update(owner: PresenceOwnerID(node: s1.replica, sequence: 3), topic: "lobby", key: "changed",
                      meta: PresenceMeta(ref: PresenceRef(rawValue: 99), values: ["mood": "busy"]))
        generations.push(try s1.takeRequiredDelta(), parent: s1)

        let observer = F.node("observer")
        var remote = TrackerState(replica: observer)
        remote.replicaUp(s1.replica)
        remote.merge(generations.extract(from: s1, for: observer, remoteContext: [s1.replica: 0]))
        #expect(remote.list(topic: "lobby").keys == ["changed", "kept"])
        #expect(remote.list(topic: "lobby", key: "changed").map(\.meta.values) == [["mood": "busy"]])
        #expect(remote.clocks[s1.replica] == s1.clocks[s1.replica])
    }

    @Test("a generation leaves out replicas its state does not know")
    func unknownReplicasLeftOut() throws {
        let s1 = TrackerState(replica: F.node("s1"))
        var stranger = TrackerState(replica: F.node("stranger"))
        stranger.track(1, "lobby", "someone")
        var generations = DeltaGenerations(maxSizes: [100])
        generations.push(try stranger.takeRequiredDelta(), parent: s1)
        #expect(generations.generations.allSatisfy { $0.start[stranger.replica] == nil && $0.valueDots.isEmpty })
    }

    @Test("a delta with a gap is left out")
    func nonContiguous() throws {
        let s1 = {
            var state = TrackerState(replica: F.node("s1"))
            state.track(1, "lobby", "user1")
            return state
        }()
        var s3 = TrackerState(replica: F.node("s3"))
        s3.track(1, "lobby", "user3")
        let old = try s3.takeRequiredDelta()
        s3.track(2, "lobby", "user3")
        _ = s3.takeDelta()
        s3.track(3, "lobby", "user3")
        var generations = DeltaGenerations(maxSizes: [5, 10, 15])
        generations.push(old, parent: s1)
        let gens = generations.generations
        #expect(gens.allSatisfy { $0 == gens[0] })
        generations.push(try s3.takeRequiredDelta(), parent: s1)
        #expect(generations.generations == gens)
    }

    @Test("removing a replica prunes every generation")
    func removeReplica() {
        var s1 = TrackerState(replica: F.node("s1"))
        var s2 = TrackerState(replica: F.node("s2"))
        var s3 = TrackerState(replica: F.node("s3"))
        s1.replicaUp(s2.replica)
        s3.replicaUp(s2.replica)
        s2.track(1, "lobby", "user2")
        var generations = DeltaGenerations(maxSizes: [5, 10, 15])
        s1.merge(s2.pendingDelta)
        generations.push(s2.pendingDelta, parent: s1)
        #expect(generations.generations.allSatisfy { $0.valueDots[s2.replica] != nil })
        generations.removeReplica(s2.replica)
        let pruned = generations.generations
        #expect(pruned.allSatisfy { $0 == pruned[0] })
        #expect(pruned[0].start[s2.replica] == nil && pruned[0].valueDots.isEmpty)
        #expect(s3.merge(pruned[0].extract(from: s1, for: s3.replica, remoteContext: s3.clocks)).isEmpty)
        #expect(s3.list(topic: "lobby").isEmpty)
        generations.reset()
        #expect(generations.generations.isEmpty)
    }

    @Test("the whole state is extracted when there are no generations")
    func wholeState() throws {
        var s1 = TrackerState(replica: F.node("r1"))
        s1.track(1, "lobby", "user1")
        let r2 = F.node("r2")
        let payload = DeltaGenerations().extract(from: s1, for: r2, remoteContext: [s1.replica: 1])
        #expect(payload == .full(s1.extract(for: r2, remoteContext: [s1.replica: 1])))
        guard case .full(let transfer) = payload else { return }
        #expect(transfer.records.map(\.tag) == [PresenceTag(replica: s1.replica, clock: 1)])
        #expect(transfer.context == [s1.replica: 1])
    }

    @Test("the first generation that starts where the remote is and goes beyond it is extracted")
    func firstFulfillingGeneration() throws {
        var s1 = TrackerState(replica: F.node("r1"))
        s1.track(1, "lobby", "user1")
        let d2 = try s1.takeRequiredDelta()
        s1.track(1, "lobby", "user2")
        let d3 = try s1.takeRequiredDelta()
        let generations = DeltaGenerations(maxSizes: [5, 10], generations: [d2, d3])
        #expect(generations.extract(from: s1, for: F.node("r2"), remoteContext: [s1.replica: 1]) == .delta(d3))
        // A remote already past every generation, or behind all of them, gets the whole state.
        let ahead = generations.extract(from: s1, for: F.node("r2"), remoteContext: [s1.replica: 2])
        let behind = DeltaGenerations(maxSizes: [5], generations: [d3])
            .extract(from: s1, for: F.node("r2"), remoteContext: [s1.replica: 0])
        for payload in [ahead, behind] {
            guard case .full = payload else {
                Issue.record("expected the whole state, got \(payload)")
                continue
            }
        }
    }

    @Test("an empty delta is not extracted")
    func emptyNotExtracted() throws {
        var s1 = TrackerState(replica: F.node("r1"))
        let r2 = F.node("r2")
        s1.track(1, "lobby", "user1")
        let d1 = s1.pendingDelta
        _ = s1.takeDelta()
        let d2 = s1.pendingDelta
        let entry = PresenceEntry(clock: 1, ownerSequence: 1, topic: "lobby", key: "user2", meta: F.meta(1))
        let d3 = TrackerDelta(
            origin: s1.replica, start: d1.start.upperBound([r2: 0]), end: d1.end.upperBound([r2: 1]),
            values: d1.values.merging([r2: [entry]]) { $1 }
        )
        // The state holds what its generations name.
        s1.replicaUp(r2)
        s1.merge(d3)
        let generations = DeltaGenerations(maxSizes: [5, 10], generations: [d2, d3])
        let expected = TrackerDelta(origin: s1.replica, start: [r2: 0], end: [r2: 1], values: [r2: [entry]])
        #expect(generations.extract(from: s1, for: F.node("r3"), remoteContext: [r2: 0]) == .delta(expected))
    }

    @Test("a generation that does not dominate on the common replicas is not extracted")
    func notDominating() throws {
        var s1 = TrackerState(replica: F.node("r1"))
        let r2 = F.node("r2")
        s1.track(1, "lobby", "user1")
        let pending1 = s1.pendingDelta
        s1.track(1, "lobby", "user2")
        let d2 = s1.pendingDelta
        let d1 = TrackerDelta(
            origin: s1.replica, start: pending1.start.upperBound([r2: 0]), end: pending1.end.upperBound([r2: 1]),
            dots: pending1.dots, values: pending1.values
        )
        let generations = DeltaGenerations(maxSizes: [5, 10], generations: [d1, d2])
        #expect(generations.extract(from: s1, for: F.node("r3"), remoteContext: [s1.replica: 1]) == .delta(d2))
    }
}

@Suite("Tracker deltas")
struct TrackerDeltaTests {
    typealias F = TrackerFixture

    @Test("normalisation: sorted unique values, value dots in the clouds, no dots inside ranges")
    func normalisation() {
        let a = F.node("a")
        let b = F.node("b")
        func entry(_ clock: UInt64, _ key: String) -> PresenceEntry {
            PresenceEntry(clock: clock, ownerSequence: 1, topic: "t", key: key, meta: F.meta(clock))
        }
        let delta = TrackerDelta(
            origin: a, start: [a: 2], end: [a: 5, b: 3],
            dots: [a: DotSet([1, 3, 4, 9]), b: DotSet()],
            values: [a: [entry(4, "x"), entry(3, "y"), entry(4, "z"), entry(7, "w")], b: []]
        )
        #expect(delta.start == [a: 2, b: 3] && delta.end == [a: 5, b: 3])
        #expect(delta.values[a]?.map(\.key) == ["y", "x", "w"])
        #expect(delta.values[b] == nil)
        #expect(delta.dots == [a: DotSet([1, 7, 9])])
        #expect(delta.size == 3 + 3 + 3)
        #expect(delta.covers(a, 5) && delta.covers(a, 7) && !delta.covers(a, 6) && !delta.covers(b, 3))
        #expect(!delta.isEmpty && TrackerDelta.empty(origin: a, at: 4).isEmpty)
    }

    @Test("merging is associative and idempotent, and extraction drops the requester")
    func mergingLaws() throws {
        var s = TrackerState(replica: F.node("s"))
        var deltas: [TrackerDelta] = []
        for round in 0..<3 {
            s.track(UInt64(round), "t", "k\(round)")
            if round > 0 { s.untrack(UInt64(round - 1), "t", "k\(round - 1)") }
            deltas.append(try s.takeRequiredDelta())
        }
        let left = try deltas[0].merging(deltas[1]).merging(deltas[2])
        let right = try deltas[0].merging(try deltas[1].merging(deltas[2]))
        #expect(left == right)
        #expect(try left.merging(left) == left)
        #expect(try left.merging(deltas[1]) == left)
        #expect(left.records.keys == ["k2"])
        let extracted = left.extract(for: s.replica, remoteContext: [s.replica: 0])
        #expect(extracted.values.isEmpty && extracted.start.isEmpty && extracted.dots.isEmpty)
        #expect(left.extract(for: F.node("x"), remoteContext: [F.node("x"): 0]).isEmpty)
        var removed = left
        removed.removeReplica(s.replica)
        #expect(removed.isEmpty && removed.size == 0)
    }
}

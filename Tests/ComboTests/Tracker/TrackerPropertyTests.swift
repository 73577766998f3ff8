@testable import Combo
import PropertyBased
import Testing

/// Property tests of the tracker state. Inputs come from PropertyBased
/// generators run with fixed seeds, one test case per seed, so every run checks
/// the same cases and a failure names its seed.
@Suite("Tracker state properties")
struct TrackerPropertyTests {
    typealias Step = TrackerSimulationStep
    typealias F = TrackerFixture

    /// The fixed seeds: one test case each.
    static let seeds: [UInt64] = Array(1...48)

    /// A generator of one node index (wrapped to the cluster size when applied).
    static let node = Gen.int(in: 0...4)

    /// One random step, weighted towards local changes and deliveries; a
    /// whole state merged in steps, with other steps in between, now and then.
    static let step = Gen<Step>.frequency(
        (weight: 45.0, gen: simpleStep),
        (weight: 2.0, gen: zip(node, node, Gen.int(in: 1...6), simpleStep.array(of: 0...10))
            .map { Step.transferInSteps(from: $0.0, to: $0.1, budget: $0.2, between: $0.3) })
    )

    /// One random step of any kind but a merge in steps.
    static let simpleStep = Gen<Step>.frequency(
        (weight: 8.0, gen: zip(node, Gen.int(in: 0...3), Gen.int(in: 0...1), Gen.int(in: 0...3), Gen.int(in: 0...9))
            .map { Step.join(node: $0.0, owner: $0.1, topic: $0.2, key: $0.3, value: $0.4) }),
        (weight: 3.0, gen: zip(node, Gen.int(in: 0...3), Gen.int(in: 0...1), Gen.int(in: 0...3))
            .map { Step.leave(node: $0.0, owner: $0.1, topic: $0.2, key: $0.3) }),
        (weight: 1.0, gen: zip(node, Gen.int(in: 0...3)).map { Step.leaveOwner(node: $0.0, owner: $0.1) }),
        (weight: 4.0, gen: zip(node, Gen.int(in: 0...3), Gen.int(in: 0...1), Gen.int(in: 0...3), Gen.int(in: 0...9))
            .map { Step.update(node: $0.0, owner: $0.1, topic: $0.2, key: $0.3, value: $0.4) }),
        (weight: 5.0, gen: zip(node, Gen<UInt64>.uint64()).map { Step.heartbeat(node: $0.0, fate: $0.1) }),
        (weight: 8.0, gen: zip(node, Gen.int(in: 0...20)).map { Step.deliver(node: $0.0, pick: $0.1) }),
        (weight: 4.0, gen: zip(node, node).map { Step.transfer(from: $0.0, to: $0.1) }),
        (weight: 0.4, gen: node.map { Step.restart(node: $0) }),
        (weight: 0.6, gen: zip(node, node).map { Step.split($0.0, $0.1) }),
        (weight: 0.8, gen: zip(node, node).map { Step.heal($0.0, $0.1) })
    )

    /// A cluster size and the steps to run on it.
    static let scenario = zip(Gen.int(in: 3...5), step.array(of: 40...180))

    /// A generator seeded from `seed` alone, so every run draws the same inputs.
    static func rng(_ seed: UInt64) -> Xoshiro {
        Xoshiro(seed: (seed &* 0x9E37_79B9_7F4A_7C15, 0xD1B5_4A32_D192_ED03, seed, 0x2545_F491_4F6C_DD1D))
    }

    @Test("a whole state merged in steps of any size gives what one merge gives", arguments: seeds.prefix(24))
    func mergeInSteps(seed: UInt64) throws {
        let sources = try Self.sources(seed: seed)
        // Node 0 saw part of the others' histories: it holds rows the transfers lack.
        for from in 1..<sources.count {
            let transfer = sources[from].extract(for: sources[0].replica, remoteContext: sources[0].clocks)
            var whole = sources[0]
            let wholeDiff = whole.merge(transfer)
            for budget in [1, 2, 3, 7, 64] {
                var stepped = sources[0]
                var merge = stepped.beginMerge(transfer)
                var joins: [PresenceRecord] = []
                var leaves: [PresenceRecord] = []
                var steps = 0
                while !merge.isDone {
                    let diff = stepped.continueMerge(&merge, budget: budget)
                    joins += diff.joins
                    leaves += diff.leaves
                    steps += 1
                }
                #expect(Snapshot(stepped) == Snapshot(whole), "budget \(budget)")
                #expect(Set(stepped.allRecords()) == Set(whole.allRecords()), "budget \(budget)")
                #expect(Set(joins) == Set(wholeDiff.joins) && joins.count == wholeDiff.joins.count, "budget \(budget)")
                #expect(Set(leaves) == Set(wholeDiff.leaves) && leaves.count == wholeDiff.leaves.count, "budget \(budget)")
                if budget == 1 { #expect(steps > 1 || transfer.count == 0) }
            }
        }
    }

    @Test("every replica converges to the model under loss, duplication, reordering, netsplits and restarts", arguments: seeds)
    func convergence(seed: UInt64) throws {
        var rng = Self.rng(seed)
        let (nodeCount, steps) = Self.scenario.run(using: &rng)
        var simulation = TrackerSimulation(nodeCount: nodeCount)
        for step in steps {
            try simulation.apply(step)
            simulation.checkSafety()
        }
        try simulation.settle()
        simulation.checkSafety()
        simulation.checkConvergence()
    }

    /// Three replicas with random histories that partly saw each other.
    static func sources(seed: UInt64) throws -> [TrackerState] {
        var rng = rng(seed &+ 1_000)
        let local = Gen<Step>.frequency(
            (weight: 6.0, gen: zip(Gen.int(in: 0...2), Gen.int(in: 0...2), Gen.int(in: 0...1), Gen.int(in: 0...3), Gen.int(in: 0...9))
                .map { Step.join(node: $0.0, owner: $0.1, topic: $0.2, key: $0.3, value: $0.4) }),
            (weight: 3.0, gen: zip(Gen.int(in: 0...2), Gen.int(in: 0...2), Gen.int(in: 0...1), Gen.int(in: 0...3))
                .map { Step.leave(node: $0.0, owner: $0.1, topic: $0.2, key: $0.3) }),
            (weight: 3.0, gen: zip(Gen.int(in: 0...2), Gen.int(in: 0...2), Gen.int(in: 0...1), Gen.int(in: 0...3), Gen.int(in: 0...9))
                .map { Step.update(node: $0.0, owner: $0.1, topic: $0.2, key: $0.3, value: $0.4) }),
            (weight: 2.0, gen: zip(Gen.int(in: 0...2), Gen<UInt64>.uint64()).map { Step.heartbeat(node: $0.0, fate: $0.1) }),
            (weight: 3.0, gen: zip(Gen.int(in: 0...2), Gen.int(in: 0...9)).map { Step.deliver(node: $0.0, pick: $0.1) }),
            (weight: 1.0, gen: zip(Gen.int(in: 0...2), Gen.int(in: 0...2)).map { Step.transfer(from: $0.0, to: $0.1) })
        )
        var simulation = TrackerSimulation(nodeCount: 3)
        for step in local.array(of: 20...80).run(using: &rng) { try simulation.apply(step) }
        return simulation.nodes
    }

    /// What a merge must make the same whatever the order.
    struct Snapshot: Equatable {
        var records: Set<PresenceRecord>
        var context: VersionVector
        var clouds: [NodeIdentity: DotSet]

        /// The snapshot of `state`.
        init(_ state: TrackerState) {
            records = Set(state.onlineRecords())
            context = state.context
            clouds = state.clouds
        }
    }

    @Test("merging whole states is commutative, associative and idempotent", arguments: seeds.prefix(24))
    func fullMergeLaws(seed: UInt64) throws {
        let sources = try Self.sources(seed: seed)
        var observer = TrackerState(replica: F.node("observer"))
        for source in sources { observer.replicaUp(source.replica) }
        let transfers = sources.map { $0.extract(for: observer.replica, remoteContext: observer.context) }
        let orders = [[0, 1, 2], [0, 2, 1], [1, 0, 2], [1, 2, 0], [2, 0, 1], [2, 1, 0]]
        var snapshots: [Snapshot] = []
        for order in orders {
            var state = observer
            var shown = Set<PresenceRecord>()
            for index in order {
                let diff = state.merge(transfers[index])
                shown.subtract(diff.leaves)
                shown.formUnion(diff.joins)
                #expect(state.merge(transfers[index]).isEmpty, "merging twice changed something")
            }
            #expect(shown == Set(state.onlineRecords()))
            snapshots.append(Snapshot(state))
            // Idempotent as a whole: everything again changes nothing.
            var again = state
            for transfer in transfers { #expect(again.merge(transfer).isEmpty) }
            #expect(Snapshot(again) == Snapshot(state))
        }
        #expect(snapshots.allSatisfy { $0 == snapshots[0] }, "merge order changed the result")
        // Each source's own presences are all there.
        for source in sources {
            let own = Set(source.onlineRecords().filter { $0.tag.replica == source.replica })
            #expect(own.isSubset(of: snapshots[0].records))
        }
    }

    @Test("deltas of one origin merge associatively, and applied in any order give the same state", arguments: seeds.prefix(24))
    func deltaMergeLaws(seed: UInt64) throws {
        var rng = Self.rng(seed &+ 2_000)
        let origin = F.node("origin")
        var source = TrackerState(replica: origin)
        let ops = zip(Gen.int(in: 0...2), Gen.int(in: 0...1), Gen.int(in: 0...3), Gen.int(in: 0...2))
            .array(of: 12...40).run(using: &rng)
        var deltas: [TrackerDelta] = []
        for (index, (owner, topic, key, action)) in ops.enumerated() {
            let who = F.owner(origin, UInt64(owner))
            switch action {
            case 0: _ = try? source.join(owner: who, topic: "t\(topic)", key: "k\(key)", meta: F.meta(UInt64(index)))
            case 1: source.leave(owner: who, topic: "t\(topic)", key: "k\(key)")
            default: _ = try source.update(owner: who, topic: "t\(topic)", key: "k\(key)", meta: F.meta(UInt64(index)))
            }
            if index % 4 == 3, let delta = source.takeDelta() { deltas.append(delta) }
        }
        if let delta = source.takeDelta() { deltas.append(delta) }
        guard deltas.count >= 3 else { return }

        let first = deltas[0]
        let second = deltas[1]
        let third = deltas[2]
        #expect(try first.merging(second).merging(third) == first.merging(try second.merging(third)))
        #expect(try first.merging(first) == first)
        let all = try deltas.dropFirst().reduce(deltas[0]) { try $0.merging($1) }

        var observer = TrackerState(replica: F.node("observer"))
        observer.replicaUp(origin)
        var inOrder = observer
        for delta in deltas { inOrder.merge(delta) }
        #expect(Set(inOrder.onlineRecords()) == Set(source.onlineRecords()))
        #expect(inOrder.context == [observer.replica: 0, origin: source.context[origin] ?? 0])
        #expect(inOrder.clouds.isEmpty)

        var merged = observer
        merged.merge(all)
        #expect(Snapshot(merged) == Snapshot(inOrder))

        let shuffled = Gen.shuffled(deltas).run(using: &rng)
        var reordered = observer
        for delta in shuffled {
            reordered.merge(delta)
            reordered.merge(delta)
        }
        #expect(Snapshot(reordered) == Snapshot(inOrder), "order \(shuffled.map { $0.end[origin] ?? 0 })")
    }
}

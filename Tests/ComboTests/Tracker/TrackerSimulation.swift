@testable import Combo
import NIOCore
import Testing

/// A cluster of tracker states driven by random operations: local changes,
/// heartbeats whose deltas are lost, duplicated and reordered on their way,
/// transfer requests answered from delta generations, netsplits and restarts
/// (same name, new incarnation). Every payload crosses the wire codec.
///
/// It checks as it goes that each diff is consistent with what the node showed
/// before, and ``checkConvergence()`` checks, once everything is healed and
/// repaired by full transfers, that every node shows the union of every node's
/// own presences.
struct TrackerSimulation {
    /// The nodes' states.
    private(set) var nodes: [TrackerState]
    /// Each node's delta generations.
    private var generations: [DeltaGenerations]
    /// Encoded payloads on their way to each node.
    private var inboxes: [[ByteBuffer]]
    /// What each node has shown through its diffs, by tag.
    private var views: [[PresenceTag: PresenceRecord]]
    /// What each node's owners track, and the value they gave.
    private var models: [[TrackerModelKey: Int]]
    /// Each node's current incarnation.
    private var incarnations: [UInt64]
    /// For each node, the dot each removal of one of its presences spent, by the removed tag.
    private var removalDots: [[PresenceTag: UInt64]]
    /// The next presence reference to hand out.
    private var nextRef: UInt64 = 1

    /// A cluster of `count` connected nodes named n0, n1…
    init(nodeCount: Int) {
        incarnations = Array(repeating: 1, count: nodeCount)
        nodes = TrackerFixture.connected((0..<nodeCount).map { "n\($0)" })
        generations = Array(repeating: DeltaGenerations(maxSizes: [3, 10, 30]), count: nodeCount)
        inboxes = Array(repeating: [], count: nodeCount)
        views = Array(repeating: [:], count: nodeCount)
        models = Array(repeating: [:], count: nodeCount)
        removalDots = Array(repeating: [:], count: nodeCount)
    }

    /// Owner `sequence` of `node`'s current incarnation.
    private func owner(_ node: Int, _ sequence: Int) -> PresenceOwnerID {
        TrackerFixture.owner(nodes[node].replica, UInt64(sequence))
    }

    /// Metadata with a fresh reference and `value`.
    private mutating func meta(_ value: Int) -> PresenceMeta {
        nextRef += 1
        return TrackerFixture.meta(nextRef, ["v": .int(Int64(value))])
    }

    /// Folds a diff into the node's view, checking it against what was shown.
    private mutating func show(_ diff: TrackerDiff, at node: Int, sourceLocation: SourceLocation = #_sourceLocation) {
        for left in diff.leaves {
            #expect(views[node].removeValue(forKey: left.tag) == left, "leave of \(left) not shown", sourceLocation: sourceLocation)
        }
        for joined in diff.joins {
            #expect(views[node].updateValue(joined, forKey: joined.tag) == nil, "join of \(joined) shown twice", sourceLocation: sourceLocation)
        }
    }

    /// Applies one step; node indices wrap around the cluster's size.
    mutating func apply(_ step: TrackerSimulationStep) throws {
        let count = nodes.count
        switch step {
        case .join(let node, let sequence, let topic, let key, let value):
            let node = node % count
            let modelKey = TrackerModelKey(owner: sequence, topic: "t\(topic)", key: "k\(key)")
            let meta = meta(value)
            do {
                let record = try nodes[node].join(owner: owner(node, sequence), topic: modelKey.topic, key: modelKey.key, meta: meta)
                #expect(models[node].updateValue(value, forKey: modelKey) == nil)
                show(TrackerDiff(joins: [record]), at: node)
            } catch {
                #expect(error == .alreadyTracked(topic: modelKey.topic, key: modelKey.key))
                #expect(models[node][modelKey] != nil)
            }
        case .leave(let node, let sequence, let topic, let key):
            let node = node % count
            let modelKey = TrackerModelKey(owner: sequence, topic: "t\(topic)", key: "k\(key)")
            let left = nodes[node].leave(owner: owner(node, sequence), topic: modelKey.topic, key: modelKey.key)
            #expect((left != nil) == (models[node].removeValue(forKey: modelKey) != nil))
            if let left {
                removalDots[node][left.tag] = nodes[node].context[nodes[node].replica]
                show(TrackerDiff(leaves: [left]), at: node)
            }
        case .leaveOwner(let node, let sequence):
            let node = node % count
            let clockBefore = nodes[node].context[nodes[node].replica] ?? 0
            let left = nodes[node].leave(owner: owner(node, sequence))
            for (offset, record) in left.enumerated() { removalDots[node][record.tag] = clockBefore + UInt64(offset) + 1 }
            let modelled = models[node].keys.filter { $0.owner == sequence }
            #expect(left.count == modelled.count)
            for key in modelled { models[node][key] = nil }
            show(TrackerDiff(leaves: left), at: node)
        case .update(let node, let sequence, let topic, let key, let value):
            let node = node % count
            let modelKey = TrackerModelKey(owner: sequence, topic: "t\(topic)", key: "k\(key)")
            let owner = owner(node, sequence)
            let previous = try nodes[node].update(owner: owner, topic: modelKey.topic, key: modelKey.key, meta: meta(value))
            #expect((previous != nil) == (models[node][modelKey] != nil))
            if let previous {
                models[node][modelKey] = value
                let current = try #require(nodes[node].record(owner: owner, topic: modelKey.topic, key: modelKey.key))
                // An update spends one dot on removing the old version, then one on the new.
                removalDots[node][previous.tag] = current.tag.clock - 1
                #expect(current.tag.clock > previous.tag.clock + 1)
                show(TrackerDiff(joins: [current], leaves: [previous]), at: node)
            }
        case .heartbeat(let node, let fate):
            let node = node % count
            guard let delta = nodes[node].takeDelta() else { return }
            generations[node].push(delta, parent: nodes[node])
            var buffer = ByteBuffer()
            buffer.writeTrackerPayload(.delta(delta))
            for peer in 0..<count where peer != node {
                switch (fate >> (2 * UInt64(peer))) & 3 {
                case 0: break
                case 2:
                    inboxes[peer].append(buffer)
                    inboxes[peer].append(buffer)
                default: inboxes[peer].append(buffer)
                }
            }
        case .deliver(let node, let pick):
            let node = node % count
            guard !inboxes[node].isEmpty else { return }
            var buffer = inboxes[node].remove(at: pick % inboxes[node].count)
            receive(try buffer.readTrackerPayload(), at: node)
        case .transfer(let from, let to):
            let from = from % count
            let to = to % count
            guard from != to else { return }
            let payload = generations[from].extract(
                from: nodes[from], for: nodes[to].replica, remoteContext: nodes[to].clocks
            )
            receive(try TrackerFixture.roundTrip(payload), at: to)
        case .restart(let node):
            let node = node % count
            let old = nodes[node].replica
            incarnations[node] += 1
            var fresh = TrackerState(replica: TrackerFixture.node("n\(node)", incarnations[node]))
            for peer in 0..<count where peer != node {
                show(nodes[peer].permdown(old), at: peer)
                generations[peer].removeReplica(old)
                nodes[peer].replicaUp(fresh.replica)
                fresh.replicaUp(nodes[peer].replica)
            }
            nodes[node] = fresh
            generations[node] = DeltaGenerations(maxSizes: [3, 10, 30])
            inboxes[node] = []
            views[node] = [:]
            models[node] = [:]
            removalDots[node] = [:]
        case .split(let a, let b):
            let a = a % count
            let b = b % count
            guard a != b else { return }
            show(nodes[a].replicaDown(nodes[b].replica), at: a)
            show(nodes[b].replicaDown(nodes[a].replica), at: b)
        case .heal(let a, let b):
            let a = a % count
            let b = b % count
            guard a != b else { return }
            show(nodes[a].replicaUp(nodes[b].replica), at: a)
            show(nodes[b].replicaUp(nodes[a].replica), at: b)
        case .transferInSteps(let from, let to, let budget, let between):
            let from = from % count
            let to = to % count
            guard from != to else { return }
            let extracted = nodes[from].extract(for: nodes[to].replica, remoteContext: nodes[to].clocks)
            guard case .full(let transfer) = try TrackerFixture.roundTrip(.full(extracted)) else { return }
            var merge = nodes[to].beginMerge(transfer)
            var interleaved = between[...]
            while !merge.isDone {
                show(nodes[to].continueMerge(&merge, budget: max(1, budget)), at: to)
                checkSafety()
                if let step = interleaved.popFirst(), Self.allowedDuringMerge(step, into: to, count: count) {
                    try apply(step)
                    checkSafety()
                }
            }
            generations[to].reset()
        }
    }

    /// Whether a shard merging into `node` could take `step` between two merge
    /// steps: nothing that merges into it (it finishes the merge first), and no
    /// restart of it.
    private static func allowedDuringMerge(_ step: TrackerSimulationStep, into node: Int, count: Int) -> Bool {
        switch step {
        case .deliver(let target, _): target % count != node
        case .transfer(_, let target): target % count != node
        case .restart(let target): target % count != node
        case .transferInSteps: false
        default: true
        }
    }

    /// What must hold at every moment, whatever was lost: a node that has seen a
    /// live presence's dot holds that presence, and a node whose contiguous
    /// context passed the dot a removal spent no longer holds what was removed.
    func checkSafety(sourceLocation: SourceLocation = #_sourceLocation) {
        for (index, node) in nodes.enumerated() {
            let held = Dictionary(node.allRecords().map { ($0.tag, $0) }, uniquingKeysWith: { first, _ in first })
            var seenKeys = Set<[String]>()
            for record in held.values {
                let identity = "\(record.owner)/\(record.topic)/\(record.key)"
                #expect(seenKeys.insert([identity]).inserted, "node \(index) holds two rows for \(identity)", sourceLocation: sourceLocation)
            }
            for (peerIndex, peer) in nodes.enumerated() where peerIndex != index {
                let known = node.context[peer.replica] ?? 0
                let cloud = node.clouds[peer.replica] ?? DotSet()
                for live in peer.allRecords() where live.tag.replica == peer.replica {
                    if live.tag.clock <= known || cloud.contains(live.tag.clock) {
                        #expect(held[live.tag] == live, "node \(index) saw \(live.tag) but lacks it", sourceLocation: sourceLocation)
                    }
                }
                for (tag, removal) in removalDots[peerIndex] where held[tag] != nil {
                    #expect(known < removal, "node \(index) passed the removal of \(tag) but holds it", sourceLocation: sourceLocation)
                }
            }
        }
    }

    /// Merges a payload at `node`, showing its diff and feeding the node's generations as a shard would.
    private mutating func receive(_ payload: TrackerPayload, at node: Int) {
        show(nodes[node].merge(payload), at: node)
        switch payload {
        case .delta(let delta): generations[node].push(delta, parent: nodes[node])
        case .full: generations[node].reset()
        }
    }

    /// Heals every netsplit, delivers every message still on its way, then has
    /// every node merge every other node's whole state.
    mutating func settle() throws {
        for a in nodes.indices {
            for b in nodes.indices where a < b { try apply(.heal(a, b)) }
        }
        for node in nodes.indices {
            while !inboxes[node].isEmpty { try apply(.deliver(node: node, pick: 0)) }
        }
        for to in nodes.indices {
            for from in nodes.indices where from != to {
                let transfer = nodes[from].extract(for: nodes[to].replica, remoteContext: nodes[to].clocks)
                receive(try TrackerFixture.roundTrip(.full(transfer)), at: to)
            }
        }
    }

    /// Every node shows, lists and has seen exactly what every node tracks.
    func checkConvergence(sourceLocation: SourceLocation = #_sourceLocation) {
        var truth = Set<PresenceRecord>()
        for (index, node) in nodes.enumerated() {
            let own = node.onlineRecords().filter { $0.tag.replica == node.replica }
            let modelled = Dictionary(uniqueKeysWithValues: own.map {
                (TrackerModelKey(owner: Int($0.owner.sequence), topic: $0.topic, key: $0.key), $0.meta.values["v"])
            })
            #expect(modelled == models[index].mapValues { PresenceValue.int(Int64($0)) }, sourceLocation: sourceLocation)
            truth.formUnion(own)
        }
        for (index, node) in nodes.enumerated() {
            #expect(Set(node.onlineRecords()) == truth, "node \(index) lists other presences", sourceLocation: sourceLocation)
            #expect(Set(views[index].values) == truth, "node \(index) showed other presences", sourceLocation: sourceLocation)
            #expect(node.count == truth.count, sourceLocation: sourceLocation)
            #expect(node.clouds.isEmpty, "node \(index) kept clouds \(node.clouds)", sourceLocation: sourceLocation)
            #expect(node.replicas.count == nodes.count && node.replicas.values.allSatisfy { $0 == .up }, sourceLocation: sourceLocation)
            for peer in nodes {
                #expect(node.context[peer.replica] == peer.context[peer.replica], sourceLocation: sourceLocation)
            }
            var topics = Set<String>()
            for record in truth { topics.insert(record.topic) }
            for topic in topics {
                #expect(Set(node.list(topic: topic)) == truth.filter { $0.topic == topic }, sourceLocation: sourceLocation)
            }
        }
    }
}

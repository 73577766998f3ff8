import Dispatch
import Foundation
import MetricsTestKit
import Synchronization
import Testing
@testable import Combo

@Suite("Tracker")
struct TrackerTests {
    @Test("presences on many topics replicate to every node", arguments: [1, 2, 8])
    func replicationAcrossShards(poolSize: Int) async throws {
        try await TrackerTestCluster.with(nodes: 3, poolSize: poolSize) { cluster in
            let owners = cluster.trackers.map { $0.makeOwner() }
            defer { owners.forEach { $0.close() } }
            for (index, owner) in owners.enumerated() {
                for topic in 0..<40 {
                    try owner.track(topic: "room:\(topic)", key: "user-\(index)")
                }
            }
            try await eventually("every node lists 120 presences") {
                cluster.trackers.allSatisfy { $0.presenceCount == 120 }
            }
            for tracker in cluster.trackers {
                for topic in 0..<40 {
                    #expect(Set(tracker.list("room:\(topic)").map(\.key)) == ["user-0", "user-1", "user-2"])
                }
            }
            if poolSize > 1 {
                let used = Set((0..<40).map { cluster.trackers[0].shardNumber(for: "room:\($0)") })
                #expect(used.count > 1, "40 topics all hashed to one of \(poolSize) shards")
            }
            // The topic-to-shard mapping is the same on every node.
            for topic in 0..<40 {
                let numbers = Set(cluster.trackers.map { $0.shardNumber(for: "room:\(topic)") })
                #expect(numbers.count == 1)
            }
            owners[1].close()
            try await eventually("user-1 leaves everywhere") {
                cluster.trackers.allSatisfy { $0.presenceCount == 80 }
            }
        }
    }

    @Test("the handler gets diffs grouped by topic; an update is a leave and a join in one diff")
    func handlerDiffs() async throws {
        let handler = RecordingHandler()
        try await TrackerTestCluster.with(nodes: 2, handlers: [nil, handler]) { cluster in
            let owner = cluster.trackers[0].makeOwner()
            defer { owner.close() }
            let first = try owner.track(topic: "a", key: "k", values: ["v": 1])
            try await eventually("the join reaches node 1") { cluster.trackers[1].presenceCount == 1 }
            let second = try owner.update(topic: "a", key: "k", values: ["v": 2])
            try await eventually("the update reaches node 1") {
                cluster.trackers[1].list("a").first?.meta.ref == second
            }
            try await eventually("the handler saw both diffs") { handler.diffs.withLock { $0.count } >= 2 }
            let diffs = handler.diffs.withLock { $0 }
            #expect(diffs[0].topics["a"]?.joins.map(\.meta.ref) == [first])
            let update = diffs[1].topics["a"]
            #expect(update?.leaves.map(\.meta.ref) == [first])
            #expect(update?.joins.map(\.meta.ref) == [second])
            #expect(update?.joins.first?.meta.previousRef == first)
            #expect(update?.joins.first?.meta.values == ["v": 2])
        }
    }

    @Test("events start with a snapshot and miss nothing after it")
    func eventsSnapshotFirst() async throws {
        try await TrackerTestCluster.with(nodes: 1, poolSize: 2) { cluster in
            let tracker = cluster.trackers[0]
            let owner = tracker.makeOwner()
            defer { owner.close() }
            try owner.track(topic: "t1", key: "before")
            try owner.track(topic: "elsewhere", key: "ignored")
            let before = tracker.list("t1")
            #expect(before.count == 1)
            let events = tracker.events(for: ["t1", "t2"])
            try owner.track(topic: "t2", key: "after")
            try owner.track(topic: "elsewhere", key: "ignored-too")
            owner.untrack(topic: "t1", key: "before")
            var iterator = events.makeAsyncIterator()
            #expect(try await iterator.next() == .snapshot(["t1": before]))
            var joins: [String] = []
            var leaves: [String] = []
            while joins.count + leaves.count < 2 {
                guard case .diff(let diff) = try await iterator.next() else { break }
                #expect(Set(diff.topics.keys).isSubset(of: ["t1", "t2"]))
                for topic in diff.topics.values {
                    joins += topic.joins.map(\.key)
                    leaves += topic.leaves.map(\.key)
                }
            }
            #expect(joins == ["after"] && leaves == ["before"])
        }
    }

    @Test("an owner's presences leave when its scope ends; a closed owner tracks nothing")
    func ownerScope() async throws {
        try await TrackerTestCluster.with(nodes: 2) { cluster in
            var kept: PresenceOwner?
            try await cluster.trackers[0].withOwner { owner in
                kept = owner
                try owner.track(topic: "room", key: "a")
                try owner.track(topic: "other", key: "a")
                try await eventually("node 1 lists both") { cluster.trackers[1].presenceCount == 2 }
            }
            #expect(cluster.trackers[0].presenceCount == 0)
            try await eventually("node 1 sees them leave") { cluster.trackers[1].presenceCount == 0 }
            let closed = try #require(kept)
            #expect(throws: TrackerError.ownerClosed(closed.id)) { try closed.track(topic: "room", key: "b") }
        }
    }

    @Test("a tracker refuses owners of another tracker")
    func foreignOwner() async throws {
        try await TrackerTestCluster.with(nodes: 2) { cluster in
            let stranger = cluster.trackers[1].makeOwner()
            defer { stranger.close() }
            #expect(throws: TrackerError.foreignOwner(stranger.id)) {
                try cluster.trackers[0].track(stranger.id, topic: "room", key: "x")
            }
        }
    }

    @Test("reads never wait behind a merge or a heartbeat holding the shard")
    func readsDoNotWait() async throws {
        // A broadcast period far beyond the test: the tracker's own tasks must
        // not wait for the held lock, since they would each block one of the
        // few cooperative threads and stall every other test of the run.
        var configuration = TrackerTestCluster.configuration(poolSize: 1)
        configuration.broadcastPeriod = .seconds(600)
        configuration.downPeriod = .seconds(1200)
        configuration.permdownPeriod = .seconds(2400)
        try await TrackerTestCluster.with(nodes: 1, configuration: configuration) { cluster in
            let tracker = cluster.trackers[0]
            let owner = tracker.makeOwner()
            defer { owner.close() }
            try owner.track(topic: "room", key: "a")
            let holding = DispatchSemaphore(value: 0)
            let release = DispatchSemaphore(value: 0)
            // Stands in for a long merge: a thread of its own (not one of the
            // few cooperative threads) holds the shard's lock until released.
            let blocker = Thread {
                tracker.shards[0].perform { _ in
                    holding.signal()
                    release.wait()
                    return ((), ShardEffects())
                }
            }
            blocker.start()
            await withCheckedContinuation { continuation in
                Thread {
                    holding.wait()
                    continuation.resume()
                }.start()
            }
            #expect(tracker.list("room").map(\.key) == ["a"])
            #expect(tracker.presences(of: "room", key: "a").count == 1)
            #expect(tracker.presenceCount == 1)
            release.signal()
        }
    }

    @Test("a large full transfer is merged in steps, with the shard released between them")
    func largeTransferMergedInSteps() async throws {
        let metrics = TestMetrics()
        try await TrackerTestCluster.with(
            nodes: 2, configuration: TrackerTestCluster.configuration(poolSize: 1), metricsFactory: metrics
        ) { cluster in
            let (a, b) = (cluster.trackers[0], cluster.trackers[1])
            let owner = a.makeOwner()
            defer { owner.close() }
            let count = 5_000
            for index in 0..<count { try owner.track(topic: "room", key: "k\(index)") }
            try await eventually("b lists a's presences") { b.list("room").count == count }
            // What a answers a transfer request with when it cannot answer with a delta.
            let clocks = b.shards[0].inspect { $0.state.clocks }
            let transfer = a.shards[0].inspect { $0.state.extract(for: b.replica, remoteContext: clocks) }
            #expect(transfer.count == count)
            let ack = TrackerMessage.transferAck(ref: 1, sender: a.replica, payload: .full(transfer))
            try await cluster.pubsubs[0].directBroadcast(
                RawBytes(ack.encoded()), to: b.shards[0].topic, on: cluster.pubsubs[1].nodeName)
            // Five thousand rows to scan and five thousand values to look at: several steps.
            let steps = {
                (try? metrics.expectCounter("combo_tracker_merge_steps_total", [("tracker", "test")]).totalValue) ?? 0
            }
            try await eventually("the transfer merged in steps") { steps() >= 2 && !b.shards[0].inspect(\.isMerging) }
            #expect(b.list("room").count == count)
            let local = b.makeOwner()
            defer { local.close() }
            try local.track(topic: "room", key: "b")
            #expect(b.list("room").count == count + 1)
        }
    }

    @Test("a heartbeat tick that finds a merge holding the shard is put off by one period, not waited for")
    func tickDeferredBehindMerge() async throws {
        let metrics = TestMetrics()
        try await TrackerTestCluster.with(
            nodes: 1, configuration: TrackerTestCluster.configuration(poolSize: 1), metricsFactory: metrics
        ) { cluster in
            let tracker = cluster.trackers[0]
            let holding = DispatchSemaphore(value: 0)
            let release = DispatchSemaphore(value: 0)
            // Stands in for a long merge, on a thread of its own.
            Thread {
                tracker.shards[0].perform { _ in
                    holding.signal()
                    release.wait()
                    return ((), ShardEffects())
                }
            }.start()
            await withCheckedContinuation { continuation in
                Thread {
                    holding.wait()
                    continuation.resume()
                }.start()
            }
            // With a 20 ms period the ticker reaches the held shard at once;
            // release it as soon as the tick was put off, before the next one,
            // which would wait.
            let deferred = {
                (try? metrics.expectCounter("combo_tracker_ticks_deferred_total", [("tracker", "test")]).totalValue) ?? 0
            }
            do {
                try await eventually("a deferred tick", timeout: .seconds(10)) { deferred() >= 1 }
            } catch {
                release.signal()
                throw error
            }
            release.signal()
            // Ticking goes on: heartbeats keep being sent.
            let heartbeats = {
                ["heartbeat", "heartbeat_empty"].reduce(Int64(0)) { total, kind in
                    total + ((try? metrics.expectCounter(
                        "combo_tracker_messages_sent_total", [("tracker", "test"), ("kind", kind)]).totalValue) ?? 0)
                }
            }
            let sent = heartbeats()
            try await eventually("a heartbeat after the merge", timeout: .seconds(10)) { heartbeats() > sent }
        }
    }
}

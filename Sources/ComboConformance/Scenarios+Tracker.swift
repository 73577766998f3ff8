import Combo

extension Scenarios {
    /// Fast periods so that the scenarios take about a second, with a down
    /// period long enough not to fire on a loaded machine by mistake.
    func trackerConfiguration(downPeriod: Duration = .seconds(30)) -> Tracker.Configuration {
        Tracker.Configuration(
            name: "conformance", poolSize: poolSize, broadcastPeriod: .milliseconds(50), maxSilentPeriods: 2,
            downPeriod: downPeriod, permdownPeriod: downPeriod * 60)
    }

    func startTrackers(_ nodes: [PubSub], downPeriod: Duration = .seconds(30)) throws -> [Tracker] {
        try nodes.map { try fixture.startTracker(on: $0, configuration: trackerConfiguration(downPeriod: downPeriod)) }
    }

    /// Waits until `condition` holds for the presences of `topic` on every tracker.
    func awaitPresences(
        _ trackers: [Tracker], _ topic: String, _ what: String,
        file: String = #fileID, line: Int = #line, _ condition: ([Presence]) -> Bool
    ) async throws {
        let deadline = ContinuousClock.now.advanced(by: timeout)
        while true {
            let lists = trackers.map { $0.list(topic) }
            if lists.allSatisfy(condition) { return }
            guard ContinuousClock.now < deadline else {
                let seen = lists.map { list in list.map(\.key).sorted() }
                throw ConformanceFailure("\(what) within \(timeout); presences seen: \(seen)", file: file, line: line)
            }
            try await Task.sleep(for: .milliseconds(10))
        }
    }

    func trackerPresencesReplicate() async throws {
        let nodes = try await startCluster(count: 3)
        let trackers = try startTrackers(nodes)
        let owners = trackers.map { $0.makeOwner() }
        defer { owners.forEach { $0.close() } }
        for (index, owner) in owners.enumerated() {
            try owner.track(topic: topic, key: "user\(index)", values: ["node": .int(Int64(index))])
        }
        try owners[0].track(topic: "\(topic).other", key: "elsewhere")
        try await awaitPresences(trackers, topic, "every node lists the three presences") { list in
            Set(list.map(\.key)) == ["user0", "user1", "user2"] && list.count == 3
        }
        for tracker in trackers {
            let found = tracker.presences(of: topic, key: "user1")
            try check(found.count == 1 && found[0].owner == owners[1].id && found[0].meta.values["node"] == 1,
                      "\(tracker.replica) finds user1 as \(found)")
        }
        let first = trackers[0].list(topic).first { $0.key == "user2" }
        let ref = try owners[2].update(topic: topic, key: "user2") { values in
            var values = values
            values["status"] = "away"
            return values
        }
        try await awaitPresences(trackers, topic, "every node sees the update") { list in
            list.contains { $0.key == "user2" && $0.meta.ref == ref && $0.meta.values["status"] == "away" }
        }
        let updated = trackers[1].list(topic).first { $0.key == "user2" }
        try check(updated?.meta.previousRef == first?.meta.ref, "the update's previous ref is \(String(describing: updated?.meta.previousRef))")
        try await awaitPresences(trackers, "\(topic).other", "the other topic replicates") { $0.map(\.key) == ["elsewhere"] }
        owners[0].untrack(topic: topic, key: "user0")
        try await awaitPresences(trackers, topic, "an untrack replicates") { Set($0.map(\.key)) == ["user1", "user2"] }
    }

    func trackerOwnerEndLeavesEverywhere() async throws {
        let nodes = try await startCluster(count: 2)
        let trackers = try startTrackers(nodes)
        let events = trackers[1].events(for: [topic])
        var iterator = events.makeAsyncIterator()
        guard case .snapshot(let snapshot) = try await iterator.next() else {
            throw ConformanceFailure("presence events did not start with a snapshot")
        }
        try check(snapshot.isEmpty, "the first snapshot is \(snapshot)")
        try await trackers[0].withOwner { owner in
            try owner.track(topic: topic, key: "a")
            try owner.track(topic: topic, key: "b")
            try await awaitPresences(trackers, topic, "both nodes list a and b") { Set($0.map(\.key)) == ["a", "b"] }
        }
        try await awaitPresences(trackers, topic, "the owner's end removes its presences everywhere") { $0.isEmpty }
        var joined: Set<String> = []
        var left: Set<String> = []
        while left.count < 2 {
            guard case .diff(let diff) = try await iterator.next() else {
                throw ConformanceFailure("presence events ended early")
            }
            for presence in diff.topics[topic]?.joins ?? [] { joined.insert(presence.key) }
            for presence in diff.topics[topic]?.leaves ?? [] { left.insert(presence.key) }
        }
        try check(joined == ["a", "b"] && left == ["a", "b"], "the remote node's events showed joins \(joined), leaves \(left)")
    }

    func trackerKilledNodeLeaves() async throws {
        let nodes = try await startCluster(count: 3)
        let downPeriod = Duration.seconds(1)
        let trackers = try startTrackers(nodes, downPeriod: downPeriod)
        let owner = trackers[2].makeOwner()
        defer { owner.close() }
        try owner.track(topic: topic, key: "doomed")
        let survivorOwner = trackers[0].makeOwner()
        defer { survivorOwner.close() }
        try survivorOwner.track(topic: topic, key: "survivor")
        try await awaitPresences(trackers, topic, "every node lists both") { $0.count == 2 }
        let stoppedAt = ContinuousClock.now
        await fixture.stop(nodes[2].nodeName)
        try await awaitPresences(Array(trackers[0..<2]), topic, "the stopped node's presence leaves") {
            $0.map(\.key) == ["survivor"]
        }
        let elapsed = ContinuousClock.now - stoppedAt
        // Down period plus one heartbeat, with room for a loaded machine.
        let bound = downPeriod + trackerConfiguration().broadcastPeriod * 2 + .seconds(5)
        try check(elapsed <= bound, "the presence left after \(elapsed), more than \(bound)")
    }

    func trackerGracefulPermdown() async throws {
        let nodes = try await startCluster(count: 2)
        // A down period far beyond the timeout: only the permdown can remove it in time.
        let trackers = try startTrackers(nodes, downPeriod: .seconds(600))
        let owner = trackers[1].makeOwner()
        try owner.track(topic: topic, key: "leaving")
        try await awaitPresences(trackers, topic, "both nodes list it") { $0.map(\.key) == ["leaving"] }
        await trackers[1].gracefulPermdown()
        await fixture.trackerStopped(on: nodes[1].nodeName)
        try await awaitPresences([trackers[0]], topic, "a graceful permdown removes the presences at once") { $0.isEmpty }
        do {
            try owner.track(topic: topic, key: "again")
            throw ConformanceFailure("a stopped tracker accepted a track")
        } catch let error as TrackerError {
            try check(error == .stopped, "tracking on a stopped tracker threw \(error)")
        }
    }

    func trackerGracefulShutdownLeaves(pubSubStopsFirst: Bool) async throws {
        let survivors = try await startCluster(count: 2)
        let name: NodeName = "node2"
        let (leaving, leavingTracker, group) = try await fixture.startServiceGroup(
            name, configuration: fixture.configuration(poolSize: poolSize),
            trackerConfiguration: trackerConfiguration(downPeriod: .seconds(30)), trackerFirst: pubSubStopsFirst)
        try await fixture.awaitConnected(survivors + [leaving])
        let trackers = try startTrackers(survivors) + [leavingTracker]
        let staying = trackers[0].makeOwner()
        defer { staying.close() }
        try staying.track(topic: topic, key: "staying")
        // Never closed: only the node's shutdown can make this presence leave.
        let owner = leavingTracker.makeOwner()
        try owner.track(topic: topic, key: "leaving")
        try owner.track(topic: "\(topic).other", key: "leaving")
        try await awaitPresences(trackers, topic, "every node lists both presences") { $0.count == 2 }
        try await awaitPresences(trackers, "\(topic).other", "every node lists the other topic's presence") { $0.count == 1 }
        let stoppedAt = ContinuousClock.now
        await group.triggerGracefulShutdown()
        let survivingTrackers = Array(trackers[0..<2])
        try await awaitPresences(survivingTrackers, topic, "the stopped node's presence leaves the others") {
            $0.map(\.key) == ["staying"]
        }
        try await awaitPresences(survivingTrackers, "\(topic).other", "the stopped node's other presence leaves") {
            $0.isEmpty
        }
        let elapsed = ContinuousClock.now - stoppedAt
        try check(
            elapsed <= .seconds(1),
            "the presences left \(elapsed) after the graceful shutdown began, more than 1 s (the down period is 30 s)")
        try await fixture.awaitServiceGroupEnded(name)
    }
}

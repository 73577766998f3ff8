import AdapterMesh
import ArgumentParser
import Combo
import Logging

/// `combo bench tracker`: presence tracking on two mesh nodes in one process,
/// broadcast period 100 ms: time to track, time until the other node lists
/// everything, catch-up of a restarted node, memory per presence. The raw
/// figure beside it is the same inserts into a plain dictionary, the floor any
/// tracker pays.
struct TrackerBenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tracker",
        abstract: "Track, replicate and catch up presences between two mesh nodes."
    )

    @Option(help: "Presence counts to measure, comma-separated.")
    var counts = "10000,100000"

    @Option(help: "Topics the presences are spread over.")
    var topics = 100

    @Option(help: "Tracker broadcast period in milliseconds.")
    var broadcastPeriod = 100

    @Option(help: "Tracker shards (poolSize).")
    var poolSize = 1

    func run() async throws {
        let sizes = counts.split(separator: ",").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) }
        guard !sizes.isEmpty, sizes.allSatisfy({ $0 > 0 }) else { throw ValidationError("--counts: positive numbers") }
        var results: [BenchResult] = []
        for count in sizes {
            results += try await measure(count: count)
        }
        BenchReport.print(title: "combo bench tracker", results: results)
    }

    private func measure(count: Int) async throws -> [BenchResult] {
        var results: [BenchResult] = []
        let clock = ContinuousClock()
        let label = "\(count / 1000)k"

        // The floor: the same keys and values into one dictionary, no CRDT, no lock.
        let rawStart = clock.now
        var plain: [String: [String: PresenceValue]] = [:]
        plain.reserveCapacity(count)
        for index in 0..<count { plain["room:\(index % topics)|user:\(index)"] = ["status": "online"] }
        let rawSeconds = LocalBenchCommand.seconds(rawStart.duration(to: clock.now))
        precondition(plain.count == count)
        plain = [:]
        results.append(BenchResult(name: "  raw dictionary insert, \(label)", value: rawSeconds * 1000, unit: "ms",
                                   detail: "\(count) inserts of the same keys and values"))

        try await withCluster { cluster in
            let first = try await cluster.start("bench-a")
            let second = try await cluster.start("bench-b")
            try await cluster.awaitConnected()

            let heapBefore = MemoryProbe.allocatedBytes()
            let trackStart = clock.now
            for index in 0..<count {
                try first.tracker.track(
                    PresenceOwnerID(node: first.tracker.replica, sequence: UInt64(index)),
                    topic: "room:\(index % topics)", key: "user:\(index)", values: ["status": "online"])
            }
            let tracked = clock.now
            let trackSeconds = LocalBenchCommand.seconds(trackStart.duration(to: tracked))
            results.append(BenchResult(name: "track \(label) presences on one node", value: trackSeconds * 1000, unit: "ms",
                                       detail: "\(Int(Double(count) / trackSeconds)) tracks/s; Phoenix.Tracker: 3.45 s for 100k"))

            try await awaitCount(second.tracker, count, within: .seconds(120))
            let converged = LocalBenchCommand.seconds(tracked.duration(to: clock.now))
            results.append(BenchResult(name: "other node lists all \(label)", value: converged * 1000, unit: "ms",
                                       detail: "after the last track; Phoenix.Tracker: 0.96 s for 100k"))

            // Let pending deltas go out, then weigh both nodes' copies.
            try await Task.sleep(for: .milliseconds(broadcastPeriod * 3))
            let heapBoth = MemoryProbe.allocatedBytes()
            let perPresence = Double(heapBoth - heapBefore) / Double(2 * count)
            results.append(BenchResult(name: "memory per presence, \(label)", value: perPresence, unit: "bytes",
                                       detail: "heap growth over both nodes' copies / \(2 * count); Phoenix.Tracker: about 460"))

            await cluster.stop("bench-b")
            let restartStart = clock.now
            let restarted = try await cluster.start("bench-b")
            // While it catches up (a full transfer of everything to merge), the restarted
            // node keeps writing: how long can a local write wait?
            let probeOwner = PresenceOwnerID(node: restarted.tracker.replica, sequence: 0)
            try restarted.tracker.track(probeOwner, topic: "probe", key: "writer")
            let probe = TrackerWriteProbe()
            probe.start(tracker: restarted.tracker, owner: probeOwner, topic: "probe", key: "writer")
            do {
                try await awaitCount(restarted.tracker, count + 1, within: .seconds(120))
            } catch {
                _ = probe.stop()
                throw error
            }
            let catchUp = LocalBenchCommand.seconds(restartStart.duration(to: clock.now))
            let writes = probe.stop().sorted()
            results.append(BenchResult(name: "restarted node catches up, \(label)", value: catchUp * 1000, unit: "ms",
                                       detail: "from its start (new incarnation, mesh join included); Phoenix.Tracker: 1.7 s for 100k"))
            let longest = writes.last.map { LocalBenchCommand.seconds($0) * 1000 } ?? 0
            let median = writes.isEmpty ? 0 : LocalBenchCommand.seconds(writes[writes.count / 2]) * 1000
            results.append(BenchResult(name: "longest local write during catch-up, \(label)", value: longest, unit: "ms",
                                       detail: "\(writes.count) updates on the catching-up node, one every 200 µs from a thread; median \(String(format: "%.3f", median)) ms"))
        }
        return results
    }

    private func awaitCount(_ tracker: Tracker, _ count: Int, within limit: Duration) async throws {
        let deadline = ContinuousClock.now + limit
        while tracker.presenceCount < count {
            guard ContinuousClock.now < deadline else {
                throw ValidationError("\(tracker.replica) lists \(tracker.presenceCount) of \(count) presences after \(limit)")
            }
            try await Task.sleep(for: .milliseconds(2))
        }
    }

    private func withCluster(_ body: (TrackerBenchCluster) async throws -> Void) async throws {
        let cluster = TrackerBenchCluster(
            secret: Array("bench-\(UInt64.random(in: 0 ... .max))".utf8),
            trackerConfiguration: Tracker.Configuration(
                name: "bench", poolSize: poolSize, broadcastPeriod: .milliseconds(broadcastPeriod)))
        do {
            try await body(cluster)
        } catch {
            await cluster.stopAll()
            throw error
        }
        await cluster.stopAll()
    }
}

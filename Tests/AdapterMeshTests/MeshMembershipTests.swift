@testable import AdapterMesh
import Combo
import ComboTestKit
import MetricsTestKit
import NIOCore
import Testing

@Suite("Mesh membership", .serialized)
struct MeshMembershipTests {
    func names(_ members: [MeshMember]) -> [String] { members.map(\.node.name.rawValue).sorted() }

    @Test("three nodes joining through one seed all see each other; events start with a snapshot")
    func joinThroughSeed() async throws {
        try await withMeshNodes { nodes in
            let seed = try nodes.start(MeshTestSupport.mesh("m0"))
            let address = try await seed.address()
            let first = try nodes.start(MeshTestSupport.mesh("m1", seeds: [address]))
            let second = try nodes.start(MeshTestSupport.mesh("m2", seeds: [address]))
            let all = [seed, first, second]
            #expect(await MeshTestSupport.eventually { all.allSatisfy { $0.adapter.members.count == 2 } })
            for node in all {
                let expected = ["m0", "m1", "m2"].filter { $0 != node.pubsub.nodeName.rawValue }
                #expect(names(node.adapter.members) == expected)
                let recorder = MeshEventRecorder(node.adapter.membershipEvents())
                defer { recorder.stop() }
                #expect(await MeshTestSupport.eventually { !recorder.events.isEmpty })
                guard case .snapshot(let members) = recorder.events.first else {
                    Issue.record("the first event is \(String(describing: recorder.events.first))")
                    continue
                }
                #expect(names(members) == expected)
                // The snapshot carries identities and addresses as the members themselves report them.
                let others = all.filter { $0 !== node }
                #expect(Set(members.map(\.node)) == Set(others.map(\.pubsub.node)))
            }
        }
    }

    @Test("a stopped node goes down on the others, and its restart comes up with a new incarnation")
    func stopAndRestart() async throws {
        try await withMeshNodes { nodes in
            let seed = try nodes.start(MeshTestSupport.mesh("r0"))
            let address = try await seed.address()
            let other = try nodes.start(MeshTestSupport.mesh("r1", seeds: [address]))
            let victim = try nodes.start(MeshTestSupport.mesh("r2", seeds: [address]))
            #expect(await MeshTestSupport.eventually { [seed, other, victim].allSatisfy { $0.adapter.members.count == 2 } })
            let recorders = [seed, other].map { MeshEventRecorder($0.adapter.membershipEvents()) }
            defer { recorders.forEach { $0.stop() } }
            let oldIdentity = victim.pubsub.node
            let victimAddress = try await victim.address()
            let stopped = ContinuousClock.now
            await victim.stop()
            // Its run() closed its listener on the way out.
            await #expect(throws: (any Error).self) { _ = try await RawPeer.connect(to: victimAddress) }
            for recorder in recorders {
                #expect(await MeshTestSupport.eventually(within: .seconds(5)) { recorder.downs.contains { $0.node == oldIdentity } })
            }
            // A clean stop closes the connections: noticed at once, long before the 3 s liveness timeout.
            #expect(ContinuousClock.now - stopped < .seconds(2))
            #expect(names(seed.adapter.members) == ["r1"])

            let restarted = try nodes.start(MeshTestSupport.mesh("r2", seeds: [address]))
            #expect(restarted.pubsub.node.incarnation != oldIdentity.incarnation)
            for recorder in recorders {
                #expect(await MeshTestSupport.eventually { recorder.ups.contains { $0.node == restarted.pubsub.node } })
            }
            #expect(await MeshTestSupport.eventually { [seed, other, restarted].allSatisfy { $0.adapter.members.count == 2 } })

            // Traffic resumes both ways.
            let inbox = restarted.pubsub.makeSubscriber()
            try inbox.subscribe(to: "after")
            let probe = SubscriberProbe(inbox)
            let seedInbox = seed.pubsub.makeSubscriber()
            try seedInbox.subscribe(to: "after")
            let seedProbe = SubscriberProbe(seedInbox)
            defer {
                for probe in [probe, seedProbe] {
                    probe.stop()
                    probe.subscriber.close()
                }
            }
            try await seed.pubsub.broadcast("hello again", to: "after")
            #expect(try await probe.next(within: .seconds(10)).decode(String.self) == "hello again")
            try await restarted.pubsub.broadcast("back", to: "after")
            let messages = try await seedProbe.next(count: 2, within: .seconds(10)).map { try $0.decode(String.self) }
            #expect(messages == ["hello again", "back"])
        }
    }

    @Test("two live nodes with one name: the newer boot wins, the older is refused and counted")
    func nameClash() async throws {
        try await withMeshNodes { nodes in
            let metrics = TestMetrics()
            let seed = try nodes.start(MeshTestSupport.mesh("c0"), metrics: metrics)
            let address = try await seed.address()
            let older = try nodes.start(MeshTestSupport.mesh("dup", seeds: [address]))
            #expect(await MeshTestSupport.eventually { seed.adapter.members.map(\.node) == [older.pubsub.node] })
            let newer = try nodes.start(MeshTestSupport.mesh("dup", seeds: [address]))
            #expect(newer.pubsub.node.incarnation > older.pubsub.node.incarnation)
            #expect(await MeshTestSupport.eventually { seed.adapter.members.map(\.node) == [newer.pubsub.node] })
            #expect(await MeshTestSupport.eventually {
                metrics.counterTotal(label: "combo_mesh_rejected_connections_total", dimensions: [("reason", "stale_incarnation")]) >= 1
            })
            // The seed still talks to the winner.
            let inbox = newer.pubsub.makeSubscriber()
            try inbox.subscribe(to: "clash")
            let probe = SubscriberProbe(inbox)
            defer {
                probe.stop()
                inbox.close()
            }
            try await seed.pubsub.broadcast("to the newer", to: "clash")
            #expect(try await probe.next(within: .seconds(10)).decode(String.self) == "to the newer")
        }
    }

    @Test("a node that cannot bind fails its run, and its bound address says so")
    func bindFailure() async throws {
        try await withMeshNodes { nodes in
            let first = try nodes.start(MeshTestSupport.mesh("b0"))
            let taken = try await first.address()
            var mesh = MeshTestSupport.mesh("b1")
            mesh.listenAddress = taken
            let second = try nodes.start(mesh)
            await #expect(throws: (any Error).self) { try await second.task.value }
            await #expect(throws: MeshError.notListening) { _ = try await second.adapter.boundAddress() }
            await #expect(throws: MeshError.notRunning) { try await second.adapter.broadcast(ByteBuffer(), shard: 0) }
        }
    }

    @Test("a silent peer is declared down within the liveness timeout")
    func silentPeer() async throws {
        let ghost = try await GhostListener.start(name: "ghost")
        do {
            try await withMeshNodes { nodes in
                let node = try nodes.start(
                    MeshTestSupport.mesh(
                        "watcher", seeds: [ghost.address], heartbeatInterval: .milliseconds(100), livenessTimeout: .milliseconds(500)
                    ),
                    poolSize: 1
                )
                let recorder = MeshEventRecorder(node.adapter.membershipEvents())
                defer { recorder.stop() }
                #expect(await MeshTestSupport.eventually { !recorder.ups.isEmpty })
                let up = ContinuousClock.now
                #expect(await MeshTestSupport.eventually(within: .seconds(5)) { !recorder.downs.isEmpty })
                let elapsed = ContinuousClock.now - up
                // Down after about the liveness timeout (500 ms): not at once, and not much later.
                #expect(elapsed > .milliseconds(100) && elapsed < .seconds(2), "down after \(elapsed)")
                #expect(recorder.downs.first?.node == ghost.identity)
                // What the node wrote as a dialler (hello, proof, gossip) never contains the secret.
                let written = ghost.received.withLock { $0 }
                let secret = MeshTestSupport.secret
                #expect(written.count > 64)
                #expect(!(0...max(0, written.count - secret.count)).contains { start in
                    start + secret.count <= written.count && Array(written[start..<(start + secret.count)]) == secret
                })
            }
        } catch {
            await ghost.close()
            throw error
        }
        await ghost.close()
    }

    @Test("a peer that does not keep up is disconnected instead of growing memory")
    func slowPeer() async throws {
        let ghost = try await GhostListener.start(name: "sloth", stopsReading: true)
        do {
            try await withMeshNodes { nodes in
                let metrics = TestMetrics()
                var mesh = MeshTestSupport.mesh("producer", seeds: [ghost.address])
                mesh.outboundQueueLimit = 256 * 1024
                // Liveness long enough that the overflow, not silence, ends the connection.
                mesh.livenessTimeout = .seconds(30)
                let node = try nodes.start(mesh, poolSize: 1, maximumEnvelopeSize: 64 * 1024, metrics: metrics)
                #expect(await MeshTestSupport.eventually { node.adapter.members.count == 1 })
                let payload = RawBytes([UInt8](repeating: 0xAB, count: 1024))
                var sent = 0
                // Bounded: 64 MiB at most, far beyond the socket buffers and the 256 KiB limit.
                while sent < 65_536, metrics.counterTotal(label: "combo_mesh_slow_peer_disconnects_total") == 0 {
                    try await node.pubsub.broadcast(payload, to: "firehose")
                    sent += 1
                    if sent % 256 == 0 { await Task.yield() }
                }
                #expect(await MeshTestSupport.eventually {
                    metrics.counterTotal(label: "combo_mesh_slow_peer_disconnects_total") >= 1
                })
                #expect(metrics.counterTotal(label: "combo_mesh_dropped_envelopes_total") >= 1)
                // The session is re-established afterwards.
                #expect(await MeshTestSupport.eventually { ghost.handshakes.withLock { $0 } >= 3 })
            }
        } catch {
            await ghost.close()
            throw error
        }
        await ghost.close()
    }
}

@testable import AdapterMesh
import Combo
import MetricsTestKit
import Testing

@Suite("Mesh bounds and local health")
struct MeshBoundsTests {
    @Test("a peer that never reads: the bytes held for its connection stay within the limit plus one frame, and it is dropped and counted")
    func heldBytesStayWithinTheLimit() async throws {
        let ghost = try await GhostListener.start(name: "sloth", stopsReading: true)
        do {
            try await withMeshNodes { nodes in
                let metrics = TestMetrics()
                let limit = 1 << 20
                var mesh = MeshTestSupport.mesh("producer", seeds: [ghost.address])
                mesh.outboundQueueLimit = limit
                // Liveness long enough that the overflow, not silence, ends the connection.
                mesh.livenessTimeout = .seconds(30)
                let node = try nodes.start(mesh, poolSize: 1, maximumEnvelopeSize: 64 * 1024, metrics: metrics)
                #expect(await MeshTestSupport.eventually { node.adapter.members.count == 1 })
                let payload = RawBytes([UInt8](repeating: 0xCD, count: 16 * 1024))
                var sent = 0
                @Sendable func disconnects() -> Int64 { metrics.counterTotal(label: "combo_mesh_slow_peer_disconnects_total") }
                // Bounded: 64 MiB at most, far beyond the socket buffers and the 1 MiB limit.
                while sent < 4096, disconnects() == 0 {
                    try await node.pubsub.broadcast(payload, to: "firehose")
                    sent += 1
                    if sent % 16 == 0 { await Task.yield() }
                }
                #expect(await MeshTestSupport.eventually { disconnects() >= 1 })
                #expect(metrics.counterTotal(label: "combo_mesh_dropped_envelopes_total") >= 1)
                let frame = node.adapter.settings.maximumFrameSize
                // The lane reports what it held when it closes, on its event loop.
                #expect(await MeshTestSupport.eventually { node.adapter.metrics.peakHeldBytes > 0 })
                let peak = node.adapter.metrics.peakHeldBytes
                // The writer got close to its limit before giving up, and never past it by more than a frame.
                #expect(peak > limit / 2, "peak \(peak)")
                #expect(peak <= limit + frame, "peak \(peak), limit \(limit), frame \(frame)")
            }
        } catch {
            await ghost.close()
            throw error
        }
        await ghost.close()
    }

    @Test("a membership reader that falls behind keeps the newest events; the dropped ones are counted")
    func membershipEventsAreBounded() async throws {
        try await withMeshNodes { nodes in
            let metrics = TestMetrics()
            var first = MeshTestSupport.mesh("m1")
            first.membershipEventBufferLimit = 1
            let one = try nodes.start(first, metrics: metrics)
            let events = one.adapter.membershipEvents()
            // Unread: the snapshot waits in the buffer.
            let two = try nodes.start(MeshTestSupport.mesh("m2", seeds: [try await one.address()]))
            #expect(await MeshTestSupport.eventually { one.adapter.members.count == 1 })
            #expect(metrics.counterTotal(label: "combo_mesh_membership_events_dropped_total") == 1)
            var iterator = events.makeAsyncIterator()
            // The snapshot gave way to the newest event: m2 up.
            #expect(await iterator.next() == .up(MeshMember(node: two.adapter.node, address: try await two.address())))
        }
    }

    @Test("a node whose own timers stall does not blame a silent peer; the deferral is counted")
    func pausedNodeDefersLiveness() async throws {
        let ghost = try await GhostListener.start(name: "ghost")
        do {
            try await withMeshNodes { nodes in
                let metrics = TestMetrics()
                // A monitor to which every tick is late enough to be a pause: the
                // node always seems to have just woken up.
                let stalled = LocalHealth(period: .milliseconds(10), pauseThreshold: .nanoseconds(1))
                var mesh = MeshTestSupport.mesh("watcher", seeds: [ghost.address], heartbeatInterval: .milliseconds(100),
                                                livenessTimeout: .milliseconds(500))
                mesh.localHealth = stalled
                let node = try nodes.start(mesh, metrics: metrics)
                let recorder = MeshEventRecorder(node.adapter.membershipEvents())
                defer { recorder.stop() }
                #expect(await MeshTestSupport.eventually { node.adapter.members.count == 1 })
                // The ghost never speaks after its handshake: several liveness timeouts pass, each one deferred.
                #expect(await MeshTestSupport.eventually {
                    metrics.counterTotal(label: "combo_mesh_down_deferred_total") >= 3
                })
                #expect(recorder.downs.isEmpty)
                #expect(metrics.counterTotal(label: "combo_mesh_liveness_timeouts_total") == 0)
                #expect(node.adapter.members.map(\.node) == [ghost.identity])
            }
        } catch {
            await ghost.close()
            throw error
        }
        await ghost.close()
    }
}

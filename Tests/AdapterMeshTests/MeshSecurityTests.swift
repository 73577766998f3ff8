@testable import AdapterMesh
import Combo
import ComboTestKit
import MetricsTestKit
import NIOCore
import Testing

@Suite("Mesh handshake and hostile input", .serialized)
struct MeshSecurityTests {
    static let rejected = "combo_mesh_rejected_connections_total"

    func rejections(_ metrics: TestMetrics, _ reason: MeshRejection) -> Int64 {
        metrics.counterTotal(label: Self.rejected, dimensions: [("reason", reason.rawValue)])
    }

    /// A dialler's hello as a node named `name` would send it.
    func hello(
        _ name: NodeName = "raw-peer",
        pubSubName: String = "mesh-test",
        incarnation: Incarnation = .next()
    ) -> MeshHello {
        MeshHello(
            role: .dialer,
            pubSubName: pubSubName,
            node: NodeIdentity(name: name, incarnation: incarnation),
            address: MeshAddress(host: "127.0.0.1", port: 9),
            poolSize: 1,
            lane: 0
        )
    }

    @Test("a node with the wrong secret is refused, and counted, on both sides")
    func wrongSecret() async throws {
        try await withMeshNodes { nodes in
            let honestMetrics = TestMetrics()
            let intruderMetrics = TestMetrics()
            let honest = try nodes.start(MeshTestSupport.mesh("honest"), metrics: honestMetrics)
            let address = try await honest.address()
            let intruder = try nodes.start(
                MeshTestSupport.mesh("intruder", seeds: [address], secret: Array("not-the-secret".utf8)),
                metrics: intruderMetrics
            )
            #expect(await MeshTestSupport.eventually {
                rejections(honestMetrics, .authentication) >= 1 && rejections(intruderMetrics, .authentication) >= 1
            })
            #expect(honest.adapter.members.isEmpty)
            #expect(intruder.adapter.members.isEmpty)
        }
    }

    @Test("the secret never crosses the wire, and an honest hand-made handshake succeeds")
    func secretNeverOnTheWire() async throws {
        try await withMeshNodes { nodes in
            let node = try nodes.start(MeshTestSupport.mesh("listener"))
            let address = try await node.address()
            let raw = try await RawPeer.connect(to: address)
            defer { Task { await raw.close() } }
            let own = hello().encoded(allocator: ByteBufferAllocator())
            try await raw.send(.hello, body: own)
            // The node's hello, then its proof.
            #expect(await MeshTestSupport.eventually { raw.frames.count >= 2 })
            let frames = raw.frames
            try #require(frames.count >= 2)
            #expect(frames[0].0 == MeshFrameType.hello.rawValue)
            #expect(frames[1].0 == MeshFrameType.proof.rawValue)
            let listenerHello = ByteBuffer(bytes: frames[0].1)
            let handshake = MeshHandshake(secret: MeshTestSupport.secret)
            #expect(handshake.verify(ByteBuffer(bytes: frames[1].1), by: .listener, dialerHello: own, listenerHello: listenerHello))
            var proof = ByteBuffer()
            proof.writeBytes(handshake.proof(by: .dialer, dialerHello: own, listenerHello: listenerHello))
            try await raw.send(.proof, body: proof)
            // Admitted: the node gossips to us, and learns us.
            #expect(await MeshTestSupport.eventually { raw.frames.contains { $0.0 == MeshFrameType.gossip.rawValue } })
            #expect(!raw.isClosed)
            let received = raw.received
            let secret = MeshTestSupport.secret
            let leaked = received.count >= secret.count && (0...(received.count - secret.count)).contains {
                Array(received[$0..<($0 + secret.count)]) == secret
            }
            #expect(!leaked, "the secret appeared in the bytes the node wrote")
        }
    }

    @Test("hostile input is refused and counted while honest nodes keep talking")
    func hostileInput() async throws {
        try await withMeshNodes { nodes in
            let metrics = TestMetrics()
            let target = try nodes.start(MeshTestSupport.mesh("target", handshakeTimeout: .seconds(4)), metrics: metrics)
            let address = try await target.address()
            let friend = try nodes.start(MeshTestSupport.mesh("friend", seeds: [address]))
            #expect(await MeshTestSupport.eventually { target.adapter.members.count == 1 && friend.adapter.members.count == 1 })
            let inbox = friend.pubsub.makeSubscriber()
            try inbox.subscribe(to: "news")
            let probe = SubscriberProbe(inbox)
            defer {
                probe.stop()
                inbox.close()
            }
            var sequence = 0
            /// Runs one attack, checks it is refused with `reason`, and that honest traffic still flows.
            /// A `nil` reason accepts any.
            func attack(_ expected: MeshRejection?, _ body: (RawPeer) async throws -> Void) async throws {
                let reason = expected.map { "\($0)" } ?? "any reason"
                @Sendable func count() -> Int64 {
                    expected.map { rejections(metrics, $0) } ?? metrics.counterTotal(label: Self.rejected)
                }
                let before = count()
                let raw = try await RawPeer.connect(to: address)
                try await body(raw)
                sequence += 1
                try await target.pubsub.broadcast("ping \(sequence)", to: "news")
                let message = try await probe.next(within: .seconds(10))
                #expect(try message.decode(String.self) == "ping \(sequence)", "during \(reason)")
                #expect(
                    await MeshTestSupport.eventually { count() > before },
                    "\(reason) was not counted; counted: \(metrics.counters(label: Self.rejected).map { ($0.dimensions, $0.totalValue) })"
                )
                #expect(await MeshTestSupport.eventually { raw.isClosed }, "\(reason) did not close the connection")
                await raw.close()
            }

            try await attack(nil) { raw in
                // Pure random bytes: refused as oversized or malformed, whichever they look like.
                var generator = SplitMix(seed: 42)
                try await raw.send((0..<256).map { _ in UInt8(truncatingIfNeeded: generator.next()) })
            }
            try await attack(.oversized) { raw in
                try await raw.send([0xFF, 0xFF, 0xFF, 0xF0, 1, 2, 3])
            }
            try await attack(.truncated) { raw in
                // After the node's hello has been read here, so that closing sends FIN, not RST.
                _ = await MeshTestSupport.eventually { !raw.received.isEmpty }
                try await raw.send([0, 0, 0, 200, 1, 0x43, 0x4D])
                try await raw.channel.close()
            }
            try await attack(.malformed) { raw in
                // Random bytes under a plausible length prefix.
                var generator = SplitMix(seed: 7)
                try await raw.send([0, 0, 0, 64, 1] + (0..<63).map { _ in UInt8(truncatingIfNeeded: generator.next()) })
            }
            try await attack(.unexpectedFrame) { raw in
                try await raw.send(.envelope, body: ByteBuffer(bytes: [1, 2, 3]))
            }
            try await attack(.version) { raw in
                var body = hello().encoded(allocator: ByteBufferAllocator())
                body.setInteger(UInt8(99), at: body.readerIndex + 4)
                try await raw.send(.hello, body: body)
            }
            try await attack(.pubSubName) { raw in
                try await raw.send(.hello, body: hello(pubSubName: "another").encoded(allocator: ByteBufferAllocator()))
            }
            try await attack(.authentication) { raw in
                try await raw.send(.hello, body: hello().encoded(allocator: ByteBufferAllocator()))
                try await raw.send(.proof, body: ByteBuffer(repeating: 7, count: 32))
            }
            try await attack(.nameClash) { raw in
                // Knows the secret but claims the target's own name.
                try await handshake(raw, as: hello("target"))
            }
            try await attack(.staleIncarnation) { raw in
                // Knows the secret but is an older boot of the friend.
                try await handshake(raw, as: hello("friend", incarnation: Incarnation(rawValue: 1)))
            }
            try await attack(.handshakeTimeout) { _ in
                // Connects and says nothing: half-open, refused after the handshake timeout.
            }
            #expect(target.adapter.members.map(\.node.name) == ["friend"])
        }
    }

    /// Runs the dialler's side of a handshake with the right secret.
    func handshake(_ raw: RawPeer, as hello: MeshHello) async throws {
        let own = hello.encoded(allocator: ByteBufferAllocator())
        try await raw.send(.hello, body: own)
        let arrived = await MeshTestSupport.eventually { !raw.frames.isEmpty }
        try #require(arrived)
        let handshake = MeshHandshake(secret: MeshTestSupport.secret)
        var proof = ByteBuffer()
        proof.writeBytes(handshake.proof(by: .dialer, dialerHello: own, listenerHello: ByteBuffer(bytes: raw.frames[0].1)))
        try await raw.send(.proof, body: proof)
    }
}

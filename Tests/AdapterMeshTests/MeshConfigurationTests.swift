@testable import AdapterMesh
import Combo
import NIOCore
import Testing

@Suite("Mesh configuration and wire")
struct MeshConfigurationTests {
    @Test("the module speaks mesh protocol version 1")
    func version() {
        #expect(MeshWireVersion.current == 1)
    }

    @Test("an invalid configuration fails PubSub creation with adapterFailed")
    func invalidConfiguration() throws {
        let invalid: [Mesh] = [
            Mesh(nodeName: "a", secret: []),
            Mesh(nodeName: "a", secret: [1], heartbeatInterval: .seconds(5), livenessTimeout: .seconds(1)),
            Mesh(nodeName: "a", secret: [1], maximumFrameSize: 100),
            Mesh(nodeName: "a", secret: [1], outboundQueueLimit: 10),
            Mesh(nodeName: "a", listenAddress: MeshAddress(host: "127.0.0.1", port: 70_000), secret: [1]),
            Mesh(nodeName: "a", seeds: [MeshAddress(host: "", port: 1)], secret: [1]),
        ]
        for mesh in invalid {
            #expect(throws: PubSubError.self) {
                _ = try PubSub(configuration: .init(name: "config"), adapter: mesh)
            }
        }
        _ = try PubSub(configuration: .init(name: "config"), adapter: Mesh(nodeName: "a", secret: [1]))
    }

    @Test("hello and gossip bodies read back what was written")
    func roundTrips() throws {
        let allocator = ByteBufferAllocator()
        let hello = MeshHello(
            role: .listener, pubSubName: "chat", node: NodeIdentity(name: "n1", incarnation: .next()),
            address: MeshAddress(host: "10.0.0.1", port: 4370), poolSize: 8, lane: 3
        )
        #expect(try MeshHello(decoding: hello.encoded(allocator: allocator)) == hello)
        let members = (0..<3).map {
            MeshMember(node: NodeIdentity(name: try! NodeName("n\($0)"), incarnation: .next()), address: MeshAddress(host: "h\($0)", port: 1000 + $0))
        }
        let gossip = MeshGossip(members: members)
        #expect(try MeshGossip(decoding: gossip.encoded(allocator: allocator)) == gossip)
        // Gossip is cut to fit a frame, never split mid-member.
        let small = MeshGossip(members: members, byteLimit: 2 + 2 * (12 + 2 + 2))
        #expect(small.members == Array(members.prefix(2)))
    }

    @Test("a proof verifies only for its prover, transcript and secret")
    func proofs() {
        let allocator = ByteBufferAllocator()
        let dialer = MeshHello(role: .dialer, pubSubName: "p", node: NodeIdentity(name: "a", incarnation: .next()),
                               address: MeshAddress(host: "h", port: 1), poolSize: 1, lane: 0).encoded(allocator: allocator)
        let listener = MeshHello(role: .listener, pubSubName: "p", node: NodeIdentity(name: "b", incarnation: .next()),
                                 address: MeshAddress(host: "h", port: 2), poolSize: 1, lane: 0).encoded(allocator: allocator)
        let handshake = MeshHandshake(secret: Array("s3cret".utf8))
        let proof = ByteBuffer(bytes: handshake.proof(by: .dialer, dialerHello: dialer, listenerHello: listener))
        #expect(handshake.verify(proof, by: .dialer, dialerHello: dialer, listenerHello: listener))
        #expect(!handshake.verify(proof, by: .listener, dialerHello: dialer, listenerHello: listener))
        #expect(!handshake.verify(proof, by: .dialer, dialerHello: listener, listenerHello: dialer))
        #expect(!MeshHandshake(secret: Array("other".utf8)).verify(proof, by: .dialer, dialerHello: dialer, listenerHello: listener))
        #expect(!handshake.verify(ByteBuffer(bytes: [1, 2, 3]), by: .dialer, dialerHello: dialer, listenerHello: listener))
    }
}

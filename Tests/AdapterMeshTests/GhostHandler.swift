@testable import AdapterMesh
import Combo
import NIOCore

/// The listener side of a handshake, then silence. Lives on its channel's event loop.
final class GhostHandler: ChannelInboundHandler {
    typealias InboundIn = MeshFrame
    typealias OutboundOut = ByteBuffer

    private let identity: NodeIdentity
    private let pubSubName: String
    private let stopsReading: Bool
    private let box: GhostBox
    private var own: ByteBuffer?

    init(identity: NodeIdentity, pubSubName: String, stopsReading: Bool, box: GhostBox) {
        self.identity = identity
        self.pubSubName = pubSubName
        self.stopsReading = stopsReading
        self.box = box
    }

    func channelActive(context: ChannelHandlerContext) {
        let port = context.channel.parent?.localAddress?.port ?? 0
        let hello = MeshHello(
            role: .listener, pubSubName: pubSubName, node: identity,
            address: MeshAddress(host: "127.0.0.1", port: port), poolSize: 1, lane: 0
        )
        let body = hello.encoded(allocator: context.channel.allocator)
        own = body
        context.writeAndFlush(wrapOutboundOut(MeshFrame.encode(.hello, body: body, allocator: context.channel.allocator)), promise: nil)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = unwrapInboundIn(data)
        box.ghost.withLock { $0?.received.withLock { $0.append(contentsOf: frame.body.readableBytesView) } }
        guard frame.type == .hello, let own else { return }
        var proof = ByteBuffer()
        proof.writeBytes(MeshHandshake(secret: MeshTestSupport.secret).proof(by: .listener, dialerHello: frame.body, listenerHello: own))
        context.writeAndFlush(wrapOutboundOut(MeshFrame.encode(.proof, body: proof, allocator: context.channel.allocator)), promise: nil)
        box.ghost.withLock { $0?.handshakes.withLock { $0 += 1 } }
        if stopsReading {
            context.channel.setOption(ChannelOptions.autoRead, value: false).whenComplete { _ in }
        }
    }
}

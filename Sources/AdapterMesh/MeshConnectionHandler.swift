import Combo
import Logging
import NIOCore

/// Runs one mesh connection, in either direction: the handshake (hello, then
/// proof), then heartbeats, gossip and envelopes.
///
/// Inbound envelopes are handed to the receiver in arrival order, on the
/// channel's event loop: one connection is one ordered lane. They are
/// delivered in bursts, one per read (see `InboundBatch`), so a subscriber
/// reading a busy connection takes its buffer's lock and is woken once per
/// read rather than once per message.
///
/// Not `Sendable`: a channel handler lives on its channel's event loop.
final class MeshConnectionHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private enum State {
        case awaitingHello
        case awaitingProof(peer: MeshHello, peerBody: ByteBuffer)
        case established(peer: MeshHello)
        case closed
    }

    private let mesh: MeshAdapter
    private let role: MeshRole
    private let lane: Int
    private let limit: MeshFrameLimit
    /// For a dialled connection: completed when the handshake ends, either way.
    private let established: EventLoopPromise<MeshEstablished>?
    // `state` and `inbound` are read for every frame; they opt out of dynamic
    // exclusivity checks (a `swift_beginAccess`, a thread-local look-up, per
    // access). The handler lives on its event loop, and no access to either
    // overlaps another to the same property.
    @exclusivity(unchecked) private var state = State.awaitingHello
    private var ownHelloBody: ByteBuffer?
    private var handshakeTimer: Scheduled<Void>?
    /// When bytes last arrived: the peer's silence is measured from here.
    private var lastRead = ContinuousClock.now
    /// A second look at a silent peer, put off because this node's own timers ran late.
    private var livenessRecheck: Scheduled<Void>?
    private var writer: MeshLaneWriter?
    private var logger: Logger
    /// Envelopes of the current read burst; made once the peer is established.
    @exclusivity(unchecked) private var inbound: InboundBatch?
    /// Cuts the byte stream into frames; the limit grows after the handshake.
    private let frames: NIOSingleStepByteToMessageProcessor<MeshFrameDecoder>

    init(mesh: MeshAdapter, role: MeshRole, lane: Int, limit: MeshFrameLimit, established: EventLoopPromise<MeshEstablished>?) {
        self.mesh = mesh
        self.role = role
        self.lane = lane
        self.limit = limit
        self.established = established
        self.frames = NIOSingleStepByteToMessageProcessor(MeshFrameDecoder(limit: limit))
        self.logger = mesh.logger
        logger[metadataKey: "mesh.role"] = "\(role)"
    }

    func channelActive(context: ChannelHandlerContext) {
        if let remote = context.remoteAddress { logger[metadataKey: "mesh.remote"] = "\(remote)" }
        let hello = mesh.makeHello(role: role, lane: lane)
        let body = hello.encoded(allocator: context.channel.allocator)
        ownHelloBody = body
        context.writeAndFlush(wrapOutboundOut(MeshFrame.encode(.hello, body: body, allocator: context.channel.allocator)), promise: nil)
        handshakeTimer = context.eventLoop.assumeIsolated().scheduleTask(in: mesh.settings.handshakeTimeout.timeAmount) {
            self.reject(.handshakeTimeout, context: context)
        }
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        do {
            try frames.process(buffer: unwrapInboundIn(data)) { frame in
                // After a rejection the connection is closing: the rest is not judged.
                if case .closed = state { return }
                try handle(frame, context: context)
            }
        } catch let rejection as MeshRejection {
            reject(rejection, context: context)
        } catch {
            reject(.malformed, context: context)
        }
    }

    private func handle(_ frame: MeshFrame, context: ChannelHandlerContext) throws(MeshRejection) {
        switch state {
        case .awaitingHello:
            guard frame.type == .hello else { throw .unexpectedFrame }
            let peer = try MeshHello(decoding: frame.body)
            guard peer.role != role else { throw .malformed }
            guard peer.pubSubName == mesh.pubSubName else { throw .pubSubName }
            logger[metadataKey: "mesh.peer"] = "\(peer.node)"
            guard let own = ownHelloBody else { throw .unexpectedFrame }
            let proof = mesh.handshake.proof(
                by: role,
                dialerHello: role == .dialer ? own : frame.body,
                listenerHello: role == .listener ? own : frame.body
            )
            var buffer = context.channel.allocator.buffer(capacity: proof.count)
            buffer.writeBytes(proof)
            context.writeAndFlush(wrapOutboundOut(MeshFrame.encode(.proof, body: buffer, allocator: context.channel.allocator)), promise: nil)
            state = .awaitingProof(peer: peer, peerBody: frame.body)

        case .awaitingProof(let peer, let peerBody):
            guard frame.type == .proof, let own = ownHelloBody else { throw .unexpectedFrame }
            let valid = mesh.handshake.verify(
                frame.body,
                by: peer.role,
                dialerHello: role == .dialer ? own : peerBody,
                listenerHello: role == .listener ? own : peerBody
            )
            guard valid else { throw .authentication }
            handshakeTimer?.cancel()
            handshakeTimer = nil
            if peer.node == mesh.node {
                throw .ownNode
            } else if role == .listener {
                if let refusal = mesh.admitInbound(peer, channel: context.channel) { throw refusal }
            } else if peer.node.name == mesh.node.name {
                throw .nameClash
            }
            state = .established(peer: peer)
            limit.maximum = mesh.settings.maximumFrameSize
            if role == .dialer {
                let writer = MeshLaneWriter(channel: context.channel, limit: mesh.settings.outboundQueueLimit, metrics: mesh.metrics)
                self.writer = writer
                established?.succeed(MeshEstablished(hello: peer, writer: writer))
            } else {
                // Tell the dialler whom we know right away, so it joins the whole mesh.
                let gossip = mesh.currentGossip().encoded(allocator: context.channel.allocator)
                context.writeAndFlush(wrapOutboundOut(MeshFrame.encode(.gossip, body: gossip, allocator: context.channel.allocator)), promise: nil)
            }
            logger.debug("mesh connection established", metadata: ["mesh.lane": "\(peer.lane)"])

        case .established(let peer):
            switch frame.type {
            case .envelope:
                // Rejections are counted and logged by the receiver.
                if inbound == nil { inbound = mesh.receiver.makeBatch() }
                _ = try? inbound?.receive(frame.body)
            case .gossip:
                mesh.merge(try MeshGossip(decoding: frame.body), from: peer.node)
            case .heartbeat:
                break
            case .hello, .proof:
                throw .unexpectedFrame
            }

        case .closed:
            break
        }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        lastRead = .now
        inbound?.flush()
        context.fireChannelReadComplete()
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        guard let idle = event as? IdleStateHandler.IdleStateEvent, case .established = state else {
            context.fireUserInboundEventTriggered(event)
            return
        }
        switch idle {
        case .write:
            let frame = MeshFrame.encode(.heartbeat, body: ByteBuffer(), allocator: context.channel.allocator)
            context.writeAndFlush(wrapOutboundOut(frame), promise: nil)
        case .read:
            judgeSilence(context: context, recheck: false)
        case .all:
            break
        }
    }

    /// The peer has been silent for about the liveness timeout: close the
    /// connection, unless this node's own timers ran late or it has just woken
    /// from a pause (the silence may then be its own), in which case it looks
    /// again a heartbeat interval later.
    private func judgeSilence(context: ChannelHandlerContext, recheck: Bool) {
        guard case .established = state else { return }
        livenessRecheck?.cancel()
        livenessRecheck = nil
        let now = ContinuousClock.now
        let silence = now - lastRead
        let timeout = mesh.settings.livenessTimeout
        // A second look after the peer spoke again: nothing to judge.
        if recheck, silence < timeout { return }
        if mesh.settings.localHealth.mayDeclareDown(silence: silence, timeout: timeout, at: now) {
            mesh.metrics.livenessTimeouts.increment()
            logger.info("mesh peer silent for the liveness timeout; closing the connection")
            close(context: context)
            return
        }
        mesh.metrics.downsDeferred.increment()
        logger.info(
            "mesh peer silent, but this node's own timers run late; looking again before closing",
            metadata: ["silence": "\(silence)"])
        livenessRecheck = context.eventLoop.assumeIsolated().scheduleTask(in: mesh.settings.heartbeatInterval.timeAmount) {
            self.judgeSilence(context: context, recheck: true)
        }
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if context.channel.isWritable { writer?.drain() }
        context.fireChannelWritabilityChanged()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        switch error {
        case let rejection as MeshRejection:
            reject(rejection, context: context)
        default:
            // An I/O error (a reset): close, but keep the state until the
            // channel is inactive so a half-received frame is still judged
            // (and counted as truncated) by the frames' last pass.
            logger.debug("mesh connection failed", metadata: ["error": "\(error)"])
            context.close(promise: nil)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        // A frame cut short by the end of the stream is judged (and counted) before the state goes.
        do {
            try frames.finishProcessing(seenEOF: true) { frame in
                if case .closed = state { return }
                try handle(frame, context: context)
            }
        } catch let rejection as MeshRejection {
            reject(rejection, context: context)
        } catch {
            reject(.malformed, context: context)
        }
        finish()
        context.fireChannelInactive()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        finish()
    }

    /// Refuses the peer: logs why, counts it, and closes the connection.
    private func reject(_ reason: MeshRejection, context: ChannelHandlerContext) {
        if case .closed = state { return }
        mesh.metrics.rejected(reason, logger: logger)
        // The dialling task learns why (a seed that is this very node stops being dialled).
        established?.fail(reason)
        close(context: context)
    }

    private func close(context: ChannelHandlerContext) {
        finish()
        context.close(promise: nil)
    }

    /// Releases the handshake state; idempotent.
    private func finish() {
        // What arrived before the connection ended is still delivered.
        inbound?.flush()
        inbound = nil
        state = .closed
        handshakeTimer?.cancel()
        handshakeTimer = nil
        livenessRecheck?.cancel()
        livenessRecheck = nil
        established?.fail(MeshError.handshakeFailed)
        writer?.close()
        writer = nil
    }
}

import Combo
import CZMQ
import Logging
import NIOCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The thread that owns a node's publishing socket, an XPUB: it sends what
/// the ``ZMQOutbox`` holds and reads the subscriptions that arrive (the XPUB
/// shows them to its owner, which is how this node learns that peers joined,
/// or, through a proxy, that its own subscriptions are in place).
///
/// In the peer topology the socket binds and serves; in the forwarder
/// topology it connects to the proxy's XSUB endpoint.
final class ZMQPublisher: Sendable {
    /// The endpoint other nodes reach this node at (peer topology) or the proxy's (forwarder), once started.
    let started = ZMQOneShot<Result<String, ZMQError>>()
    /// Fulfilled when the thread has closed its sockets and ended.
    let exited = ZMQOneShot<Void>()

    private let context: ZMQContext
    private let settings: ZMQRunSettings
    private let outbox: ZMQOutbox
    private let commands: ZMQCommandQueue
    private let status: ZMQClusterStatus
    private let control: ZMQRunControl
    private let metrics: ZMQMetrics
    private let logger: Logger

    init(
        context: ZMQContext, settings: ZMQRunSettings, outbox: ZMQOutbox, commands: ZMQCommandQueue,
        status: ZMQClusterStatus, control: ZMQRunControl, metrics: ZMQMetrics, logger: Logger
    ) {
        self.context = context
        self.settings = settings
        self.outbox = outbox
        self.commands = commands
        self.status = status
        self.control = control
        self.metrics = metrics
        self.logger = logger
    }

    /// Starts the thread; returns the endpoint once the socket is bound or connecting.
    func start() async throws(ZMQError) -> String {
        try ZMQThread.start(name: "combo-zmq-pub") { [self] in main() }
        return try await started.value().get()
    }

    private func main() {
        defer { exited.fulfil(()) }
        let loop: Loop
        do {
            loop = try Loop(publisher: self)
        } catch {
            started.fulfil(.failure(error))
            return
        }
        control.register(outbox.wakeup)
        // Envelopes queued while the adapter was not running are never sent.
        outbox.discardAll()
        started.fulfil(.success(loop.endpoint))
        loop.run()
        // What a drain did not hand to the socket in time is lost: count it.
        let unsent = outbox.discardAll()
        if unsent > 0 { metrics.count(.unsentAtStop, by: unsent) }
        loop.close()
    }

    /// The socket and the state of the sending loop, owned by the thread.
    private final class Loop {
        /// The constant start of one stream's messages (topic and header up
        /// to the sequence number), and the stream's last sequence number.
        struct Stream {
            let prefix: [UInt8]
            var sequence: UInt64 = 0

            /// Builds topic, header, sequence number and body in one frame, and sends it.
            mutating func send(body: UnsafeRawBufferPointer, on socket: ZMQSocket, message: ZMQMessage, numbered: Bool) -> Bool {
                let next = numbered ? sequence &+ 1 : 0
                guard message.reset(size: prefix.count + 8 + body.count) else { return false }
                let frame = message.mutableBytes
                prefix.withUnsafeBytes { frame.baseAddress!.copyMemory(from: $0.baseAddress!, byteCount: $0.count) }
                frame.storeBytes(of: next.bigEndian, toByteOffset: prefix.count, as: UInt64.self)
                if !body.isEmpty {
                    (frame.baseAddress! + prefix.count + 8).copyMemory(from: body.baseAddress!, byteCount: body.count)
                }
                guard socket.send(message) else {
                    message.clear()
                    return false
                }
                // A message the high-water mark drops still takes its number: the receiver sees the gap.
                if numbered { sequence = next }
                return true
            }
        }

        /// The most direct streams kept; beyond, all are forgotten and restart at 1.
        static let maximumDirectStreams = 65_536
        /// Envelopes sent between two looks at subscriptions and events.
        static let burst = 4096

        let publisher: ZMQPublisher
        let socket: ZMQSocket
        let monitor: ZMQMonitor
        let endpoint: String
        let outgoing = ZMQMessage()
        let incoming = ZMQMessage()
        // The streams opt out of dynamic exclusivity checks, which cost a
        // `swift_beginAccess` (a thread-local look-up) per envelope sent: the
        // loop belongs to its thread, and no access to a property overlaps
        // another to the same property.
        @exclusivity(unchecked) var broadcast: Stream
        @exclusivity(unchecked) var direct: [NodeName: Stream] = [:]
        let envelopeHeader: [UInt8]
        let welcomeHeader: [UInt8]

        init(publisher: ZMQPublisher) throws(ZMQError) {
            self.publisher = publisher
            let settings = publisher.settings
            let options = settings.options
            socket = try ZMQSocket(context: publisher.context, type: ZMQ_XPUB)
            do {
                try socket.set(ZMQ_SNDHWM, options.sendHighWaterMark)
                // Every subscription and unsubscription reaches the owner, duplicates too.
                try socket.set(ZMQ_XPUB_VERBOSER, Int32(1))
                try socket.set(ZMQ_MAXMSGSIZE, ZMQSocketOptions.maximumSubscriptionSize)
                try options.applyCommon(to: socket)
                monitor = try ZMQMonitor(socket, context: publisher.context, name: "pub")
                switch settings.topology {
                case .peers(let bind, let advertise, _):
                    if let curve = options.curve, let secret = curve.serverSecretKey {
                        try ZMQSocketOptions.applyCurveServer(secretKey: secret, to: socket)
                    }
                    try socket.bind(bind)
                    endpoint = advertise ?? socket.lastEndpoint
                case .forwarder(let xsub, _):
                    if let curve = options.curve { try ZMQSocketOptions.applyCurveClient(curve, to: socket) }
                    try socket.connect(xsub)
                    endpoint = xsub
                }
            } catch {
                socket.close()
                throw error
            }
            envelopeHeader = ZMQFrameHeader.prefix(kind: .envelope, sender: settings.node)
            welcomeHeader = ZMQFrameHeader.prefix(kind: .welcome, sender: settings.node)
            broadcast = Stream(prefix: settings.topics.broadcast + envelopeHeader)
        }

        func close() {
            monitor.socket.close()
            // A graceful shutdown drained the queue into the socket: let libzmq
            // go on sending what its pipes hold until the drain's deadline,
            // while the context terminates. Otherwise linger stays 0.
            if let deadline = publisher.control.drainRequest {
                try? socket.set(ZMQ_LINGER, max(0, (deadline - ContinuousClock.now).zmqMilliseconds))
            }
            socket.close()
        }

        func run() {
            let outbox = publisher.outbox
            let control = publisher.control
            var descriptors = [
                pollfd(fd: outbox.wakeup.fileDescriptor, events: Int16(POLLIN), revents: 0),
                pollfd(fd: socket.fileDescriptor, events: Int16(POLLIN), revents: 0),
                pollfd(fd: monitor.socket.fileDescriptor, events: Int16(POLLIN), revents: 0),
            ]
            while !control.isStopping {
                // Read before dequeuing: what was queued before the drain was
                // asked for is then taken by this pass.
                let draining = control.drainRequest != nil
                var sent = 0
                var taken = 0
                while taken < Self.burst, let accepted = outbox.dequeue({ send($0, to: $1) }) {
                    taken += 1
                    if accepted { sent += 1 }
                }
                if draining, taken < Self.burst { control.drained.fulfil(()) }
                publisher.metrics.count(.sent, by: sent)
                // ZMQ_FD is edge-triggered: look at ZMQ_EVENTS after every wake and every send,
                // and drain until it shows nothing, before sleeping again.
                readSubscriptions()
                monitor.drain(handle)
                if taken == Self.burst { continue }
                guard outbox.prepareToSleep() else { continue }
                if socket.isReadable || monitor.socket.isReadable || control.isStopping {
                    outbox.didWake()
                    continue
                }
                for index in descriptors.indices { descriptors[index].revents = 0 }
                _ = poll(&descriptors, nfds_t(descriptors.count), -1)
                outbox.didWake()
            }
        }

        private func handle(_ event: ZMQMonitor.Event) {
            ZMQMonitor.record(event, socket: "publisher", metrics: publisher.metrics, logger: publisher.logger)
            guard event.code == ZMQ_EVENT_DISCONNECTED, publisher.settings.isForwarder else { return }
            // A connecting socket keeps its pipe, and the subscriptions it holds, across a
            // reconnection, so no unsubscription tells that the proxy went away: the lost
            // connection does. The proxy sends every subscription again once reconnected.
            publisher.status.update { state in
                state.ownSubscriptionVisible = false
                state.visible.removeAll()
            }
        }

        /// Sends one envelope; false when libzmq refused it (the context is ending).
        private func send(_ envelope: UnsafeRawBufferPointer, to target: NodeName?) -> Bool {
            if let target {
                if direct.count >= Self.maximumDirectStreams, direct[target] == nil {
                    direct.removeAll()
                }
                let header = envelopeHeader
                let topics = publisher.settings.topics
                return direct[target, default: Stream(prefix: topics.direct(to: target) + header)].send(
                    body: envelope, on: socket, message: outgoing, numbered: true
                )
            }
            return broadcast.send(body: envelope, on: socket, message: outgoing, numbered: true)
        }

        private func readSubscriptions() {
            while socket.isReadable {
                guard socket.receive(into: incoming) else { return }
                while incoming.hasMore, socket.receive(into: incoming) {}
                let bytes = incoming.bytes
                guard bytes.count >= 1, bytes[0] <= 1 else { continue }
                let subscribed = bytes[0] == 1
                let topic = UnsafeRawBufferPointer(rebasing: bytes[1...])
                let topics = publisher.settings.topics
                if publisher.settings.isForwarder {
                    if let name = topics.directTarget(of: topic) { forwarderSubscription(name, subscribed: subscribed) }
                } else if topic.starts(with: topics.hello) {
                    do {
                        let hello = try ZMQPeerAnnouncement.parseHello(UnsafeRawBufferPointer(rebasing: topic[topics.hello.count...]))
                        peerHello(hello, subscribed: subscribed)
                    } catch {
                        publisher.metrics.reject(error)
                    }
                }
            }
        }

        /// Forwarder: a node's direct subscription appeared or vanished at the proxy.
        private func forwarderSubscription(_ name: NodeName, subscribed: Bool) {
            let own = publisher.settings.node.name
            publisher.status.update { state in
                if name == own {
                    state.ownSubscriptionVisible = subscribed
                } else if subscribed {
                    state.visible.insert(name)
                } else {
                    state.visible.remove(name)
                }
            }
        }

        /// Peer topology: a peer subscribed (announced itself) or its subscriptions ended.
        private func peerHello(_ hello: ZMQPeerAnnouncement, subscribed: Bool) {
            let settings = publisher.settings
            guard hello.node.name != settings.node.name else {
                if hello.node != settings.node {
                    publisher.logger.warning("another node uses this node's name", metadata: ["peer": "\(hello.node)", "endpoint": "\(hello.endpoint)"])
                }
                return
            }
            let logger = publisher.logger
            if subscribed {
                var known: [ZMQPeerAnnouncement] = []
                publisher.status.update { state in
                    if let peer = state.peers[hello.node.name], peer.incarnation == hello.node.incarnation {
                        state.peers[hello.node.name]?.subscribedHere = true
                        state.peers[hello.node.name]?.endpoint = hello.endpoint
                    } else {
                        state.peers[hello.node.name] = ZMQClusterStatus.Peer(
                            incarnation: hello.node.incarnation, endpoint: hello.endpoint, subscribedHere: true
                        )
                    }
                    known = state.peers.filter { $0.value.subscribedHere && $0.key != hello.node.name }.map {
                        ZMQPeerAnnouncement(node: NodeIdentity(name: $0.key, incarnation: $0.value.incarnation), endpoint: $0.value.endpoint)
                    }
                }
                logger.debug("peer announced itself", metadata: ["peer": "\(hello.node)", "endpoint": "\(hello.endpoint)"])
                // The XPUB applied this peer's earlier subscriptions (its direct topic) before showing
                // its hello, so the welcome reaches it and proves that they are in place.
                let welcome = ZMQWelcome(endpoint: endpoint, peers: known).encoded
                var stream = Stream(prefix: settings.topics.direct(to: hello.node.name) + welcomeHeader)
                if welcome.withUnsafeBytes({ stream.send(body: $0, on: socket, message: outgoing, numbered: false) }) {
                    publisher.metrics.count(.sent)
                }
                publisher.commands.send(.connect(hello.endpoint))
            } else {
                var forget = false
                publisher.status.update { state in
                    guard let peer = state.peers[hello.node.name], peer.incarnation == hello.node.incarnation else { return }
                    state.peers[hello.node.name]?.subscribedHere = false
                    forget = !settings.staticPeers.contains(peer.endpoint)
                }
                logger.debug("peer unsubscribed", metadata: ["peer": "\(hello.node)"])
                // A peer learned from announcements that left is not retried for ever; if it
                // comes back, it announces itself again.
                if forget { publisher.commands.send(.disconnect(hello.endpoint)) }
            }
        }
    }
}

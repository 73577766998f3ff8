import Combo
import CZMQ
import Logging
import NIOCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The thread that owns a node's subscribing socket: it subscribes to the
/// node's direct and broadcast topics (and, between peers, announces the
/// node with a hello subscription), connects to the publishing sockets of
/// peers or of the proxy, checks each message's topic and header, counts
/// sequence gaps, drops the node's own echoes, and delivers each burst's
/// envelopes through the receiver itself (one lane), or hands them in
/// batches to the lanes, whose tasks give them to the receiver (`poolSize`
/// lanes, decoded in parallel).
final class ZMQSubscriber: Sendable {
    /// `nil` once subscribed and connecting, or why the socket could not be set up.
    let started = ZMQOneShot<ZMQError?>()
    /// Fulfilled when the thread has closed its sockets and ended.
    let exited = ZMQOneShot<Void>()

    private let context: ZMQContext
    private let settings: ZMQRunSettings
    private let ownEndpoint: String
    private let commands: ZMQCommandQueue
    private let status: ZMQClusterStatus
    private let control: ZMQRunControl
    private let metrics: ZMQMetrics
    private let logger: Logger
    private let lanes: [ZMQLane]
    /// The receiver this thread delivers to itself when there are no lanes.
    private let receiver: InboundReceiver?

    /// A subscriber that hands envelopes to `lanes`, or, with no lanes,
    /// delivers them through `receiver` on its own thread.
    init(
        context: ZMQContext, settings: ZMQRunSettings, ownEndpoint: String, commands: ZMQCommandQueue,
        status: ZMQClusterStatus, control: ZMQRunControl, metrics: ZMQMetrics, logger: Logger,
        lanes: [ZMQLane], receiver: InboundReceiver?
    ) {
        precondition(lanes.isEmpty != (receiver == nil), "a subscriber delivers through lanes or a receiver")
        self.context = context
        self.settings = settings
        self.ownEndpoint = ownEndpoint
        self.commands = commands
        self.status = status
        self.control = control
        self.metrics = metrics
        self.logger = logger
        self.lanes = lanes
        self.receiver = receiver
    }

    /// Starts the thread; returns once the socket is subscribed and connecting.
    func start() async throws(ZMQError) {
        try ZMQThread.start(name: "combo-zmq-sub") { [self] in main() }
        if let failure = await started.value() { throw failure }
    }

    private func main() {
        defer { exited.fulfil(()) }
        let loop: Loop
        do {
            loop = try Loop(subscriber: self)
        } catch {
            started.fulfil(error)
            return
        }
        control.register(commands.wakeup)
        started.fulfil(nil)
        loop.run()
        loop.close()
    }

    /// The socket and the state of the receiving loop, owned by the thread.
    private final class Loop {
        /// Messages received between two looks at commands and events.
        static let burst = 4096
        /// The most endpoints subscribed to.
        static let maximumPeers = 4096

        let subscriber: ZMQSubscriber
        let socket: ZMQSocket
        let monitor: ZMQMonitor
        let message = ZMQMessage()
        let broadcastTopic: [UInt8]
        let directTopic: [UInt8]
        let ownName: [UInt8]
        let ownIncarnation: UInt64
        let allocator = ByteBufferAllocator()
        // The mutable state opts out of dynamic exclusivity checks, which cost
        // a `swift_beginAccess` (a thread-local look-up) per access, several per
        // message: the loop belongs to its thread, and no access to a property
        // overlaps another to the same property.
        @exclusivity(unchecked) var tracker = ZMQSequenceTracker()
        /// Endpoints connected to, and whether each was configured (not learned).
        @exclusivity(unchecked) var connected: [String: Bool] = [:]
        /// Connections lost, by endpoint, that libzmq has not yet said it will
        /// retry, with the time after which this thread reconnects them itself.
        var awaitingRetry: [String: ContinuousClock.Instant] = [:]
        /// Each lane's envelopes of the current burst (one slab without lanes).
        @exclusivity(unchecked) var pending: [ZMQInboundSlab]
        /// Without lanes: the batch this thread delivers through.
        let inbound: InboundBatch?

        init(subscriber: ZMQSubscriber) throws(ZMQError) {
            self.subscriber = subscriber
            let settings = subscriber.settings
            let options = settings.options
            broadcastTopic = settings.topics.broadcast
            directTopic = settings.topics.direct(to: settings.node.name)
            ownName = Array(settings.node.name.rawValue.utf8)
            ownIncarnation = settings.node.incarnation.rawValue
            pending = (0..<max(1, subscriber.lanes.count)).map { _ in ZMQInboundSlab(allocator: ByteBufferAllocator()) }
            inbound = subscriber.receiver?.makeBatch()
            socket = try ZMQSocket(context: subscriber.context, type: ZMQ_SUB)
            do {
                try socket.set(ZMQ_RCVHWM, options.receiveHighWaterMark)
                try socket.set(ZMQ_MAXMSGSIZE, options.maximumMessageSize)
                try options.applyCommon(to: socket)
                if let curve = options.curve { try ZMQSocketOptions.applyCurveClient(curve, to: socket) }
                monitor = try ZMQMonitor(socket, context: subscriber.context, name: "sub")
                // Subscribed before connecting, the prefixes go to each new connection in byte
                // order: direct, broadcast, then hello (see ZMQTopics).
                try socket.subscribe(directTopic)
                try socket.subscribe(broadcastTopic)
                switch settings.topology {
                case .peers(_, _, let peers):
                    let hello = ZMQPeerAnnouncement(node: settings.node, endpoint: subscriber.ownEndpoint)
                    try socket.subscribe(settings.topics.hello + hello.encoded)
                    for peer in peers where peer != subscriber.ownEndpoint && connected[peer] == nil {
                        try socket.connect(peer)
                        connected[peer] = true
                    }
                case .forwarder(_, let xpub):
                    try socket.connect(xpub)
                    connected[xpub] = true
                }
            } catch {
                socket.close()
                throw error
            }
        }

        func close() {
            monitor.socket.close()
            socket.close()
        }

        func run() {
            let commands = subscriber.commands
            let control = subscriber.control
            var descriptors = [
                pollfd(fd: commands.wakeup.fileDescriptor, events: Int16(POLLIN), revents: 0),
                pollfd(fd: socket.fileDescriptor, events: Int16(POLLIN), revents: 0),
                pollfd(fd: monitor.socket.fileDescriptor, events: Int16(POLLIN), revents: 0),
            ]
            while !control.isStopping {
                let handled = receiveBurst()
                for command in commands.take() { perform(command) }
                monitor.drain(handle)
                flushLanes()
                if handled == Self.burst { continue }
                // ZMQ_FD is edge-triggered: sleep only once ZMQ_EVENTS shows nothing to read.
                if socket.isReadable || monitor.socket.isReadable || !commands.isEmpty { continue }
                for index in descriptors.indices { descriptors[index].revents = 0 }
                _ = poll(&descriptors, nfds_t(descriptors.count), pollTimeout())
                if descriptors[0].revents != 0 { commands.wakeup.clear() }
                reconnectAbandoned()
            }
        }

        /// How long `poll` may sleep: for ever, or until the next forced reconnection is due.
        private func pollTimeout() -> Int32 {
            guard let next = awaitingRetry.values.min() else { return -1 }
            // One more millisecond, so that the wait never ends just before the time is due.
            let milliseconds = max(0, (next - ContinuousClock.now).zmqMilliseconds)
            return milliseconds < .max ? milliseconds + 1 : milliseconds
        }

        /// libzmq re-establishes a lost connection by itself, except one it
        /// ended for a protocol error (a frame over `ZMQ_MAXMSGSIZE`, for
        /// one): that session is terminated for good, and the peer would stay
        /// unreachable. A lost connection that libzmq has not said it retries
        /// (`ZMQ_EVENT_CONNECT_RETRIED`) within ``abandonedAfter`` is
        /// disconnected and connected again here, which subscribes anew.
        private func reconnectAbandoned() {
            guard !awaitingRetry.isEmpty else { return }
            let now = ContinuousClock.now
            for (endpoint, due) in awaitingRetry where due <= now {
                awaitingRetry[endpoint] = nil
                guard connected[endpoint] != nil else { continue }
                socket.disconnect(endpoint)
                do {
                    try socket.connect(endpoint)
                    subscriber.metrics.count(.reconnectsForced)
                    subscriber.logger.warning(
                        "reconnected to a peer whose connection libzmq abandoned (a protocol error, such as a frame over the size limit)",
                        metadata: ["endpoint": "\(endpoint)"])
                } catch {
                    connected[endpoint] = nil
                    subscriber.logger.error(
                        "cannot reconnect to a peer whose connection libzmq abandoned",
                        metadata: ["endpoint": "\(endpoint)", "error": "\(error)"])
                }
            }
        }

        /// Receives until nothing is waiting or a burst is done; returns the messages handled.
        private func receiveBurst() -> Int {
            var handled = 0
            var counts = Counts()
            while handled < Self.burst, socket.receive(into: message) {
                handled += 1
                if message.hasMore {
                    var parts = 1
                    while message.hasMore, socket.receive(into: message) { parts += 1 }
                    reject(.multipart(parts: parts))
                    continue
                }
                handle(message.bytes, counts: &counts)
            }
            let metrics = subscriber.metrics
            metrics.count(.received, by: counts.received)
            metrics.count(.echoesDropped, by: counts.echoes)
            metrics.count(.gaps, by: counts.gaps)
            metrics.count(.duplicates, by: counts.duplicates)
            return handled
        }

        struct Counts {
            var received = 0
            var echoes = 0
            var gaps = 0
            var duplicates = 0
        }

        private func handle(_ bytes: UnsafeRawBufferPointer, counts: inout Counts) {
            let broadcast: Bool
            let offset: Int
            if Self.starts(bytes, with: broadcastTopic) {
                broadcast = true
                offset = broadcastTopic.count
            } else if Self.starts(bytes, with: directTopic) {
                broadcast = false
                offset = directTopic.count
            } else {
                reject(.unknownTopic)
                return
            }
            let header: ZMQFrameHeader
            do {
                header = try ZMQFrameHeader.parse(bytes, at: offset)
            } catch {
                reject(error)
                return
            }
            let body = UnsafeRawBufferPointer(rebasing: bytes[header.bodyOffset...])
            guard header.kind == .envelope else {
                welcome(header, body: body, broadcast: broadcast)
                return
            }
            if header.incarnation == ownIncarnation, Self.starts(header.senderName, with: ownName),
                header.senderName.count == ownName.count
            {
                counts.echoes += 1
                return
            }
            switch tracker.observe(name: header.senderName, incarnation: header.incarnation, sequence: header.sequence, broadcast: broadcast) {
            case .duplicate:
                counts.duplicates += 1
                return
            case .deliver(let lost):
                counts.gaps += lost
            }
            counts.received += 1
            // The shard is at offset 6 of the envelope; anything shorter goes to lane 0 to be rejected.
            let shard = body.count >= 8 ? Int(UInt16(bigEndian: body.loadUnaligned(fromByteOffset: 6, as: UInt16.self))) : 0
            pending[shard % pending.count].append(body)
        }

        private func welcome(_ header: ZMQFrameHeader, body: UnsafeRawBufferPointer, broadcast: Bool) {
            let settings = subscriber.settings
            guard !broadcast, !settings.isForwarder, let sender = header.sender else {
                reject(.malformedWelcome)
                return
            }
            let welcome: ZMQWelcome
            do {
                welcome = try ZMQWelcome.parse(body)
            } catch {
                reject(error)
                return
            }
            subscriber.status.update { state in
                if let peer = state.peers[sender.name], peer.incarnation == sender.incarnation {
                    state.peers[sender.name]?.welcomedUs = true
                    state.peers[sender.name]?.endpoint = welcome.endpoint
                } else {
                    state.peers[sender.name] = ZMQClusterStatus.Peer(
                        incarnation: sender.incarnation, endpoint: welcome.endpoint, welcomedUs: true
                    )
                }
            }
            subscriber.logger.debug("welcomed by a peer", metadata: ["peer": "\(sender)", "peers": "\(welcome.peers.count)"])
            for peer in welcome.peers where peer.node.name != settings.node.name {
                perform(.connect(peer.endpoint))
            }
        }

        private func perform(_ command: ZMQSubscriberCommand) {
            switch command {
            case .connect(let endpoint):
                guard connected[endpoint] == nil, endpoint != subscriber.ownEndpoint else { return }
                // Announced endpoints come from the network: only network transports, and not without bound.
                guard endpoint.hasPrefix("tcp://") || endpoint.hasPrefix("ipc://"), connected.count < Self.maximumPeers else {
                    subscriber.logger.warning("ignored an announced peer endpoint", metadata: ["endpoint": "\(endpoint)"])
                    return
                }
                do {
                    try socket.connect(endpoint)
                    connected[endpoint] = false
                    subscriber.logger.debug("subscribing to a peer", metadata: ["endpoint": "\(endpoint)"])
                } catch {
                    subscriber.logger.warning("cannot connect to an announced peer", metadata: ["error": "\(error)"])
                }
            case .disconnect(let endpoint):
                guard connected[endpoint] == false else { return }
                socket.disconnect(endpoint)
                connected[endpoint] = nil
                awaitingRetry[endpoint] = nil
                subscriber.status.update { state in
                    for (name, peer) in state.peers where peer.endpoint == endpoint {
                        state.peers[name]?.welcomedUs = false
                    }
                }
            }
        }

        /// How long after a lost connection libzmq must have said it retries
        /// it; it says so at once when it does.
        static let abandonedAfter = Duration.seconds(1)

        private func handle(_ event: ZMQMonitor.Event) {
            ZMQMonitor.record(event, socket: "subscriber", metrics: subscriber.metrics, logger: subscriber.logger)
            switch event.code {
            case ZMQ_EVENT_DISCONNECTED where connected[event.endpoint] != nil:
                awaitingRetry[event.endpoint] = ContinuousClock.now + Self.abandonedAfter
            case ZMQ_EVENT_CONNECT_RETRIED, ZMQ_EVENT_CONNECTED:
                awaitingRetry[event.endpoint] = nil
            default:
                break
            }
            guard event.code == ZMQ_EVENT_DISCONNECTED, !subscriber.settings.isForwarder else { return }
            // The peer lost this node's subscriptions with the connection; it welcomes again after reconnecting.
            subscriber.status.update { state in
                for (name, peer) in state.peers where peer.endpoint == event.endpoint {
                    state.peers[name]?.welcomedUs = false
                }
            }
        }

        private func flushLanes() {
            if let inbound {
                guard !pending[0].isEmpty else { return }
                // The receiver counts and logs its rejections.
                pending[0].drain(allocator: allocator) { _ = try? inbound.receive($0) }
                inbound.flush()
                return
            }
            for index in pending.indices where !pending[index].isEmpty {
                let dropped = subscriber.lanes[index].push(pending[index].take(allocator: allocator))
                subscriber.metrics.count(.inboundDropped, by: dropped)
            }
        }

        private func reject(_ error: ZMQFrameError) {
            let count = subscriber.metrics.reject(error)
            // Log the 1st, 2nd, 4th, 8th… occurrence of each reason, so a flood cannot flood the log.
            if count & (count - 1) == 0 {
                subscriber.logger.warning("rejected a message", metadata: ["reason": "\(error)", "occurrences": "\(count)"])
            }
        }

        private static func starts(_ bytes: UnsafeRawBufferPointer, with prefix: [UInt8]) -> Bool {
            guard bytes.count >= prefix.count else { return false }
            return prefix.withUnsafeBytes { memcmp(bytes.baseAddress!, $0.baseAddress!, prefix.count) == 0 }
        }
    }
}

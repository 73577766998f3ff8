import AdapterMesh
import AdapterRedis
import AdapterZMQ
import ArgumentParser
import Combo
import Foundation
import Logging
import Metrics
import Prometheus
import ServiceLifecycle

/// `combo node`: a long-running node driven by lines on standard input, on the
/// mesh adapter (the default), on Redis (`--adapter redis`) or on ZeroMQ
/// (`--adapter zmq`).
///
/// It prints one line per event on standard output, so that scripts and tests
/// can drive it; docs/NODE.md is the full grammar:
///
/// ```
/// metrics HOST:PORT               the metrics endpoint listens (with --metrics-port), before `ready`
/// ready NAME HOST:PORT            listening (mesh), `ready NAME redis` once subscribed,
///                                 or `ready NAME zmq ENDPOINT` once its subscriptions are in place
/// up NAME INCARNATION             a node joined (or restarted); mesh and zmq (zmq forwarder: `up NAME -`)
/// down NAME INCARNATION           a node left or went silent; mesh and zmq
/// received TOPIC ORIGIN TEXT      a message for a subscribed topic; a payload that is not a
///                                 one-line string prints as `<KIND(N bytes: HEX)>`
/// nodes NAME,NAME,...             answer to `nodes` (this node first)
/// join TOPIC KEY NODE [STATUS]    a presence appeared, here or on another node
/// leave TOPIC KEY NODE [STATUS]   a presence went away
/// list TOPIC KEY@NODE,...         answer to `list` (sorted; empty after the topic when none)
/// ok COMMAND                      a command was carried out
/// error TEXT                      a line was refused or a command failed
/// stopped                         the node stopped cleanly (quit, end of input, SIGTERM, SIGINT); the last line
/// ```
struct NodeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "node",
        abstract: "Run a Combo node driven by commands on standard input.",
        discussion: NodeInstruction.usage
    )

    @Option(help: "This node's cluster-unique name.")
    var name: String

    @Option(help: "The adapter: mesh, redis or zmq.")
    var adapter = "mesh"

    @Option(help: "With --adapter redis: redis://[[user]:password@]host[:port][/db].")
    var redisURL = "redis://127.0.0.1:6379"

    @Option(help: "With --adapter redis or zmq: the prefix of the cluster's channels.")
    var channelPrefix = "combo"

    @Option(help: "Where to listen, HOST:PORT (port 0 picks a free port).")
    var listen = "127.0.0.1:0"

    @Option(name: .customLong("seed"), help: "A node to join through, HOST:PORT (repeatable).")
    var seeds: [String] = []

    @Option(help: "The cluster secret (or set COMBO_SECRET, or use --secret-file).")
    var secret: String?

    @Option(help: "A file holding the cluster secret.")
    var secretFile: String?

    @Option(help: "The PubSub name, the same on every node of the cluster.")
    var pubsub = "combo"

    @Option(help: "Lanes per peer (PubSub poolSize).")
    var poolSize = 1

    @Option(help: "Seconds of silence after which a peer is considered down.")
    var livenessTimeout = 5.0

    @Option(help: "Milliseconds between presence heartbeats (the tracker's broadcast period).")
    var trackerBroadcastPeriod = 1500

    @Option(help: "Milliseconds of tracker silence after which a node's presences are hidden.")
    var trackerDownPeriod: Int?

    @Flag(
        inversion: .prefixedNo,
        help: "On a graceful stop, tell the other nodes to drop this node's presences at once (the default), or leave them for the down period.")
    var trackerPermdownOnShutdown = true

    @Option(help: "Log level on standard error: trace, debug, info, notice, warning, error, critical.")
    var logLevel = "warning"

    @Option(help: "Serve Prometheus metrics at http://HOST:PORT/metrics on this port (0 picks a free one).")
    var metricsPort: Int?

    @Option(help: "With --metrics-port: the address the metrics endpoint listens on.")
    var metricsHost = "127.0.0.1"

    @OptionGroup var zmq: ZMQNodeOptions

    func run() async throws {
        let nodeName: NodeName
        do {
            nodeName = try NodeName(name)
        } catch {
            throw ValidationError("--name: \(error)")
        }
        var logger = Logger(label: "combo.node") { StreamLogHandler.standardError(label: $0) }
        logger.logLevel = Logger.Level(rawValue: logLevel) ?? .warning
        if let metricsPort, !(0...65_535).contains(metricsPort) {
            throw ValidationError("--metrics-port must be between 0 and 65535, not \(metricsPort)")
        }
        let factory: any AdapterFactory
        switch adapter {
        case "mesh":
            factory = Mesh(
                nodeName: nodeName,
                listenAddress: try Self.address(listen, option: "--listen"),
                seeds: try seeds.map { try Self.address($0, option: "--seed") },
                secret: Array(try resolveSecret().utf8),
                heartbeatInterval: .seconds(livenessTimeout / 5),
                livenessTimeout: .seconds(livenessTimeout)
            )
        case "redis":
            do {
                factory = try Redis(nodeName: nodeName, url: redisURL, channelPrefix: channelPrefix)
            } catch {
                throw ValidationError("--redis-url: \(error)")
            }
        case "zmq":
            factory = try zmq.factory(nodeName: nodeName, channelPrefix: channelPrefix)
        default:
            throw ValidationError("--adapter must be mesh, redis or zmq, not \(adapter.debugDescription)")
        }
        // The application's one metrics backend: Prometheus when the endpoint is
        // asked for, otherwise whatever the global system is (no-op by default).
        let registry = PrometheusCollectorRegistry()
        let metricsFactory: any MetricsFactory
        if metricsPort != nil {
            let prometheus = PrometheusMetricsFactory(registry: registry)
            MetricsSystem.bootstrap(prometheus)
            metricsFactory = prometheus
        } else {
            metricsFactory = MetricsSystem.factory
        }
        let nodeMetrics = NodeMetrics(factory: metricsFactory)
        let pubsub = try PubSub(
            configuration: .init(name: pubsub, poolSize: poolSize), adapter: factory, logger: logger,
            metricsFactory: metricsFactory)
        let tracker = try makeTracker(pubsub: pubsub, logger: logger, metricsFactory: metricsFactory)
        let owner = tracker.makeOwner()
        defer { owner.close() }
        let subscriber = pubsub.makeSubscriber(options: .init(capacity: 100_000, overflowPolicy: .dropOldest))
        defer { subscriber.close() }

        var services: [any Service] = []
        if let metricsPort {
            let server = try await MetricsServer.start(
                host: metricsHost, port: metricsPort, registry: registry, metrics: nodeMetrics)
            LineOutput.emit("metrics \(server.address)")
            services.append(server)
        }
        // Services stop in reverse order: the tracker first, then the PubSub
        // it sends through, then the metrics endpoint.
        services += [pubsub, tracker]
        let serviceGroup = ServiceGroup(
            configuration: .init(services: services, gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        let lines = StandardInputLines()

        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await Self.printPresenceEvents(of: tracker) }
            group.addTask { await Self.printMembership(of: pubsub.adapter) }
            group.addTask {
                for try await message in subscriber {
                    LineOutput.emit("received \(message.topic) \(message.origin.name) \(Self.text(of: message))")
                }
            }
            group.addTask {
                try await Self.printReady(nodeName, adapter: pubsub.adapter)
                await Self.readCommands(
                    from: lines, pubsub: pubsub, subscriber: subscriber, owner: owner, metrics: nodeMetrics)
                // `quit` or the end of standard input.
                await serviceGroup.triggerGracefulShutdown()
            }
            do {
                try await serviceGroup.run()
            } catch {
                group.cancelAll()
                throw error
            }
            // Every service stopped: the printers and the command reader go too.
            group.cancelAll()
        }
        LineOutput.emit("stopped")
    }

    /// Carries out the commands read from standard input until `quit`, the end
    /// of input, or cancellation; prints `error` for each it refuses.
    private static func readCommands(
        from lines: StandardInputLines, pubsub: PubSub, subscriber: Subscriber, owner: PresenceOwner, metrics: NodeMetrics
    ) async {
        let mesh = pubsub.adapter as? MeshAdapter
        for await item in lines {
            switch item {
            case .tooLong(let bytes):
                metrics.rejectedLine("too_long")
                LineOutput.emit(
                    "error a line of \(bytes) bytes is longer than \(StandardInputLines.maximumLineLength) bytes; ignored")
            case .line(let line):
                let instruction: NodeInstruction
                do {
                    guard let parsed = try NodeInstruction.parse(line) else { continue }
                    instruction = parsed
                } catch {
                    metrics.rejectedLine("invalid")
                    LineOutput.emit(Self.errorLine(error))
                    continue
                }
                if instruction == .quit { return }
                do {
                    try await Self.perform(instruction, pubsub: pubsub, mesh: mesh, subscriber: subscriber, owner: owner)
                } catch {
                    metrics.commandFailed(instruction.verb)
                    LineOutput.emit(Self.errorLine(error))
                }
            }
        }
    }

    /// Prints `ready` once the adapter can carry messages.
    private static func printReady(_ nodeName: NodeName, adapter: any Adapter) async throws {
        if let mesh = adapter as? MeshAdapter {
            LineOutput.emit("ready \(nodeName) \(try await mesh.boundAddress())")
        } else if let redis = adapter as? RedisAdapter {
            await redis.waitUntilSubscribed()
            LineOutput.emit("ready \(nodeName) redis")
        } else if let zmqAdapter = adapter as? ZMQAdapter {
            await zmqAdapter.waitUntilReady()
            LineOutput.emit("ready \(nodeName) zmq \(zmqAdapter.endpoint ?? "-")")
        }
    }

    /// Prints `up` and `down` for the nodes the mesh or ZeroMQ adapter sees
    /// come and go, until cancelled; Redis has no membership.
    private static func printMembership(of adapter: any Adapter) async {
        if let mesh = adapter as? MeshAdapter {
            for await event in mesh.membershipEvents() {
                switch event {
                case .snapshot(let members):
                    for member in members { LineOutput.emit("up \(member.node.name) \(member.node.incarnation)") }
                case .up(let member): LineOutput.emit("up \(member.node.name) \(member.node.incarnation)")
                case .down(let member): LineOutput.emit("down \(member.node.name) \(member.node.incarnation)")
                }
            }
        } else if let zmqAdapter = adapter as? ZMQAdapter {
            for await event in zmqAdapter.peerEvents() {
                switch event {
                case .up(let name, let incarnation): LineOutput.emit("up \(name) \(incarnation.map { "\($0)" } ?? "-")")
                case .down(let name, let incarnation): LineOutput.emit("down \(name) \(incarnation.map { "\($0)" } ?? "-")")
                }
            }
        }
    }

    /// The TEXT of a `received` line: a string payload as it is, unless it
    /// holds a line break; anything else in angle brackets, as
    /// `<KIND(N bytes: HEX)>` with KIND `raw` (raw bytes), `text` (a string
    /// with a line break, its UTF-8) or the codec's name (`msgpack`, `json`:
    /// an encoded value that is not a string), and HEX the first
    /// ``shownPayloadBytes`` bytes in hexadecimal, followed by `...` when
    /// there are more; a local value that is not a string prints as `<value(TYPE)>`.
    static func text(of message: Message) -> String {
        if let text = try? message.decode(String.self) {
            guard text.contains(where: \.isNewline) else { return text }
            return bracketed("text", Array(text.utf8))
        }
        switch message.payload {
        case .raw(let buffer): return bracketed("raw", Array(buffer.readableBytesView))
        case .encoded(let buffer, let codec): return bracketed(codec.name, Array(buffer.readableBytesView))
        case .value(let value): return "<value(\(type(of: value)))>"
        }
    }

    /// How many bytes of a payload a `received` line shows in hexadecimal.
    static let shownPayloadBytes = 32

    private static func bracketed(_ kind: String, _ bytes: [UInt8]) -> String {
        var hex = bytes.prefix(shownPayloadBytes).map { byte in
            let digits = String(byte, radix: 16)
            return digits.count == 1 ? "0" + digits : digits
        }.joined()
        if bytes.count > shownPayloadBytes { hex += "..." }
        return "<\(kind)(\(bytes.count) bytes: \(hex))>"
    }

    /// An `error` line: the error's description on one line.
    static func errorLine(_ error: any Error) -> String {
        "error " + "\(error)".split(omittingEmptySubsequences: true, whereSeparator: \.isNewline).joined(separator: " ")
    }

    private static func perform(
        _ instruction: NodeInstruction, pubsub: PubSub, mesh: MeshAdapter?, subscriber: Subscriber, owner: PresenceOwner
    ) async throws {
        switch instruction {
        case .subscribe(let topic):
            try subscriber.subscribe(to: topic)
            LineOutput.emit("ok subscribe \(topic)")
        case .unsubscribe(let topic):
            subscriber.unsubscribe(from: topic)
            LineOutput.emit("ok unsubscribe \(topic)")
        case .publish(let topic, let text):
            try await pubsub.broadcast(text, to: topic)
            LineOutput.emit("ok publish \(topic)")
        case .direct(let node, let topic, let text):
            let target: NodeName
            do {
                target = try NodeName(node)
            } catch {
                throw ValidationError("node name: \(error)")
            }
            try await pubsub.directBroadcast(text, to: topic, on: target)
            LineOutput.emit("ok direct \(node) \(topic)")
        case .nodes:
            // Redis has no membership: a Redis node knows only itself.
            let zmqPeers = (pubsub.adapter as? ZMQAdapter)?.upPeers.map(\.rawValue) ?? []
            let names = [pubsub.nodeName.rawValue] + ((mesh?.members ?? []).map(\.node.name.rawValue) + zmqPeers).sorted()
            LineOutput.emit("nodes \(names.joined(separator: ","))")
        case .track, .untrack, .list:
            try Self.perform(instruction, owner: owner)
        case .quit:
            break
        }
    }

    /// The secret from the flag, the environment or a file, in that order.
    private func resolveSecret() throws -> String {
        if let secret, !secret.isEmpty { return secret }
        if let secret = ProcessInfo.processInfo.environment["COMBO_SECRET"], !secret.isEmpty { return secret }
        if let secretFile {
            guard let text = try? String(contentsOfFile: secretFile, encoding: .utf8) else {
                throw ValidationError("cannot read the secret file \(secretFile)")
            }
            let secret = text.trimmingCharacters(in: .whitespacesAndNewlines)
            guard !secret.isEmpty else { throw ValidationError("the secret file \(secretFile) is empty") }
            return secret
        }
        throw ValidationError("a cluster secret is required: --secret, COMBO_SECRET or --secret-file")
    }

    static func address(_ text: String, option: String) throws -> MeshAddress {
        guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]),
            (0...65_535).contains(port), colon != text.startIndex
        else {
            throw ValidationError("\(option) \(text.debugDescription) is not HOST:PORT")
        }
        return MeshAddress(host: String(text[..<colon]), port: port)
    }
}

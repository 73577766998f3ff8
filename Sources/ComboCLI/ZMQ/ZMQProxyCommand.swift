import AdapterZMQ
import ArgumentParser
import Foundation
import Logging
import ServiceLifecycle

/// `combo zmq-proxy`: the XSUB/XPUB forwarder that nodes of the ZeroMQ
/// forwarder topology (`combo node --adapter zmq --zmq-topology forwarder`)
/// meet through.
///
/// It prints `ready XSUB_ENDPOINT XPUB_ENDPOINT` once both sockets are bound,
/// and runs until SIGINT or SIGTERM.
struct ZMQProxyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "zmq-proxy",
        abstract: "Run the ZeroMQ XSUB/XPUB proxy of a forwarder-topology cluster."
    )

    @Option(help: "Where the XSUB socket binds; nodes publish here (port * picks one).")
    var xsub = "tcp://127.0.0.1:5560"

    @Option(help: "Where the XPUB socket binds; nodes subscribe here (port * picks one).")
    var xpub = "tcp://127.0.0.1:5561"

    @Option(help: "High-water mark per connection and direction, in messages (0: no limit).")
    var hwm = 100_000

    @Option(help: "The largest message accepted from a publisher, in bytes.")
    var maxMessageSize = 16 * 1024 * 1024 + 1024

    @Option(help: "CURVE: a file holding the server secret key (Z85); clients then need an authorized key.")
    var serverSecretKeyFile: String?

    @Option(name: .customLong("authorized-key"), help: "CURVE: a client public key to accept (Z85, repeatable).")
    var authorizedKeys: [String] = []

    @Flag(help: "Print a new CURVE key pair (public, then secret, in Z85) and exit.")
    var generateKeyPair = false

    @Option(help: "Log level on standard error: trace, debug, info, notice, warning, error, critical.")
    var logLevel = "info"

    func run() async throws {
        if generateKeyPair {
            let pair = try ZMQCurveKeyPair.generate()
            print("public \(pair.publicKey.z85)")
            print("secret \(pair.secretKey.z85)")
            return
        }
        var logger = Logger(label: "combo.zmq-proxy") { StreamLogHandler.standardError(label: $0) }
        logger.logLevel = Logger.Level(rawValue: logLevel) ?? .info
        var configuration = ZMQProxyConfiguration(xsub: xsub, xpub: xpub)
        configuration.highWaterMark = hwm
        configuration.maximumMessageSize = maxMessageSize
        let proxy: ZMQProxy
        do {
            if let serverSecretKeyFile {
                configuration.serverKeys = try ZMQCurveKeyPair(secretKey: ZMQCurveKey(z85: ZMQNodeOptions.read(serverSecretKeyFile)))
                configuration.authorizedClientKeys = Set(try authorizedKeys.map { try ZMQCurveKey(z85: $0) })
            }
            proxy = try ZMQProxy(configuration: configuration, logger: logger)
        } catch let error as ZMQConfigurationError {
            throw ValidationError("\(error)")
        }
        let group = ServiceGroup(
            configuration: .init(services: [.init(service: proxy)], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
        )
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            tasks.addTask {
                guard let endpoints = await proxy.waitUntilBound() else { return }
                LineOutput.emit("ready \(endpoints.xsub) \(endpoints.xpub)")
            }
            try await tasks.waitForAll()
        }
    }
}

import AdapterZMQ
import ArgumentParser
import Combo
import Foundation

/// The options of `combo node --adapter zmq`.
struct ZMQNodeOptions: ParsableArguments {
    @Option(name: .customLong("zmq-topology"), help: "With --adapter zmq: peers or forwarder.")
    var topology = "peers"

    @Option(name: .customLong("zmq-bind"), help: "Peers: where this node's publishing socket binds (port 0 or * picks one).")
    var bind = "tcp://127.0.0.1:0"

    @Option(name: .customLong("zmq-advertise"), help: "Peers: the endpoint other nodes reach this node at (default: the bound one).")
    var advertise: String?

    @Option(name: .customLong("zmq-peer"), help: "Peers: another node's endpoint to subscribe to (repeatable).")
    var peers: [String] = []

    @Option(name: .customLong("zmq-xsub"), help: "Forwarder: the proxy's XSUB endpoint (where nodes publish).")
    var xsub = "tcp://127.0.0.1:5560"

    @Option(name: .customLong("zmq-xpub"), help: "Forwarder: the proxy's XPUB endpoint (where nodes subscribe).")
    var xpub = "tcp://127.0.0.1:5561"

    @Option(name: .customLong("zmq-hwm"), help: "Send and receive high-water marks, in messages (0: no limit).")
    var highWaterMark = 100_000

    @Option(name: .customLong("zmq-server-key"), help: "CURVE: the servers' public key (Z85).")
    var serverKey: String?

    @Option(name: .customLong("zmq-server-secret-key-file"), help: "CURVE, peers: a file holding the servers' secret key (Z85).")
    var serverSecretKeyFile: String?

    @Option(name: .customLong("zmq-client-secret-key-file"), help: "CURVE: a file holding this node's client secret key (Z85).")
    var clientSecretKeyFile: String?

    @Option(name: .customLong("zmq-authorized-key"), help: "CURVE, peers: a client public key this node accepts (Z85, repeatable).")
    var authorizedKeys: [String] = []

    /// The adapter factory these options describe.
    func factory(nodeName: NodeName, channelPrefix: String) throws -> ZMQ {
        let zmqTopology: ZMQTopology
        switch topology {
        case "peers": zmqTopology = .peers(bind: bind, advertise: advertise, peers: peers)
        case "forwarder": zmqTopology = .forwarder(xsub: xsub, xpub: xpub)
        default: throw ValidationError("--zmq-topology must be peers or forwarder, not \(topology.debugDescription)")
        }
        var configuration = ZMQ(nodeName: nodeName, topology: zmqTopology, channelPrefix: channelPrefix)
        configuration.sendHighWaterMark = highWaterMark
        configuration.receiveHighWaterMark = highWaterMark
        if let serverKey {
            do {
                guard let clientSecretKeyFile else {
                    throw ValidationError("CURVE needs --zmq-client-secret-key-file")
                }
                configuration.curve = ZMQCurve(
                    serverPublicKey: try ZMQCurveKey(z85: serverKey),
                    serverSecretKey: try serverSecretKeyFile.map { try ZMQCurveKey(z85: try Self.read($0)) },
                    clientKeys: try ZMQCurveKeyPair(secretKey: ZMQCurveKey(z85: try Self.read(clientSecretKeyFile))),
                    authorizedClientKeys: Set(try authorizedKeys.map { try ZMQCurveKey(z85: $0) })
                )
            } catch let error as ZMQConfigurationError {
                throw ValidationError("\(error)")
            }
        }
        do {
            try configuration.validate()
        } catch {
            throw ValidationError("\(error)")
        }
        return configuration
    }

    static func read(_ path: String) throws -> String {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            throw ValidationError("cannot read the key file \(path)")
        }
        return text.trimmingCharacters(in: .whitespacesAndNewlines)
    }
}

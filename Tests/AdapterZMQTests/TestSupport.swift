@testable import AdapterZMQ
import Combo
import Foundation
import Logging
import Metrics
import NIOCore

/// Runs `body`, and fails with ``TestFailure`` (cancelling `body`) if it takes longer than `limit`.
func withDeadline<T: Sendable>(
    _ limit: Duration,
    _ what: String,
    _ body: @escaping @Sendable () async throws -> T
) async throws -> T {
    try await withThrowingTaskGroup(of: T?.self) { group in
        group.addTask { try await body() }
        group.addTask {
            try await Task.sleep(for: limit)
            return nil
        }
        defer { group.cancelAll() }
        guard let first = try await group.next(), let result = first else {
            throw TestFailure("timed out after \(limit) waiting for \(what)")
        }
        return result
    }
}

/// Runs the PubSubs while `body` runs, then cancels them and waits for them to stop.
func withRunning<T: Sendable>(_ nodes: [PubSub], _ body: () async throws -> T) async throws -> T {
    try await withThrowingTaskGroup(of: Void.self) { group in
        for node in nodes {
            group.addTask { try await node.run() }
        }
        let result: T
        do {
            result = try await body()
        } catch {
            group.cancelAll()
            throw error
        }
        group.cancelAll()
        try await group.waitForAll()
        return result
    }
}

/// Polls `condition` until it holds, failing after `limit`.
func eventually(_ what: String, within limit: Duration = .seconds(30), _ condition: @escaping @Sendable () -> Bool) async throws {
    try await withDeadline(limit, what) {
        while !condition() { try await Task.sleep(for: .milliseconds(5)) }
    }
}

/// The ZeroMQ adapter of a PubSub.
func zmqAdapter(of pubsub: PubSub) -> ZMQAdapter {
    pubsub.adapter as! ZMQAdapter
}

/// A logger that discards everything, unless `COMBO_TEST_LOG` names a level
/// (`debug`, `trace`…), for a look at what the nodes do.
let quietLogger: Logger = {
    guard let level = ProcessInfo.processInfo.environment["COMBO_TEST_LOG"].flatMap(Logger.Level.init(rawValue:)) else {
        return Logger(label: "test") { _ in SwiftLogNoOpLogHandler() }
    }
    var logger = Logger(label: "test") { StreamLogHandler.standardError(label: $0) }
    logger.logLevel = level
    return logger
}()

/// A PubSub for tests on the ZeroMQ adapter.
func makeNode(_ configuration: ZMQ, poolSize: Int = 1, metrics: (any MetricsFactory)? = nil) throws -> PubSub {
    var pubsubConfiguration = PubSub.Configuration(name: "test", poolSize: poolSize)
    pubsubConfiguration.subscriberOptions = SubscriberOptions(capacity: 100_000, overflowPolicy: .dropNewest)
    return try PubSub(
        configuration: pubsubConfiguration, adapter: ZMQTestNodes.configure(configuration), logger: quietLogger,
        metricsFactory: metrics
    )
}

/// The single frame a Combo node sends: topic, header, sequence number, envelope.
func frame(topic: [UInt8], sender: NodeIdentity, sequence: UInt64, envelope: [UInt8], kind: ZMQFrameKind = .envelope) -> [UInt8] {
    var bytes = topic + ZMQFrameHeader.prefix(kind: kind, sender: sender)
    withUnsafeBytes(of: sequence.bigEndian) { bytes.append(contentsOf: $0) }
    return bytes + envelope
}

/// The bytes of a broadcast envelope of raw bytes.
func rawEnvelope(from origin: NodeIdentity, topic: String, text: String) throws -> [UInt8] {
    let envelope = Envelope(
        kind: .broadcast, shard: 0, origin: origin, topic: topic, codec: 0, payload: ByteBuffer(string: text)
    )
    var encoded = try envelope.encoded()
    return encoded.readBytes(length: encoded.readableBytes) ?? []
}

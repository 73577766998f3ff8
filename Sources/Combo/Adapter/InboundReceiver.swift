import Logging
import NIOCore
import Synchronization

/// Where an ``Adapter`` hands what it receives: decodes the envelope and
/// dispatches it to this node's subscribers.
///
/// Call ``receive(_:)`` from the adapter's receiving lanes (`poolSize` of
/// them, shard `s` on lane `s % poolSize`), each lane calling it in the order
/// its envelopes arrived, so that one node's messages on one topic are
/// dispatched in order. Malformed input is
/// rejected with a typed error, counted (`combo_decode_failures_total`) and
/// logged (at exponentially spaced occurrences so a flood cannot flood the
/// log); it never affects other messages. An envelope this node sent itself
/// (an echo through Redis or ZeroMQ) is ignored.
public final class InboundReceiver: Sendable {
    /// What happened to a well-formed envelope.
    public enum Outcome: Sendable, Hashable {
        /// Dispatched to local subscribers.
        case dispatched
        /// Sent by this very node boot; ignored.
        case ownEcho
    }

    /// The node this receiver dispatches for.
    public let node: NodeIdentity
    private let delivery: LocalDelivery
    private let codecs: [UInt8: any PayloadCodec]
    private let dispatchers: [String: any Dispatcher]
    private let maximumEnvelopeSize: Int
    private let logger: Logger
    private let rejections = Mutex<[String: Int]>([:])

    init(
        node: NodeIdentity,
        delivery: LocalDelivery,
        codecs: [UInt8: any PayloadCodec],
        dispatchers: [String: any Dispatcher],
        maximumEnvelopeSize: Int,
        logger: Logger
    ) {
        self.node = node
        self.delivery = delivery
        self.codecs = codecs
        self.dispatchers = dispatchers
        self.maximumEnvelopeSize = maximumEnvelopeSize
        self.logger = logger
    }

    /// Decodes and dispatches one envelope.
    ///
    /// - Throws: ``InboundError`` when the envelope is rejected (already counted and logged).
    @discardableResult
    public func receive(_ bytes: ByteBuffer) throws(InboundError) -> Outcome {
        do {
            return try dispatch(try decodeEnvelope(bytes))
        } catch {
            reject(error)
            throw error
        }
    }

    private func decodeEnvelope(_ bytes: ByteBuffer) throws(InboundError) -> Envelope {
        do {
            return try Envelope(decoding: bytes, maximumSize: maximumEnvelopeSize)
        } catch {
            throw .malformed(error)
        }
    }

    private func dispatch(_ envelope: Envelope) throws(InboundError) -> Outcome {
        if envelope.origin == node { return .ownEcho }
        if envelope.kind == .direct, let target = envelope.target, target != node.name {
            throw .misdirected(target: target)
        }
        let payload: Payload
        if envelope.codec == 0 {
            payload = .raw(envelope.payload)
        } else if let codec = codecs[envelope.codec] {
            payload = .encoded(envelope.payload, codec: codec)
        } else {
            throw .unknownCodec(envelope.codec)
        }
        let dispatcher: any Dispatcher
        if let name = envelope.dispatcher {
            guard let registered = dispatchers[name] else { throw .unknownDispatcher(name) }
            dispatcher = registered
        } else {
            dispatcher = DefaultDispatcher()
        }
        let message = Message(topic: envelope.topic, payload: payload, from: envelope.from, origin: envelope.origin)
        delivery.metrics.remoteReceived.increment()
        delivery.dispatch(topic: envelope.topic, message: message, from: envelope.from, dispatcher: dispatcher)
        return .dispatched
    }

    private func reject(_ error: InboundError) {
        let reason = error.reason
        delivery.metrics.decodeFailed(reason: reason)
        let count = rejections.withLock { counts in
            counts[reason, default: 0] += 1
            return counts[reason]!
        }
        // Log the 1st, 2nd, 4th, 8th… occurrence of each reason.
        if count & (count - 1) == 0 {
            logger.warning(
                "rejected an inbound envelope",
                metadata: ["reason": "\(error)", "occurrences": "\(count)"]
            )
        }
    }
}

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
    let maximumEnvelopeSize: Int
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

    /// Decodes one envelope and dispatches it to local subscribers.
    ///
    /// - Returns: what happened to a well-formed envelope.
    /// - Throws: ``InboundError`` when the envelope is malformed, names an
    ///   unknown codec or dispatcher, or is a direct broadcast for another node;
    ///   the rejection is counted and logged before it is thrown.
    @discardableResult
    public func receive(_ bytes: ByteBuffer) throws(InboundError) -> Outcome {
        var cache = EnvelopeDecodingCache()
        switch try decode(bytes, cache: &cache) {
        case .ownEcho:
            return .ownEcho
        case .message(let inbound, let dispatcher):
            let message = inbound.message
            delivery.metrics.remoteReceived.increment()
            delivery.dispatch(
                topic: message.topic, message: message, from: message.from, dispatcher: dispatcher ?? DefaultDispatcher())
            return .dispatched
        }
    }

    /// A batch that receives one ordered source's envelopes and delivers them
    /// in bursts (see ``InboundBatch``).
    public func makeBatch(limit: Int = InboundBatch.defaultLimit) -> InboundBatch {
        InboundBatch(receiver: self, delivery: delivery, limit: limit)
    }

    /// A well-formed envelope, ready to dispatch.
    enum Inbound {
        /// Sent by this very node boot.
        case ownEcho
        /// A message and its custom dispatcher (`nil`: the default one).
        case message(InboundMessage, dispatcher: (any Dispatcher)?)
    }

    /// What a received message is made of, before a ``Message`` is made of it.
    struct InboundMessage {
        let topic: String
        /// The payload's bytes.
        let bytes: ByteBuffer
        /// The codec the bytes are encoded with; `nil` for raw bytes.
        let codec: (any PayloadCodec)?
        let from: SubscriberID?
        let origin: NodeIdentity

        var payload: Payload {
            if let codec { return .encoded(bytes, codec: codec) }
            return .raw(bytes)
        }

        /// The message, with storage of its own.
        var message: Message { Message(topic: topic, payload: payload, from: from, origin: origin) }

        /// The same message with other payload bytes.
        func replacingBytes(with bytes: ByteBuffer) -> InboundMessage {
            InboundMessage(topic: topic, bytes: bytes, codec: codec, from: from, origin: origin)
        }
    }

    /// Decodes an envelope into what to dispatch; rejections are counted and
    /// logged before they are thrown.
    func decode(_ bytes: ByteBuffer, cache: inout EnvelopeDecodingCache) throws(InboundError) -> Inbound {
        var template: InboundHeaderTemplate?
        return try decode(bytes, cache: &cache, template: &template)
    }

    /// Decodes an envelope into what to dispatch, reading it through
    /// `template` when it repeats the header of the last envelope accepted
    /// with it, and making an accepted envelope the next template otherwise.
    func decode(
        _ bytes: ByteBuffer, cache: inout EnvelopeDecodingCache, template: inout InboundHeaderTemplate?
    ) throws(InboundError) -> Inbound {
        if let inbound = template?.match(bytes, maximumSize: maximumEnvelopeSize) { return inbound }
        do throws(InboundError) {
            let envelope: Envelope
            do {
                envelope = try Envelope(decoding: bytes, maximumSize: maximumEnvelopeSize, cache: &cache)
            } catch {
                throw .malformed(error)
            }
            let inbound = try prepare(envelope)
            template = InboundHeaderTemplate(envelope: bytes, payloadLength: envelope.payload.readableBytes, outcome: inbound)
            return inbound
        } catch {
            reject(error)
            throw error
        }
    }

    private func prepare(_ envelope: Envelope) throws(InboundError) -> Inbound {
        if envelope.origin == node { return .ownEcho }
        if envelope.kind == .direct, let target = envelope.target, target != node.name {
            throw .misdirected(target: target)
        }
        var codec: (any PayloadCodec)?
        if envelope.codec != 0 {
            guard let known = codecs[envelope.codec] else { throw .unknownCodec(envelope.codec) }
            codec = known
        }
        var dispatcher: (any Dispatcher)?
        if let name = envelope.dispatcher {
            guard let registered = dispatchers[name] else { throw .unknownDispatcher(name) }
            dispatcher = registered
        }
        let message = InboundMessage(
            topic: envelope.topic, bytes: envelope.payload, codec: codec, from: envelope.from, origin: envelope.origin)
        return .message(message, dispatcher: dispatcher)
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

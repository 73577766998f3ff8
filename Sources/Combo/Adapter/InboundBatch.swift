import DequeModule
import NIOCore

/// Receives the envelopes of one ordered source (a connection, a socket, a
/// subscription) and delivers them in bursts: what an adapter uses instead of
/// ``InboundReceiver/receive(_:)`` when it reads many envelopes at a time.
///
/// ``receive(_:)`` decodes and checks each envelope at once (rejections are
/// thrown, counted and logged exactly as by the receiver) but holds messages
/// for the default dispatcher until ``flush()``, which hands each subscriber
/// all of its messages under one acquisition of its buffer's lock and wakes
/// its reader at most once. Call ``flush()`` when a read burst ends (SwiftNIO's
/// `channelReadComplete`) and before the source goes away; the batch also
/// flushes by itself every ``defaultLimit`` messages so that a long burst
/// neither waits nor grows without bound. Each subscriber still receives its
/// messages in the order they arrived, and an envelope with a custom
/// dispatcher first flushes what is held, then is dispatched on its own.
///
/// Decoding reads an envelope that repeats the previous accepted envelope's
/// header bytes (origin, topic, kind, shard, codec, dispatcher, sender), which
/// a connection's traffic mostly does, with one comparison; otherwise it
/// reuses the origin's name and the topic when their bytes repeat.
/// A single subscriber's messages with one header share one message storage
/// per burst (each keeps its own payload bytes).
///
/// Subscriptions are looked up once for each run of envelopes on one topic
/// within a burst: a subscriber that subscribes during a burst gets that
/// topic's messages from the next run on, as if it had subscribed a few
/// microseconds later.
///
/// Not `Sendable`: a batch belongs to one reader (for SwiftNIO, the channel's
/// event loop), like the source it reads.
public final class InboundBatch {
    /// How many messages a batch holds before it flushes by itself.
    public static let defaultLimit = 512

    private let receiver: InboundReceiver
    private let delivery: LocalDelivery
    private let limit: Int

    // The mutable state opts out of dynamic exclusivity checks: each access
    // otherwise costs a `swift_beginAccess` (a thread-local look-up), several
    // per message, a fifth of a ZeroMQ subscriber thread's time. A batch
    // belongs to one reader, nothing it calls calls back into it, and no
    // access to a property overlaps another to the same property.
    @exclusivity(unchecked) private var cache = EnvelopeDecodingCache()
    @exclusivity(unchecked) private var template: InboundHeaderTemplate? {
        didSet { templateReference = template.map { Unmanaged.passUnretained($0) } }
    }
    /// `template`, unretained: the common path reads it without a retain and
    /// a release per message, while `template` keeps it alive.
    @exclusivity(unchecked) private var templateReference: Unmanaged<InboundHeaderTemplate>?

    /// The inboxes with held messages, in the order they first got one.
    @exclusivity(unchecked) private var inboxes: [Inbox] = []
    /// Each inbox's held messages, by the inbox's position in `inboxes`;
    /// those past `inboxes.count` are kept empty for reuse.
    @exclusivity(unchecked) private var held: [Held] = []
    /// Positions in `inboxes`, once there are too many for a linear search.
    @exclusivity(unchecked) private var positions: [ObjectIdentifier: Int] = [:]
    /// Messages held, and messages received since the last flush.
    @exclusivity(unchecked) private var heldCount = 0
    @exclusivity(unchecked) private var receivedCount = 0
    /// The last topic looked up during this burst (`nil`: none), its
    /// subscriptions, and its one subscription's inbox when it has exactly one
    /// (the common case, worth a path of its own). Separate properties rather
    /// than one optional tuple, so that reading one does not copy the others.
    @exclusivity(unchecked) private var lookedUpTopic: String?
    @exclusivity(unchecked) private var lookedUpSnapshots: [TopicSnapshot] = []
    @exclusivity(unchecked) private var soleInbox: Inbox?

    /// One inbox's held messages: a class, so that an array holds the
    /// noncopyable deque, which moves each message in rather than copying it.
    private final class Held {
        // Only the batch's reader touches it, never overlappingly (see above).
        @exclusivity(unchecked) var messages = Inbox.Messages()
    }

    /// Where messages repeating a header go, worked out once per header and
    /// look-up: to the held messages of the inbox at position `soleIndex` in
    /// `inboxes`, sharing `soleStorage`, made for this burst; to nobody (the
    /// sole subscriber sent them); or through ``hold(_:payload:storage:)``.
    ///
    /// A storage per burst rather than per header: the reader releases the
    /// messages of the previous burst while this one is built, and one
    /// reference count updated from both threads costs more than the
    /// allocation. The route's parts are separate properties, so that reading
    /// the route copies (and retains) nothing.
    private enum RepeatedRoute {
        case sole
        case nobody
        case general
    }

    /// The template `repeatedRoute` was worked out for; `nil` after a flush or
    /// a new look-up.
    @exclusivity(unchecked) private var resolvedTemplate: InboundHeaderTemplate? {
        didSet { resolvedAddress = resolvedTemplate.map { Unmanaged.passUnretained($0).toOpaque() } }
    }
    /// The address of `resolvedTemplate`, compared without a retain.
    @exclusivity(unchecked) private var resolvedAddress: UnsafeMutableRawPointer?
    @exclusivity(unchecked) private var repeatedRoute = RepeatedRoute.general
    @exclusivity(unchecked) private var soleIndex = 0
    @exclusivity(unchecked) private var soleStorage: MessageStorage?

    /// With fewer inboxes than this, finding one's position is a linear search.
    private static let linearSearchLimit = 8

    init(receiver: InboundReceiver, delivery: LocalDelivery, limit: Int) {
        self.receiver = receiver
        self.delivery = delivery
        self.limit = max(1, limit)
    }

    /// Decodes one envelope and holds its message for the next ``flush()``
    /// (or dispatches it at once when it names a custom dispatcher).
    ///
    /// - Throws: ``InboundError`` as ``InboundReceiver/receive(_:)`` does; a
    ///   rejected envelope changes nothing else.
    @discardableResult
    public func receive(_ bytes: consuming ByteBuffer) throws(InboundError) -> InboundReceiver.Outcome {
        // The common case, a message for the default dispatcher repeating the
        // last header, without making an intermediate inbound message. The
        // payload is the envelope itself with its header skipped: no new slice.
        // The template is read through its unretained reference (SwiftNIO uses
        // `_withUnsafeGuaranteedRef` the same way): `template` keeps it alive.
        let maximumSize = receiver.maximumEnvelopeSize
        if let reference = templateReference,
            let payloadOffset = reference._withUnsafeGuaranteedRef({ template in
                template.isDefaultDispatch ? template.payloadOffset(in: bytes, maximumSize: maximumSize) : nil
            })
        {
            bytes.moveReaderIndex(forwardBy: payloadOffset)
            receivedCount += 1
            holdRepeated(reference, payload: bytes)
            if heldCount >= limit { flush() }
            return .dispatched
        }
        let previous = template
        switch try receiver.decode(bytes, cache: &cache, template: &template) {
        case .ownEcho:
            return .ownEcho
        case .message(let inbound, let dispatcher?):
            flush()
            delivery.metrics.remoteReceived.increment()
            delivery.dispatch(topic: inbound.topic, message: inbound.message, from: inbound.from, dispatcher: dispatcher)
            return .dispatched
        case .message(let inbound, nil):
            receivedCount += 1
            // A template made of this very envelope routes it as it will route its repeats.
            if let template, template !== previous {
                holdRepeated(Unmanaged.passUnretained(template), payload: inbound.bytes)
            } else {
                hold(inbound, payload: inbound.bytes, storage: nil)
            }
            if heldCount >= limit { flush() }
            return .dispatched
        }
    }

    /// Delivers every held message.
    public func flush() {
        if receivedCount > 0 {
            delivery.metrics.remoteReceived.increment(by: Int64(receivedCount))
            receivedCount = 0
        }
        lookedUpTopic = nil
        lookedUpSnapshots = []
        soleInbox = nil
        resolvedTemplate = nil
        soleStorage = nil
        guard heldCount > 0 else { return }
        var delivered = 0
        for index in inboxes.indices {
            delivered += delivery.deliver(&held[index].messages, to: inboxes[index])
        }
        inboxes.removeAll(keepingCapacity: true)
        positions.removeAll(keepingCapacity: true)
        heldCount = 0
        if delivered > 0 { delivery.metrics.deliveries.increment(by: Int64(delivered)) }
    }

    /// Holds the message made of `inbound`'s header and `payload` for every
    /// subscriber of its topic but its sender, as the default dispatcher
    /// would deliver it. `storage`, when given, is the header's storage for
    /// a single subscriber's messages.
    private func hold(_ inbound: InboundReceiver.InboundMessage, payload: ByteBuffer, storage: MessageStorage?) {
        if lookedUpTopic != inbound.topic { lookUp(inbound.topic) }
        let from = inbound.from
        if let sole = soleInbox {
            if sole.id != from { append(Self.singleRecipientMessage(inbound, payload: payload, storage: storage), to: sole) }
            return
        }
        let message: Message
        switch Self.recipients(lookedUpSnapshots, excluding: from) {
        case 0:
            return
        case 1:
            message = Self.singleRecipientMessage(inbound, payload: payload, storage: storage)
        default:
            message = inbound.replacingBytes(with: payload).message
        }
        for snapshot in lookedUpSnapshots {
            switch snapshot {
            case .one(let entry):
                if entry.inbox.id != from { append(message, to: entry.inbox) }
            case .many(let entries):
                for entry in entries where entry.inbox.id != from { append(message, to: entry.inbox) }
            }
        }
    }

    /// ``hold(_:payload:storage:)`` for a message that repeats the header of
    /// the template `reference` names (kept alive by the caller), reading only
    /// the template's fields on the common path.
    private func holdRepeated(_ reference: Unmanaged<InboundHeaderTemplate>, payload: consuming ByteBuffer) {
        // `resolvedTemplate` keeps its object alive, so an equal address is the same template.
        if reference.toOpaque() != resolvedAddress { resolve(reference.takeUnretainedValue()) }
        switch repeatedRoute {
        case .sole:
            held[soleIndex].messages.append(Message(storage: soleStorage!, ownBytes: consume payload))
            heldCount += 1
        case .nobody:
            return
        case .general:
            let template = reference.takeUnretainedValue()
            guard case .message(let inbound, _) = template.outcome else { return }
            hold(inbound, payload: payload, storage: template.singleRecipientStorage)
        }
    }

    /// Works out where the messages repeating `template`'s header go, until
    /// the next flush or look-up.
    private func resolve(_ template: InboundHeaderTemplate) {
        if lookedUpTopic != template.topic { lookUp(template.topic) }
        if let sole = soleInbox {
            let from = template.from
            if from == nil || sole.id != from, let shared = template.singleRecipientStorage {
                soleStorage = MessageStorage(topic: shared.topic, payload: shared.payload, from: shared.from, origin: shared.origin)
                soleIndex = position(of: sole)
                repeatedRoute = .sole
            } else {
                soleStorage = nil
                repeatedRoute = .nobody
            }
        } else {
            soleStorage = nil
            repeatedRoute = .general
        }
        resolvedTemplate = template
    }

    private func lookUp(_ topic: String) {
        resolvedTemplate = nil
        var snapshots: [TopicSnapshot] = []
        delivery.registry.forEachEntries(of: topic) { snapshots.append($0) }
        soleInbox = nil
        if snapshots.count == 1, case .one(let entry) = snapshots[0] { soleInbox = entry.inbox }
        lookedUpTopic = topic
        lookedUpSnapshots = snapshots
    }

    /// How many subscriptions would receive a message: 0, 1, or 2 for "more".
    private static func recipients(_ snapshots: [TopicSnapshot], excluding from: SubscriberID?) -> Int {
        var count = 0
        for snapshot in snapshots {
            switch snapshot {
            case .one(let entry):
                if entry.inbox.id != from { count += 1 }
            case .many(let entries):
                for entry in entries where entry.inbox.id != from {
                    count += 1
                    if count > 1 { return count }
                }
            }
            if count > 1 { return count }
        }
        return count
    }

    /// A message for a single subscriber: its payload bytes of its own, the
    /// rest in `storage`, which every message with the same header shares
    /// (see ``InboundHeaderTemplate``). A message storage would otherwise be
    /// allocated for every message here and freed on the subscriber's thread,
    /// which in glibc means taking the event loop's malloc arena lock once per
    /// message. Only the decode cache is lost, and with one subscriber it has
    /// nothing to save.
    private static func singleRecipientMessage(
        _ inbound: InboundReceiver.InboundMessage, payload: ByteBuffer, storage: MessageStorage?
    ) -> Message {
        if let storage { return Message(storage: storage, ownBytes: payload) }
        let header = inbound.replacingBytes(with: ByteBuffer())
        return Message(
            storage: MessageStorage(topic: header.topic, payload: header.payload, from: header.from, origin: header.origin),
            ownBytes: payload)
    }

    private func append(_ message: consuming Message, to inbox: Inbox) {
        let index = position(of: inbox)
        held[index].messages.append(message)
        heldCount += 1
    }

    /// The position of `inbox` in `inboxes`, adding it if it has none.
    private func position(of inbox: Inbox) -> Int {
        if let last = inboxes.last, last === inbox { return inboxes.count - 1 }
        if inboxes.count <= Self.linearSearchLimit {
            for index in inboxes.indices where inboxes[index] === inbox { return index }
        } else if let index = positions[ObjectIdentifier(inbox)] {
            return index
        }
        let index = inboxes.count
        inboxes.append(inbox)
        if held.count == index { held.append(Held()) }
        if inboxes.count > Self.linearSearchLimit {
            if positions.isEmpty {
                for (position, known) in inboxes.enumerated() { positions[ObjectIdentifier(known)] = position }
            } else {
                positions[ObjectIdentifier(inbox)] = index
            }
        }
        return index
    }
}

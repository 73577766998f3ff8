import NIOCore
import Synchronization

/// One message as a subscriber receives it.
///
/// A `Message` is a reference to storage shared by every subscriber that
/// receives the same broadcast, so handing it to ten thousand subscribers costs
/// ten thousand retains, not ten thousand copies.
///
/// Read the content with ``decode(_:)``: a message broadcast on this node hands
/// back the very value that was broadcast (no encoding at all); a message from
/// another node is decoded with the codec it was encoded with, once per node and
/// type, however many subscribers ask.
public struct Message: Sendable {
    let storage: MessageStorage
    /// The payload's bytes when `storage` is shared by a run of messages that
    /// differ only in their payloads (remote messages of one read burst, each
    /// for a single subscriber; see `InboundBatch`); `storage.payload` then
    /// only says how they are encoded. `nil` when `storage` holds the payload.
    let ownBytes: ByteBuffer?

    init(storage: MessageStorage, ownBytes: ByteBuffer? = nil) {
        self.storage = storage
        self.ownBytes = ownBytes
    }

    /// Creates a message; dispatchers use this to hand subscribers a message of their own making.
    public init(topic: String, payload: Payload, from: SubscriberID? = nil, origin: NodeIdentity) {
        self.storage = MessageStorage(topic: topic, payload: payload, from: from, origin: origin)
        self.ownBytes = nil
    }

    /// The topic the message was broadcast on.
    public var topic: String { storage.topic }

    /// The subscriber that broadcast the message with `from:`, on whichever node it lives.
    public var from: SubscriberID? { storage.from }

    /// The node (and boot) that broadcast the message.
    public var origin: NodeIdentity { storage.origin }

    /// The payload in the form it arrived in.
    public var payload: Payload {
        guard let ownBytes else { return storage.payload }
        return storage.payload.withBytes(ownBytes)
    }

    /// The payload's bytes when it is raw or arrived encoded from another node; `nil` for a local value.
    public var bytes: ByteBuffer? {
        if let ownBytes { return ownBytes }
        switch storage.payload {
        case .value(let value): return (value as? RawBytes)?.buffer
        case .encoded(let buffer, _), .raw(let buffer): return buffer
        }
    }

    /// Returns the payload as a value of type `Value`.
    ///
    /// - Throws: ``MessageDecodingError`` when the payload is not a `Value`.
    public func decode<Value: Decodable & Sendable>(_ type: Value.Type = Value.self) throws(MessageDecodingError) -> Value {
        // A message with bytes of its own has a single subscriber: nothing to cache.
        if let ownBytes { return try MessageStorage.decode(storage.payload.withBytes(ownBytes), as: type) }
        return try storage.decode(type)
    }
}

/// The shared, immutable body of a ``Message``, plus a one-entry decode cache.
final class MessageStorage: Sendable {
    let topic: String
    let payload: Payload
    let from: SubscriberID?
    let origin: NodeIdentity
    // The last decoded value and its type, so N local subscribers of a remote
    // message decode it once. A lock rather than an atomic because the value is
    // an existential; it is taken only by `decode`, never on the broadcast path.
    private let decoded = Mutex<(type: ObjectIdentifier, value: any Sendable)?>(nil)

    init(topic: String, payload: Payload, from: SubscriberID?, origin: NodeIdentity) {
        self.topic = topic
        self.payload = payload
        self.from = from
        self.origin = origin
    }

    func decode<Value: Decodable & Sendable>(_ type: Value.Type) throws(MessageDecodingError) -> Value {
        if case .encoded(let buffer, let codec) = payload {
            let key = ObjectIdentifier(Value.self)
            if let cached = decoded.withLock({ $0 }), cached.type == key, let value = cached.value as? Value {
                return value
            }
            let value = try Self.decode(.encoded(buffer, codec: codec), as: type)
            decoded.withLock { $0 = (key, value) }
            return value
        }
        return try Self.decode(payload, as: type)
    }

    /// Decodes `payload` as a `Value`, without the cache.
    static func decode<Value: Decodable & Sendable>(_ payload: Payload, as type: Value.Type) throws(MessageDecodingError)
        -> Value
    {
        switch payload {
        case .value(let value):
            guard let typed = value as? Value else {
                throw .typeMismatch(expected: "\(Value.self)", actual: "\(Swift.type(of: value))")
            }
            return typed
        case .raw(let buffer):
            if let raw = RawBytes(buffer) as? Value { return raw }
            if let bytes = Array(buffer.readableBytesView) as? Value { return bytes }
            throw .typeMismatch(expected: "\(Value.self)", actual: "RawBytes")
        case .encoded(let buffer, let codec):
            do {
                return try codec.decode(Value.self, from: buffer)
            } catch {
                throw .decodingFailed(codec: codec.name, type: "\(Value.self)", reason: "\(error)")
            }
        }
    }
}

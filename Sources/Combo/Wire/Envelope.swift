import NIOCore

/// The one wire format of every adapter: a message between nodes.
///
/// `docs/WIRE.md` documents it byte by byte so that programs in other languages
/// can publish into a cluster. In short, big-endian:
///
/// ```
/// "C" "B" | version u8 | kind u8 | flags u8 | codec u8 | shard u16
/// origin name (u8 length + UTF-8) | origin incarnation u64
/// target name (u8 length + UTF-8; 0 for a broadcast)
/// topic (u16 length + UTF-8) | dispatcher (u8 length + UTF-8; 0 = default)
/// [flags bit 0] from: name (u8 length + UTF-8), incarnation u64, sequence u64
/// payload (u32 length + bytes)
/// ```
public struct Envelope: Sendable, Hashable {
    /// The wire version this node writes and reads.
    public static let version: UInt8 = 1
    /// The two bytes every envelope starts with.
    public static let magic: (UInt8, UInt8) = (0x43, 0x42)
    /// The largest envelope accepted unless configured otherwise: 16 MiB.
    public static let defaultMaximumSize = 16 * 1024 * 1024

    static let fromFlag: UInt8 = 0b0000_0001

    /// What the receiver does with it.
    public var kind: EnvelopeKind
    /// The lane the sender chose; see ``PubSub/Configuration/broadcastPoolSize``.
    public var shard: UInt16
    /// The node boot that sent it.
    public var origin: NodeIdentity
    /// The node a direct envelope is for; `nil` for a broadcast.
    public var target: NodeName?
    /// The topic.
    public var topic: String
    /// The registered name of the dispatcher to run, `nil` for the built-in default.
    public var dispatcher: String?
    /// The sending subscriber, for `broadcast(_:to:from:)`.
    public var from: SubscriberID?
    /// The ``PayloadCodec/id`` of the payload (0 for raw bytes).
    public var codec: UInt8
    /// The encoded payload.
    public var payload: ByteBuffer

    /// Creates an envelope.
    public init(
        kind: EnvelopeKind,
        shard: UInt16,
        origin: NodeIdentity,
        target: NodeName? = nil,
        topic: String,
        dispatcher: String? = nil,
        from: SubscriberID? = nil,
        codec: UInt8,
        payload: ByteBuffer
    ) {
        self.kind = kind
        self.shard = shard
        self.origin = origin
        self.target = target
        self.topic = topic
        self.dispatcher = dispatcher
        self.from = from
        self.codec = codec
        self.payload = payload
    }

    /// Appends the envelope's bytes to `buffer`.
    ///
    /// - Throws: ``EnvelopeError/fieldTooLong(field:length:limit:)`` when the
    ///   topic or dispatcher name does not fit its length prefix,
    ///   ``EnvelopeError/targetMismatch(kind:)`` when the target does not fit the kind.
    public func encode(into buffer: inout ByteBuffer) throws(EnvelopeError) {
        let payloadLength = payload.readableBytes
        guard payloadLength <= UInt32.max else {
            throw .fieldTooLong(field: "payload", length: payloadLength, limit: Int(UInt32.max))
        }
        try Self.writeHeader(
            kind: kind, shard: shard, origin: origin, target: target, topic: topic,
            dispatcher: dispatcher, from: from, codec: codec, into: &buffer
        )
        buffer.writeInteger(UInt32(payloadLength))
        buffer.writeImmutableBuffer(payload)
    }

    /// The envelope's bytes in a new buffer.
    public func encoded() throws(EnvelopeError) -> ByteBuffer {
        var buffer = ByteBuffer()
        try encode(into: &buffer)
        return buffer
    }

    /// Writes everything up to the payload length, and the length too when given.
    static func writeHeader(
        kind: EnvelopeKind,
        shard: UInt16,
        origin: NodeIdentity,
        target: NodeName?,
        topic: String,
        dispatcher: String?,
        from: SubscriberID?,
        codec: UInt8,
        encodedOrigin: [UInt8]? = nil,
        payloadLength: UInt32? = nil,
        into buffer: inout ByteBuffer
    ) throws(EnvelopeError) {
        guard (kind == .direct) == (target != nil) else { throw .targetMismatch(kind: kind) }
        let topicLength = topic.utf8.count
        guard topicLength <= UInt16.max else {
            throw .fieldTooLong(field: "topic", length: topicLength, limit: Int(UInt16.max))
        }
        let dispatcherLength = dispatcher?.utf8.count ?? 0
        guard dispatcherLength <= UInt8.max else {
            throw .fieldTooLong(field: "dispatcher", length: dispatcherLength, limit: Int(UInt8.max))
        }
        // Node names are at most 255 bytes by construction.
        let targetLength = target?.rawValue.utf8.count ?? 0
        let fromLength = from.map { 1 + $0.node.name.rawValue.utf8.count + 16 } ?? 0
        let originBytes = encodedOrigin ?? encodeOrigin(origin)
        let size = 8 + originBytes.count + 1 + targetLength + 2 + topicLength + 1 + dispatcherLength + fromLength
            + (payloadLength == nil ? 0 : 4)
        buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: size) { memory in
            var writer = EnvelopeHeaderWriter(memory)
            writer.write(magic.0)
            writer.write(magic.1)
            writer.write(version)
            writer.write(kind.rawValue)
            writer.write(from == nil ? 0 : fromFlag)
            writer.write(codec)
            writer.write(shard)
            originBytes.withUnsafeBytes { writer.write($0) }
            writer.write(UInt8(truncatingIfNeeded: targetLength))
            if let target { writer.write(target.rawValue) }
            writer.write(UInt16(topicLength))
            writer.write(topic)
            writer.write(UInt8(truncatingIfNeeded: dispatcherLength))
            if let dispatcher { writer.write(dispatcher) }
            if let from {
                let name = from.node.name.rawValue
                writer.write(UInt8(truncatingIfNeeded: name.utf8.count))
                writer.write(name)
                writer.write(from.node.incarnation.rawValue)
                writer.write(from.sequence)
            }
            if let payloadLength { writer.write(payloadLength) }
            precondition(writer.offset == size, "envelope header size miscounted")
            return size
        }
    }

    /// The origin fields (name and incarnation) as they appear on the wire; a
    /// ``PubSub`` encodes its own once and reuses it for every envelope.
    static func encodeOrigin(_ origin: NodeIdentity) -> [UInt8] {
        var bytes = [UInt8]()
        bytes.append(UInt8(truncatingIfNeeded: origin.name.rawValue.utf8.count))
        bytes.append(contentsOf: origin.name.rawValue.utf8)
        withUnsafeBytes(of: origin.incarnation.rawValue.bigEndian) { bytes.append(contentsOf: $0) }
        return bytes
    }
}

extension Envelope {
    /// Decodes one envelope that spans all readable bytes of `buffer`.
    ///
    /// The payload is a slice of `buffer`: nothing is copied.
    ///
    /// - Throws: ``EnvelopeError`` for anything but a well-formed envelope of
    ///   this wire version no larger than `maximumSize`.
    public init(decoding buffer: ByteBuffer, maximumSize: Int = Envelope.defaultMaximumSize) throws(EnvelopeError) {
        var cache = EnvelopeDecodingCache()
        try self.init(decoding: buffer, maximumSize: maximumSize, cache: &cache)
    }

    /// Decodes an envelope, reusing the origin name and topic of the previous
    /// envelope decoded with `cache` when their bytes are the same: a
    /// connection's envelopes mostly share both, and making and validating the
    /// strings is a large part of decoding a small envelope.
    init(decoding buffer: ByteBuffer, maximumSize: Int, cache: inout EnvelopeDecodingCache) throws(EnvelopeError) {
        guard buffer.readableBytes <= maximumSize else {
            throw .oversized(size: buffer.readableBytes, limit: maximumSize)
        }
        var reader = buffer
        guard let (magic0, magic1) = reader.readMultipleIntegers(as: (UInt8, UInt8).self) else {
            throw .truncated(field: "magic")
        }
        guard magic0 == Self.magic.0, magic1 == Self.magic.1 else { throw .badMagic }
        guard let version = reader.readInteger(as: UInt8.self) else { throw .truncated(field: "version") }
        guard version == Self.version else { throw .unsupportedVersion(version) }
        guard let (kindByte, flags, codec, shard) = reader.readMultipleIntegers(as: (UInt8, UInt8, UInt8, UInt16).self)
        else { throw .truncated(field: "header") }
        let kind = EnvelopeKind(rawValue: kindByte)
        guard kind.isKnown else { throw .unknownKind(kindByte) }
        guard flags & ~Self.fromFlag == 0 else { throw .reservedFlags(flags) }

        let originName = try Self.readOriginName(&reader, cache: &cache)
        guard let originIncarnation = reader.readInteger(as: UInt64.self) else {
            throw .truncated(field: "origin incarnation")
        }
        let targetText = try Self.readString(&reader, lengthBytes: 1, field: "target")
        let target: NodeName?
        if targetText.isEmpty {
            target = nil
        } else {
            target = try Self.validateNodeName(targetText, field: "target")
        }
        guard (kind == .direct) == (target != nil) else { throw .targetMismatch(kind: kind) }
        let topic = try Self.readTopic(&reader, cache: &cache)
        let dispatcher = try Self.readString(&reader, lengthBytes: 1, field: "dispatcher")

        var from: SubscriberID?
        if flags & Self.fromFlag != 0 {
            let fromName = try Self.readNodeName(&reader, field: "from")
            guard let (incarnation, sequence) = reader.readMultipleIntegers(as: (UInt64, UInt64).self) else {
                throw .truncated(field: "from")
            }
            from = SubscriberID(
                node: NodeIdentity(name: fromName, incarnation: Incarnation(rawValue: incarnation)),
                sequence: sequence
            )
        }

        guard let payloadLength = reader.readInteger(as: UInt32.self) else { throw .truncated(field: "payload length") }
        guard let payload = reader.readSlice(length: Int(payloadLength)) else { throw .truncated(field: "payload") }
        guard reader.readableBytes == 0 else { throw .trailingBytes(reader.readableBytes) }

        self.init(
            kind: kind,
            shard: shard,
            origin: NodeIdentity(name: originName, incarnation: Incarnation(rawValue: originIncarnation)),
            target: target,
            topic: topic,
            dispatcher: dispatcher.isEmpty ? nil : dispatcher,
            from: from,
            codec: codec,
            payload: payload
        )
    }

    private static func readString(_ reader: inout ByteBuffer, lengthBytes: Int, field: String) throws(EnvelopeError) -> String {
        let length: Int?
        if lengthBytes == 1 {
            length = reader.readInteger(as: UInt8.self).map(Int.init)
        } else {
            length = reader.readInteger(as: UInt16.self).map(Int.init)
        }
        guard let length else { throw .truncated(field: field) }
        if length == 0 { return "" }
        guard let bytes = reader.readSlice(length: length) else { throw .truncated(field: field) }
        guard let text = String(validating: bytes.readableBytesView, as: UTF8.self) else {
            throw .invalidUTF8(field: field)
        }
        return text
    }

    private static func readOriginName(_ reader: inout ByteBuffer, cache: inout EnvelopeDecodingCache)
        throws(EnvelopeError) -> NodeName
    {
        guard let length = reader.getInteger(at: reader.readerIndex, as: UInt8.self) else {
            throw .truncated(field: "origin")
        }
        if let cached = cache.origin, let bytes = reader.getSlice(at: reader.readerIndex + 1, length: Int(length)),
            bytes == cached.bytes
        {
            reader.moveReaderIndex(forwardBy: 1 + Int(length))
            return cached.name
        }
        let name = try readNodeName(&reader, field: "origin")
        cache.origin = (ByteBuffer(string: name.rawValue), name)
        return name
    }

    private static func readTopic(_ reader: inout ByteBuffer, cache: inout EnvelopeDecodingCache)
        throws(EnvelopeError) -> String
    {
        guard let length = reader.getInteger(at: reader.readerIndex, as: UInt16.self) else {
            throw .truncated(field: "topic")
        }
        if let cached = cache.topic, let bytes = reader.getSlice(at: reader.readerIndex + 2, length: Int(length)),
            bytes == cached.bytes
        {
            reader.moveReaderIndex(forwardBy: 2 + Int(length))
            return cached.text
        }
        let topic = try readString(&reader, lengthBytes: 2, field: "topic")
        cache.topic = (ByteBuffer(string: topic), topic)
        return topic
    }

    private static func readNodeName(_ reader: inout ByteBuffer, field: String) throws(EnvelopeError) -> NodeName {
        try validateNodeName(try readString(&reader, lengthBytes: 1, field: field), field: field)
    }

    private static func validateNodeName(_ text: String, field: String) throws(EnvelopeError) -> NodeName {
        do {
            return try NodeName(text)
        } catch {
            throw .invalidNodeName(field: field, reason: error)
        }
    }
}

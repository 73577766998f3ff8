import NIOCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The header of the last envelope a source accepted (every byte before the
/// payload length) and what it decoded to, so that the next envelope with the
/// same header bytes is read with one comparison instead of field by field.
///
/// A connection's traffic mostly repeats one header: the same origin, topic,
/// kind, shard, codec, dispatcher and sender. Everything decoding and
/// preparing an envelope checks (well-formed fields, the origin being another
/// node, the target being this node, a known codec and dispatcher) depends on
/// those bytes alone, so an accepted header is accepted again; only the
/// envelope's size and its payload length are checked anew. A rejected
/// envelope never becomes a template.
///
/// Holds its own copy of the bytes, never a slice of a received buffer, so it
/// keeps no read buffer alive. A class, so that matching an envelope against
/// it copies none of its fields.
final class InboundHeaderTemplate {
    private let header: [UInt8]
    /// What envelopes with this header decode to; a message's payload is
    /// empty here, each match supplies its own.
    let outcome: InboundReceiver.Inbound
    /// The storage that messages with this header share when each goes to a
    /// single subscriber (see `Message.ownBytes`); `nil` for an echo.
    let singleRecipientStorage: MessageStorage?
    /// Whether the header's messages go to the default dispatcher: the
    /// common path, which reads ``topic`` and ``from`` below rather than
    /// copying `outcome`.
    let isDefaultDispatch: Bool
    /// The header's topic (empty for an echo).
    let topic: String
    /// The header's sending subscriber.
    let from: SubscriberID?

    /// A template from an accepted envelope (`bytes`, all of it) and what it
    /// was prepared as; `nil` when the payload does not end the envelope.
    init?(envelope bytes: ByteBuffer, payloadLength: Int, outcome: InboundReceiver.Inbound) {
        let headerLength = bytes.readableBytes - 4 - payloadLength
        guard headerLength > 0, let header = bytes.getBytes(at: bytes.readerIndex, length: headerLength) else {
            return nil
        }
        self.header = header
        switch outcome {
        case .ownEcho:
            self.outcome = .ownEcho
            self.singleRecipientStorage = nil
            self.isDefaultDispatch = false
            self.topic = ""
            self.from = nil
        case .message(let message, let dispatcher):
            let empty = message.replacingBytes(with: ByteBuffer())
            self.outcome = .message(empty, dispatcher: dispatcher)
            self.singleRecipientStorage = MessageStorage(
                topic: empty.topic, payload: empty.payload, from: empty.from, origin: empty.origin)
            self.isDefaultDispatch = dispatcher == nil
            self.topic = empty.topic
            self.from = empty.from
        }
    }

    /// The payload of `bytes` when its header is this template's and its
    /// payload, as its length says, ends it within `maximumSize`; otherwise
    /// `nil`, and the envelope is decoded field by field.
    func payload(of bytes: ByteBuffer, maximumSize: Int) -> ByteBuffer? {
        guard let offset = payloadOffset(in: bytes, maximumSize: maximumSize) else { return nil }
        return bytes.getSlice(at: bytes.readerIndex + offset, length: bytes.readableBytes - offset)
    }

    /// Where the payload of `bytes` starts, from its reader index, when
    /// ``payload(of:maximumSize:)`` would return it; the payload runs to the end.
    func payloadOffset(in bytes: ByteBuffer, maximumSize: Int) -> Int? {
        let total = bytes.readableBytes
        let headerLength = header.count
        guard total <= maximumSize, total >= headerLength + 4 else { return nil }
        let matches = bytes.withUnsafeReadableBytes { envelope in
            header.withUnsafeBytes { expected in
                guard memcmp(envelope.baseAddress!, expected.baseAddress!, headerLength) == 0 else { return false }
                let length = UInt32(bigEndian: envelope.loadUnaligned(fromByteOffset: headerLength, as: UInt32.self))
                return Int(length) == total - headerLength - 4
            }
        }
        return matches ? headerLength + 4 : nil
    }

    /// What `bytes` decodes to when ``payload(of:maximumSize:)`` matches it.
    func match(_ bytes: ByteBuffer, maximumSize: Int) -> InboundReceiver.Inbound? {
        guard let payload = payload(of: bytes, maximumSize: maximumSize) else { return nil }
        switch outcome {
        case .ownEcho:
            return .ownEcho
        case .message(let message, let dispatcher):
            return .message(message.replacingBytes(with: payload), dispatcher: dispatcher)
        }
    }
}

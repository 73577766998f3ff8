import NIOCore

/// The byte form of tracker messages, documented in docs/WIRE.md ("Tracker
/// messages"): magic `CT`, a version, a kind, the sender, then the kind's body.
extension TrackerMessage {
    static let magic: (UInt8, UInt8) = (0x43, 0x54)
    static let version: UInt8 = 1

    private enum Kind: UInt8 {
        case heartbeat = 1
        case transferRequest = 2
        case transferAck = 3
        case gracefulPermdown = 4
    }

    /// The kind byte of a ``TrackerChunk``, which carries a piece of an encoded
    /// message rather than a message.
    static let chunkKind: UInt8 = 5

    /// A short label for logs and metrics.
    var kindLabel: String {
        switch self {
        case .heartbeat(_, let delta, _): delta == nil ? "heartbeat_empty" : "heartbeat"
        case .transferRequest: "transfer_req"
        case .transferAck: "transfer_ack"
        case .gracefulPermdown: "graceful_permdown"
        }
    }

    /// Encodes the message.
    func encoded(allocator: ByteBufferAllocator = ByteBufferAllocator()) -> ByteBuffer {
        var buffer = allocator.buffer(capacity: 64)
        buffer.writeInteger(Self.magic.0)
        buffer.writeInteger(Self.magic.1)
        buffer.writeInteger(Self.version)
        switch self {
        case .heartbeat(let sender, let delta, let clocks):
            buffer.writeInteger(Kind.heartbeat.rawValue)
            Self.writeSender(sender, into: &buffer)
            if let delta {
                buffer.writeInteger(UInt8(1))
                buffer.writeTrackerDelta(delta)
            } else {
                buffer.writeInteger(UInt8(0))
            }
            buffer.writeVersionVector(clocks)
        case .transferRequest(let ref, let sender, let clocks):
            buffer.writeInteger(Kind.transferRequest.rawValue)
            Self.writeSender(sender, into: &buffer)
            buffer.writeInteger(ref)
            buffer.writeVersionVector(clocks)
        case .transferAck(let ref, let sender, let payload):
            buffer.writeInteger(Kind.transferAck.rawValue)
            Self.writeSender(sender, into: &buffer)
            buffer.writeInteger(ref)
            buffer.writeTrackerPayload(payload)
        case .gracefulPermdown(let sender):
            buffer.writeInteger(Kind.gracefulPermdown.rawValue)
            Self.writeSender(sender, into: &buffer)
        }
        return buffer
    }

    /// Decodes one message that fills `buffer` exactly.
    static func decode(_ buffer: ByteBuffer) throws(TrackerMessageError) -> TrackerMessage {
        var buffer = buffer
        guard let first = buffer.readInteger(as: UInt8.self), let second = buffer.readInteger(as: UInt8.self),
            let version = buffer.readInteger(as: UInt8.self), let rawKind = buffer.readInteger(as: UInt8.self)
        else {
            throw .truncated
        }
        guard (first, second) == magic else { throw .badMagic }
        guard version == Self.version else { throw .unsupportedVersion(version) }
        guard let kind = Kind(rawValue: rawKind) else { throw .unknownKind(rawKind) }
        let sender = try readSender(from: &buffer)
        let message: TrackerMessage
        do {
            switch kind {
            case .heartbeat:
                guard let hasDelta = buffer.readInteger(as: UInt8.self), hasDelta <= 1 else { throw TrackerMessageError.truncated }
                let delta = hasDelta == 1 ? try buffer.readTrackerDelta() : nil
                message = .heartbeat(sender: sender, delta: delta, clocks: try buffer.readVersionVector())
            case .transferRequest:
                guard let ref = buffer.readInteger(as: UInt64.self) else { throw TrackerMessageError.truncated }
                message = .transferRequest(ref: ref, sender: sender, clocks: try buffer.readVersionVector())
            case .transferAck:
                guard let ref = buffer.readInteger(as: UInt64.self) else { throw TrackerMessageError.truncated }
                message = .transferAck(ref: ref, sender: sender, payload: try buffer.readTrackerPayload())
            case .gracefulPermdown:
                message = .gracefulPermdown(sender: sender)
            }
        } catch let error as TrackerMessageError {
            throw error
        } catch let error as TrackerWireError {
            throw .payload(error)
        } catch {
            throw .truncated
        }
        guard buffer.readableBytes == 0 else { throw .trailingBytes(buffer.readableBytes) }
        return message
    }

    static func writeSender(_ sender: NodeIdentity, into buffer: inout ByteBuffer) {
        let name = sender.name.rawValue.utf8
        buffer.writeInteger(UInt8(name.count))
        buffer.writeBytes(name)
        buffer.writeInteger(sender.incarnation.rawValue)
    }

    static func readSender(from buffer: inout ByteBuffer) throws(TrackerMessageError) -> NodeIdentity {
        guard let length = buffer.readInteger(as: UInt8.self) else { throw .truncated }
        guard let text = buffer.readString(length: Int(length)), let incarnation = buffer.readInteger(as: UInt64.self) else {
            throw .truncated
        }
        guard let name = try? NodeName(text) else { throw .invalidSender }
        return NodeIdentity(name: name, incarnation: Incarnation(rawValue: incarnation))
    }
}

import Combo

/// The header that follows a message's topic (see ``ZMQTopics``):
///
/// ```
/// version u8 (1) | kind u8 | sender name length u8 (1...255) | sender name (UTF-8)
/// sender incarnation u64 | sequence u64 | body…
/// ```
///
/// Integers are big-endian. The sequence numbers a sender's messages per
/// stream (its broadcasts; its direct messages to one node), from 1, so a
/// receiver counts the messages lost between two it received; 0 means "not
/// numbered". The body of an envelope message is the envelope, to the end of
/// the frame.
struct ZMQFrameHeader {
    static let version: UInt8 = 1

    let kind: ZMQFrameKind
    /// The sender's name bytes, inside the received message.
    let senderName: UnsafeRawBufferPointer
    let incarnation: UInt64
    let sequence: UInt64
    /// Where the body starts in the message.
    let bodyOffset: Int

    /// Parses the header that starts at `offset`.
    static func parse(_ bytes: UnsafeRawBufferPointer, at offset: Int) throws(ZMQFrameError) -> ZMQFrameHeader {
        var reader = ZMQByteReader(bytes, offset: offset)
        guard let version = reader.readUInt8(), let kindByte = reader.readUInt8(), let length = reader.readUInt8() else {
            throw .truncatedHeader
        }
        guard version == Self.version else { throw .unsupportedVersion(version) }
        guard let kind = ZMQFrameKind(rawValue: kindByte) else { throw .unknownKind(kindByte) }
        guard length > 0 else { throw .invalidSender }
        guard let name = reader.readBytes(Int(length)), let incarnation = reader.readUInt64(),
            let sequence = reader.readUInt64()
        else { throw .truncatedHeader }
        guard isValidName(name) else { throw .invalidSender }
        return ZMQFrameHeader(
            kind: kind, senderName: name, incarnation: incarnation, sequence: sequence, bodyOffset: reader.offset
        )
    }

    /// Whether the sender's name bytes are a valid ``NodeName``. Printable
    /// ASCII, the usual case, is checked byte by byte without making a
    /// string (this runs for every message); anything else goes through
    /// `NodeName`'s own rules.
    static func isValidName(_ name: UnsafeRawBufferPointer) -> Bool {
        var printableASCII = true
        for byte in name where byte < 0x20 || byte > 0x7E {
            printableASCII = false
            break
        }
        if printableASCII { return true }
        guard let text = String(validating: name, as: UTF8.self) else { return false }
        return (try? NodeName(text)) != nil
    }

    /// The part of a header that is the same for every message of one sender
    /// and kind: everything up to the sequence number.
    static func prefix(kind: ZMQFrameKind, sender: NodeIdentity) -> [UInt8] {
        let name = Array(sender.name.rawValue.utf8)
        var bytes: [UInt8] = [version, kind.rawValue, UInt8(name.count)] + name
        withUnsafeBytes(of: sender.incarnation.rawValue.bigEndian) { bytes.append(contentsOf: $0) }
        return bytes
    }

    /// The sender as a node identity, when its name is valid (welcomes only:
    /// envelopes are validated by the receiver from their own origin field).
    var sender: NodeIdentity? {
        guard let text = String(validating: senderName, as: UTF8.self), let name = try? NodeName(text) else {
            return nil
        }
        return NodeIdentity(name: name, incarnation: Incarnation(rawValue: incarnation))
    }
}

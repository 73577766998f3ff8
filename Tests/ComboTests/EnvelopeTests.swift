@testable import Combo
import NIOCore
import Testing

@Suite("Wire envelope")
struct EnvelopeTests {
    static let origin = NodeIdentity(name: "n1", incarnation: Incarnation(rawValue: 0x0102_0304_0506_0708))

    static func sample(kind: EnvelopeKind = .broadcast, target: NodeName? = nil, from: SubscriberID? = nil) -> Envelope {
        Envelope(
            kind: kind, shard: 3, origin: origin, target: target, topic: "room:1",
            dispatcher: kind == .direct ? "custom" : nil, from: from, codec: 2,
            payload: ByteBuffer(bytes: [0xA1, 0x61])
        )
    }

    @Test("encodes byte for byte as docs/WIRE.md describes")
    func goldenBytes() throws {
        let bytes = Array(try Self.sample().encoded().readableBytesView)
        let expected: [UInt8] = [
            0x43, 0x42, 1, 1, 0, 2, 0, 3,  // magic, version, kind, flags, codec, shard
            2, 0x6E, 0x31,  // origin "n1"
            1, 2, 3, 4, 5, 6, 7, 8,  // incarnation
            0,  // no target
            0, 6, 0x72, 0x6F, 0x6F, 0x6D, 0x3A, 0x31,  // topic "room:1"
            0,  // default dispatcher
            0, 0, 0, 2, 0xA1, 0x61,  // payload
        ]
        #expect(bytes == expected)
    }

    @Test("round-trips broadcasts and direct envelopes with every field")
    func roundTrip() throws {
        let from = SubscriberID(node: NodeIdentity(name: "n2", incarnation: Incarnation(rawValue: 9)), sequence: 77)
        for envelope in [Self.sample(), Self.sample(from: from), Self.sample(kind: .direct, target: "n3", from: from)] {
            let decoded = try Envelope(decoding: try envelope.encoded())
            #expect(decoded == envelope)
        }
    }

    @Test("every truncation is a typed error")
    func truncations() throws {
        let from = SubscriberID(node: Self.origin, sequence: 1)
        let full = Array(try Self.sample(kind: .direct, target: "n3", from: from).encoded().readableBytesView)
        for length in 0..<full.count {
            #expect(throws: EnvelopeError.self) { try Envelope(decoding: ByteBuffer(bytes: full[0..<length])) }
        }
    }

    @Test("rejects a wrong magic, version, kind or flag")
    func headerErrors() throws {
        let valid = Array(try Self.sample().encoded().readableBytesView)
        func decode(patching index: Int, with byte: UInt8) -> EnvelopeError? {
            var bytes = valid
            bytes[index] = byte
            do {
                _ = try Envelope(decoding: ByteBuffer(bytes: bytes))
                return nil
            } catch {
                return error
            }
        }
        #expect(decode(patching: 0, with: 0x00) == .badMagic)
        #expect(decode(patching: 2, with: 2) == .unsupportedVersion(2))
        #expect(decode(patching: 3, with: 9) == .unknownKind(9))
        #expect(decode(patching: 4, with: 0x80) == .reservedFlags(0x80))
        #expect(decode(patching: 3, with: EnvelopeKind.direct.rawValue) == .targetMismatch(kind: .direct))
    }

    @Test("rejects oversized input before parsing it")
    func oversized() throws {
        let bytes = try Self.sample().encoded()
        #expect(throws: EnvelopeError.oversized(size: bytes.readableBytes, limit: 10)) {
            try Envelope(decoding: bytes, maximumSize: 10)
        }
    }

    @Test("rejects trailing bytes, invalid UTF-8 and invalid node names")
    func contentErrors() throws {
        var trailing = try Self.sample().encoded()
        trailing.writeInteger(UInt8(0))
        #expect(throws: EnvelopeError.trailingBytes(1)) { try Envelope(decoding: trailing) }

        var badTopic = Array(try Self.sample().encoded().readableBytesView)
        badTopic[22] = 0xFF  // first byte of the topic
        #expect(throws: EnvelopeError.invalidUTF8(field: "topic")) { try Envelope(decoding: ByteBuffer(bytes: badTopic)) }

        var badName = Array(try Self.sample().encoded().readableBytesView)
        badName[9] = 0x07  // a control character in the origin name
        #expect(throws: EnvelopeError.invalidNodeName(field: "origin", reason: .controlCharacter)) {
            try Envelope(decoding: ByteBuffer(bytes: badName))
        }
    }

    @Test("refuses to encode fields that do not fit")
    func encodingLimits() {
        var envelope = Self.sample()
        envelope.topic = String(repeating: "t", count: 70_000)
        #expect(throws: EnvelopeError.fieldTooLong(field: "topic", length: 70_000, limit: 65_535)) { try envelope.encoded() }
        envelope = Self.sample(kind: .direct)
        #expect(throws: EnvelopeError.targetMismatch(kind: .direct)) { try envelope.encoded() }
    }

    @Test("random and mutated input never crashes the decoder")
    func fuzz() throws {
        var generator = SeededGenerator(seed: 7)
        let valid = Array(try Self.sample(kind: .direct, target: "n3", from: SubscriberID(node: Self.origin, sequence: 5)).encoded().readableBytesView)
        var accepted = 0
        for round in 0..<20_000 {
            var bytes: [UInt8]
            if round % 2 == 0 {
                bytes = (0..<Int(generator.next() % 96)).map { _ in UInt8(truncatingIfNeeded: generator.next()) }
            } else {
                bytes = valid
                for _ in 0..<(1 + Int(generator.next() % 4)) {
                    bytes[Int(generator.next() % UInt64(bytes.count))] = UInt8(truncatingIfNeeded: generator.next())
                }
            }
            if (try? Envelope(decoding: ByteBuffer(bytes: bytes))) != nil { accepted += 1 }
        }
        // Mutations of payload bytes stay valid; nothing else matters but not crashing.
        #expect(accepted < 20_000)
    }
}

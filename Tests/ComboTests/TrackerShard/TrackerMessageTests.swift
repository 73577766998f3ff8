import NIOCore
import Testing
@testable import Combo

@Suite("Tracker messages on the wire")
struct TrackerMessageTests {
    let sender = NodeIdentity(name: "node-a", incarnation: Incarnation(rawValue: 0x0102_0304_0506_0708))

    func sampleMessages() throws -> [TrackerMessage] {
        var state = TrackerState(replica: sender)
        let owner = PresenceOwnerID(node: sender, sequence: 7)
        try state.join(owner: owner, topic: "room", key: "alice", meta: PresenceMeta(ref: .random(), values: ["n": 1]))
        let taken = state.takeDelta()
        let delta = try #require(taken)
        let clocks = state.clocks
        let remote = NodeIdentity(name: "node-b", incarnation: Incarnation(rawValue: 9))
        return [
            .heartbeat(sender: sender, delta: delta, clocks: clocks),
            .heartbeat(sender: sender, delta: nil, clocks: clocks),
            .transferRequest(ref: 42, sender: sender, clocks: clocks),
            .transferAck(ref: 42, sender: sender, payload: .full(state.extract(for: remote, remoteContext: VersionVector()))),
            .transferAck(ref: 43, sender: sender, payload: .delta(delta)),
            .gracefulPermdown(sender: sender),
        ]
    }

    @Test("every kind round-trips")
    func roundTrip() throws {
        for message in try sampleMessages() {
            #expect(try TrackerMessage.decode(message.encoded()) == message)
        }
    }

    @Test("the header is as documented")
    func header() {
        let bytes = Array(TrackerMessage.gracefulPermdown(sender: sender).encoded().readableBytesView)
        #expect(bytes == [0x43, 0x54, 1, 4, 6] + Array("node-a".utf8) + [1, 2, 3, 4, 5, 6, 7, 8])
    }

    @Test("malformed messages get typed errors")
    func rejections() throws {
        func decode(_ bytes: [UInt8]) -> TrackerMessageError? {
            do {
                _ = try TrackerMessage.decode(ByteBuffer(bytes: bytes))
                return nil
            } catch {
                return error
            }
        }
        let valid = Array(TrackerMessage.gracefulPermdown(sender: sender).encoded().readableBytesView)
        #expect(decode([]) == .truncated)
        #expect(decode([0x43, 0x55, 1, 4]) == .badMagic)
        #expect(decode([0x43, 0x54, 2, 4]) == .unsupportedVersion(2))
        #expect(decode([0x43, 0x54, 1, 9]) == .unknownKind(9))
        #expect(decode(Array(valid.dropLast())) == .truncated)
        #expect(decode(valid + [0]) == .trailingBytes(1))
        #expect(decode([0x43, 0x54, 1, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0]) == .invalidSender)
        var heartbeat = Array(try sampleMessages()[0].encoded().readableBytesView)
        heartbeat[4 + 1 + 6 + 8] = 7
        #expect(decode(heartbeat) == .truncated, "a delta flag other than 0 or 1")
    }

    @Test("random, truncated and mutated bytes never crash the decoder")
    func fuzz() throws {
        var generator = SplitMix(seed: 0xC0FFEE)
        let samples = try sampleMessages().map { Array($0.encoded().readableBytesView) }
        var decoded = 0
        for round in 0..<20_000 {
            var bytes = samples[round % samples.count]
            switch round % 3 {
            case 0:
                bytes = bytes.prefix(Int(generator.next() % UInt64(bytes.count + 1))).map { $0 }
            case 1:
                for _ in 0..<(1 + Int(generator.next() % 4)) {
                    bytes[Int(generator.next() % UInt64(bytes.count))] = UInt8(truncatingIfNeeded: generator.next())
                }
            default:
                bytes = (0..<Int(generator.next() % 64)).map { _ in UInt8(truncatingIfNeeded: generator.next()) }
            }
            if (try? TrackerMessage.decode(ByteBuffer(bytes: bytes))) != nil { decoded += 1 }
        }
        // Some mutations land in values and still decode; most must not.
        #expect(decoded < 20_000 / 2)
    }
}

/// A small deterministic generator for the fuzz test.
struct SplitMix {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

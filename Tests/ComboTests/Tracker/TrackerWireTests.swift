@testable import Combo
import NIOCore
import PropertyBased
import Testing

@Suite("Tracker state payloads on the wire")
struct TrackerWireTests {
    typealias F = TrackerFixture

    /// The replica of the worked example.
    static let n1 = F.node("n1", 1)

    /// The delta of docs/WIRE.md's worked example.
    static let exampleDelta = TrackerDelta(
        origin: n1, start: [n1: 0], end: [n1: 2],
        values: [
            n1: [
                PresenceEntry(
                    clock: 2, ownerSequence: 7, topic: "room:1", key: "u1",
                    meta: PresenceMeta(ref: PresenceRef(rawValue: 0x0102_0304_0506_0708), values: ["s": "on"])
                )
            ]
        ]
    )

    /// The worked example's bytes.
    static let exampleBytes: [UInt8] = [
        0x01, 0x01,  // version 1, kind delta
        0x01, 0x02, 0x6E, 0x31, 0, 0, 0, 0, 0, 0, 0, 0x01,  // 1 replica: "n1", incarnation 1
        0x00,  // origin: replica 0
        0x01, 0x06, 0x72, 0x6F, 0x6F, 0x6D, 0x3A, 0x31,  // 1 topic: "room:1"
        0x01, 0x00, 0x00, 0x02,  // 1 range: replica 0, after clock 0 up to clock 2
        0x00,  // no dots outside the range
        0x01, 0x00, 0x01,  // 1 value group: replica 0, 1 entry
        0x02, 0x07, 0x00, 0x02, 0x75, 0x31,  // clock 2, owner 7, topic 0, key "u1"
        0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x00,  // ref, no previous ref
        0x01, 0x01, 0x73, 0x05, 0x02, 0x6F, 0x6E,  // 1 value: "s" = string "on"
    ]

    /// A payload's bytes.
    static func encode(_ payload: TrackerPayload) -> [UInt8] {
        var buffer = ByteBuffer()
        buffer.writeTrackerPayload(payload)
        return Array(buffer.readableBytesView)
    }

    /// Decodes bytes as a payload.
    static func decode(_ bytes: [UInt8]) throws(TrackerWireError) -> TrackerPayload {
        var buffer = ByteBuffer(bytes: bytes)
        return try buffer.readTrackerPayload()
    }

    /// The error decoding `bytes` raises, if any.
    static func decodeError(_ bytes: [UInt8]) -> TrackerWireError? {
        do {
            _ = try decode(bytes)
            return nil
        } catch {
            return error
        }
    }

    /// A state with presences of three replicas, updates and removals, and a gap in one cloud.
    static func busyState() throws -> (TrackerState, TrackerState) {
        var states = F.connected(["a", "b", "c"])
        var a = states.removeFirst()
        var b = states.removeFirst()
        var c = states.removeFirst()
        for index in 0..<20 {
            a.track(UInt64(index % 4), "room:\(index % 3)", "user:\(index)", ["n": .int(Int64(index) - 10)])
            b.track(UInt64(index), "lobby", "b\(index)", ["bytes": .bytes([UInt8(index), 0, 255])])
        }
        try a.update(owner: F.owner(a.replica, 1), topic: "room:1", key: "user:1", meta: F.meta(5, ["x": 1.5], previous: 4))
        a.untrack(2, "room:2", "user:2")
        c.merge(b.pendingDelta)
        _ = b.takeDelta()
        b.untrack(3, "lobby", "b3")
        _ = b.takeDelta()
        b.untrack(4, "lobby", "b4")
        c.merge(b.pendingDelta)
        c.merge(a.transfer(for: c))
        return (a, c)
    }

    @Test("the worked example encodes byte for byte as docs/WIRE.md shows")
    func goldenDelta() throws {
        #expect(Self.encode(.delta(Self.exampleDelta)) == Self.exampleBytes)
        #expect(try Self.decode(Self.exampleBytes) == .delta(Self.exampleDelta))
    }

    @Test("deltas, transfers and their parts round-trip")
    func roundTrips() throws {
        let (a, c) = try Self.busyState()
        #expect(!c.clouds.isEmpty)
        let transfer = c.extract(for: F.node("z"), remoteContext: c.context)
        #expect(transfer.count > 30)
        #expect(try F.roundTrip(.full(transfer)) == .full(transfer))
        let delta = a.pendingDelta
        #expect(try F.roundTrip(.delta(delta)) == .delta(delta))
        let merged = try delta.merging(c.pendingDelta)
        #expect(!merged.dots.isEmpty)
        #expect(try F.roundTrip(.delta(merged)) == .delta(merged))

        var buffer = ByteBuffer()
        buffer.writeVersionVector(c.context)
        buffer.writeVersionVector(VersionVector())
        buffer.writeTrackerDelta(delta)
        buffer.writeTrackerTransfer(transfer)
        #expect(try buffer.readVersionVector() == c.context)
        #expect(try buffer.readVersionVector() == VersionVector())
        #expect(try buffer.readTrackerDelta() == delta)
        #expect(try buffer.readTrackerTransfer() == transfer)
        #expect(buffer.readableBytes == 0)
    }

    @Test("every kind of presence value round-trips, bytes as bytes")
    func metaRoundTrip() throws {
        let values: [String: PresenceValue] = [
            "null": nil, "yes": true, "no": false, "zero": 0, "min": .int(.min), "max": .int(.max), "neg": -1,
            "pi": 3.141_592_653_589_793, "inf": .double(-.infinity), "tiny": .double(.leastNonzeroMagnitude),
            "text": "héllo wörld 🎉", "empty": "", "bytes": .bytes([0, 1, 2, 255]), "noBytes": .bytes([]),
            "list": [1, "two", [3.0, nil], ["k": false]], "map": ["inner": ["deeper": .bytes([9])]], "": "empty name",
        ]
        for meta in [
            PresenceMeta(ref: PresenceRef(rawValue: .max), previousRef: PresenceRef(rawValue: 0), values: values),
            PresenceMeta(ref: PresenceRef(rawValue: 42)),
        ] {
            var buffer = ByteBuffer()
            buffer.writePresenceMeta(meta)
            #expect(try buffer.readPresenceMeta() == meta)
            #expect(buffer.readableBytes == 0)
        }
        var nan = ByteBuffer()
        nan.writePresenceValue(.double(.nan))
        guard case .double(let value) = try nan.readPresenceValue() else {
            Issue.record("NaN did not decode as a double")
            return
        }
        #expect(value.isNaN)
    }

    @Test("encoding is deterministic: equal values give equal bytes")
    func deterministic() throws {
        let (_, c) = try Self.busyState()
        let transfer = c.extract(for: F.node("z"), remoteContext: c.context)
        let once = Self.encode(.full(transfer))
        let decoded = try Self.decode(once)
        #expect(Self.encode(decoded) == once)
        var left = ByteBuffer()
        var right = ByteBuffer()
        left.writePresenceMeta(F.meta(1, ["a": 1, "b": 2, "c": ["x": 1, "y": 2]]))
        right.writePresenceMeta(F.meta(1, ["c": ["y": 2, "x": 1], "b": 2, "a": 1]))
        #expect(left == right)
    }

    @Test("varints: every width, and the 64-bit limit")
    func varints() throws {
        for value: UInt64 in [0, 1, 127, 128, 300, 16_383, 16_384, 1 << 35, .max - 1, .max] {
            var buffer = ByteBuffer()
            buffer.writeTrackerVarint(value)
            #expect(buffer.readableBytes == max(1, (64 - value.leadingZeroBitCount + 6) / 7))
            #expect(try buffer.readTrackerVarint(field: "test") == value)
        }
        var maximum = ByteBuffer(bytes: [0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01])
        #expect(try maximum.readTrackerVarint(field: "test") == .max)
        var overflow = ByteBuffer(bytes: [0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x02])
        #expect(throws: TrackerWireError.invalidVarint(field: "test")) { try overflow.readTrackerVarint(field: "test") }
        var tooLong = ByteBuffer(bytes: [0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00])
        #expect(throws: TrackerWireError.invalidVarint(field: "test")) { try tooLong.readTrackerVarint(field: "test") }
        var cut = ByteBuffer(bytes: [0x80])
        #expect(throws: TrackerWireError.truncated(field: "test")) { try cut.readTrackerVarint(field: "test") }
    }

    @Test("malformed payloads are refused with the right error")
    func errors() throws {
        let good = Self.exampleBytes
        func patched(_ index: Int, _ byte: UInt8) -> [UInt8] {
            var bytes = good
            bytes[index] = byte
            return bytes
        }
        #expect(Self.decodeError(patched(0, 2)) == .unsupportedVersion(2))
        #expect(Self.decodeError(patched(1, 3)) == .invalidKind(3))
        #expect(Self.decodeError(patched(4, 0x01)) == .invalidNodeName(field: "replica", reason: .controlCharacter))
        #expect(Self.decodeError(patched(3, 0)) == .invalidNodeName(field: "replica", reason: .empty))
        #expect(Self.decodeError(patched(4, 0xFF)) == .invalidUTF8(field: "replica"))
        #expect(Self.decodeError(patched(14, 1)) == .indexOutOfRange(field: "origin", index: 1, count: 1))
        #expect(Self.decodeError(patched(2, 100)) == .countOverLimit(field: "replicas", count: 100, limit: 5))
        #expect(Self.decodeError(patched(23, 2)) == .countOverLimit(field: "ranges", count: 2, limit: 1))
        #expect(Self.decodeError(patched(25, 3)) == .invalidClock(field: "range end"))
        #expect(Self.decodeError(patched(31, 0)) == .invalidClock(field: "value clock"))
        #expect(Self.decodeError(patched(31, 3)) == .valueOutsideClouds)
        #expect(Self.decodeError(patched(33, 1)) == .indexOutOfRange(field: "value topic", index: 1, count: 1))
        #expect(Self.decodeError(patched(35, 0xC0)) == .invalidUTF8(field: "value key"))
        #expect(Self.decodeError(patched(45, 0x02)) == .invalidFlags(field: "meta", flags: 2))
        #expect(Self.decodeError(patched(49, 9)) == .invalidValueTag(9))
        #expect(Self.decodeError(Array(good.dropLast())) == .truncated(field: "string value"))

        // A replica listed twice, a metadata name given twice, dots out of order.
        #expect(throws: TrackerWireError.duplicate(field: "version vector replica")) {
            var vector = ByteBuffer()
            vector.writeTrackerVarint(2)
            for _ in 0..<2 {
                vector.writeTrackerNodeIdentity(Self.n1)
                vector.writeTrackerVarint(1)
            }
            _ = try vector.readVersionVector()
        }
        #expect(throws: TrackerWireError.duplicate(field: "value name")) {
            var map = ByteBuffer(bytes: [TrackerWire.mapTag, 2, 1, 0x61, 0, 1, 0x61, 0])
            _ = try map.readPresenceValue()
        }
        var header: [UInt8] = [1, 2, 1, 0x02, 0x6E, 0x31, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0]
        let dots: [UInt8] = [1, 0, 0, 1, 0, 2, 5, 7, 3, 9, 0]  // context n1: 0; dots 5-7 then 3-9
        header += dots
        #expect(Self.decodeError(header) == .invalidClock(field: "dot interval"))

        // Nesting deeper than the limit.
        var deep = ByteBuffer()
        for _ in 0..<TrackerWire.maximumDepth { deep.writeBytes([TrackerWire.arrayTag, 1]) }
        deep.writeInteger(TrackerWire.nullTag)
        #expect(throws: TrackerWireError.nestingTooDeep(limit: TrackerWire.maximumDepth)) {
            _ = try deep.readPresenceValue()
        }
        var allowed = ByteBuffer()
        for _ in 0..<(TrackerWire.maximumDepth - 1) { allowed.writeBytes([TrackerWire.arrayTag, 1]) }
        allowed.writeInteger(TrackerWire.nullTag)
        #expect(throws: Never.self) { _ = try allowed.readPresenceValue() }
    }

    @Test("error labels match docs/WIRE.md")
    func labels() {
        let errors: [(TrackerWireError, String)] = [
            (.truncated(field: "x"), "truncated"), (.unsupportedVersion(2), "unsupported_version"),
            (.invalidKind(3), "invalid_kind"), (.invalidValueTag(9), "invalid_value_tag"),
            (.invalidFlags(field: "meta", flags: 2), "invalid_flags"), (.invalidVarint(field: "x"), "invalid_varint"),
            (.invalidUTF8(field: "x"), "invalid_utf8"), (.invalidNodeName(field: "x", reason: .empty), "invalid_node_name"),
            (.countOverLimit(field: "x", count: 2, limit: 1), "count_over_limit"),
            (.indexOutOfRange(field: "x", index: 1, count: 1), "index_out_of_range"), (.duplicate(field: "x"), "duplicate"),
            (.invalidClock(field: "x"), "invalid_clock"), (.valueOutsideClouds, "value_outside_clouds"),
            (.nestingTooDeep(limit: 32), "nesting_too_deep"),
        ]
        for (error, label) in errors {
            #expect(error.label == label)
            #expect(!error.description.isEmpty)
        }
    }

    @Test("every truncation is a typed error")
    func truncations() throws {
        let (a, c) = try Self.busyState()
        let payloads = [
            Self.exampleBytes,
            Self.encode(.delta(try a.pendingDelta.merging(c.pendingDelta))),
            Self.encode(.full(c.extract(for: F.node("z"), remoteContext: c.context))),
        ]
        for bytes in payloads {
            for length in 0..<bytes.count {
                #expect(throws: TrackerWireError.self) { _ = try Self.decode(Array(bytes[0..<length])) }
            }
            #expect(throws: Never.self) { _ = try Self.decode(bytes) }
        }
    }

    @Test("fuzz: random and mutated bytes decode or fail with a typed error, never trap")
    func fuzz() throws {
        let (a, c) = try Self.busyState()
        let seeds = [
            Self.exampleBytes,
            Self.encode(.delta(a.pendingDelta)),
            Self.encode(.full(c.extract(for: F.node("z"), remoteContext: c.context))),
        ]
        var rng = Xoshiro(seed: (0x5EED, 0x7AC4, 0xE5, 0x1))
        let byteGen = Gen<UInt8>.uint8()
        var decodedCount = 0
        for round in 0..<6_000 {
            var bytes: [UInt8]
            if round % 4 == 0 {
                let prefix: [UInt8] = round % 8 == 0 ? [1, UInt8(1 + round % 2)] : []
                bytes = prefix + (0..<Int.random(in: 0...64, using: &rng)).map { _ in byteGen.run(using: &rng) }
            } else {
                bytes = seeds[round % seeds.count]
                for _ in 0...Int.random(in: 0...3, using: &rng) {
                    let index = Int.random(in: 0..<bytes.count, using: &rng)
                    switch Int.random(in: 0...3, using: &rng) {
                    case 0: bytes[index] = byteGen.run(using: &rng)
                    case 1: bytes[index] ^= 1 << UInt8.random(in: 0...7, using: &rng)
                    case 2: bytes.insert(byteGen.run(using: &rng), at: index)
                    default: if bytes.count > 2 { bytes.remove(at: index) }
                    }
                }
            }
            do {
                let payload = try Self.decode(bytes)
                decodedCount += 1
                // Whatever decodes must survive its own round trip.
                #expect(try Self.decode(Self.encode(payload)) == payload)
            } catch {
                // A typed TrackerWireError: what is required.
            }
        }
        #expect(decodedCount > 0)
    }
}

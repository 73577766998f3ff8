@testable import AdapterRedis
import Combo
import ComboTestKit
import Foundation
import MetricsTestKit
import NIOCore
import NIOPosix
import Synchronization
import Testing

/// `compressionLevel`: the compressed frame of docs/WIRE.md, its limits, and
/// nodes of different levels in one cluster.
@Suite("Redis compression")
struct RedisCompressionTests {
    /// An encoded broadcast envelope whose payload is `payload`.
    private static func envelope(payload: [UInt8], shard: UInt16 = 5) throws -> ByteBuffer {
        try Envelope(
            kind: .broadcast,
            shard: shard,
            origin: NodeIdentity(name: "n1", incarnation: Incarnation(rawValue: 0x0102_0304_0506_0708)),
            topic: "room:1",
            codec: 0,
            payload: ByteBuffer(bytes: payload)
        ).encoded()
    }

    /// A text that deflate shrinks well, as JSON or chat history would be.
    private static let repetitive = Array(String(repeating: "{\"text\":\"hello, world\",\"count\":42},", count: 60).utf8)

    // MARK: The frame

    @Test("a compressible envelope round-trips through its frame at every level", arguments: 1...9)
    func roundTrip(level: Int) throws {
        let plain = try Self.envelope(payload: Self.repetitive)
        let frame = try #require(CompressedEnvelope.compress(plain, level: level))
        #expect(frame.readableBytes < plain.readableBytes / 4)
        #expect(CompressedEnvelope.isCompressed(frame))
        #expect(!CompressedEnvelope.isCompressed(plain))
        #expect(frame.getBytes(at: 0, length: 6) == [0x43, 0x5A, 1, 1, 0, 0])
        #expect(frame.getInteger(at: 6, as: UInt16.self) == 5, "the shard stays at offset 6")
        #expect(frame.getInteger(at: 8, as: UInt32.self) == UInt32(plain.readableBytes))
        #expect(try CompressedEnvelope.decompress(frame, maximumSize: Envelope.defaultMaximumSize) == plain)
    }

    @Test("an envelope that would not shrink is not compressed")
    func incompressible() throws {
        var generator = SystemRandomNumberGenerator()
        let noise = (0..<200).map { _ in UInt8.random(in: 0...255, using: &generator) }
        #expect(CompressedEnvelope.compress(try Self.envelope(payload: noise), level: 9) == nil)
        #expect(CompressedEnvelope.compress(try Self.envelope(payload: Array("hi".utf8)), level: 6) == nil)
    }

    /// A frame header followed by `body`.
    private static func frame(
        version: UInt8 = 1,
        method: UInt8 = 1,
        reserved: UInt16 = 0,
        shard: UInt16 = 5,
        declared: Int,
        body: [UInt8]
    ) -> ByteBuffer {
        var frame = ByteBuffer(bytes: [0x43, 0x5A, version, method])
        frame.writeInteger(reserved)
        frame.writeInteger(shard)
        frame.writeInteger(UInt32(declared))
        frame.writeBytes(body)
        return frame
    }

    @Test("the compressed worked example of docs/WIRE.md inflates to the envelope of its worked example")
    func documentedExample() throws {
        let golden = ByteBuffer(bytes: Self.hex("""
            43 42 01 01 00 02 00 03 02 6e 31 01 02 03 04 05
            06 07 08 00 00 06 72 6f 6f 6d 3a 31 00 00 00 00
            02 a1 61
            """))
        let frame = ByteBuffer(bytes: Self.hex("""
            43 5a 01 01 00 00 00 03 00 00 00 23 78 9c 73 76
            62 64 64 60 62 60 66 ca 33 64 64 62 66 61 65 63
            e7 60 60 60 2b ca cf cf b5 32 64 00 02 a6 85 89
            00 3f 58 04 84
            """))
        #expect(try CompressedEnvelope.decompress(frame, maximumSize: Envelope.defaultMaximumSize) == golden)
        #expect(try Envelope(decoding: golden).topic == "room:1")
        // 53 bytes against 35: a node publishes this one plain.
        #expect(CompressedEnvelope.compress(golden, level: 6) == nil)
    }

    private static func hex(_ text: String) -> [UInt8] {
        text.split(whereSeparator: \.isWhitespace).map { UInt8($0, radix: 16)! }
    }

    @Test("malformed frames are rejected with typed errors")
    func malformedFrames() throws {
        let plain = try Self.envelope(payload: Self.repetitive)
        let valid = try #require(CompressedEnvelope.compress(plain, level: 6))
        let stream = Array(valid.readableBytesView.dropFirst(CompressedEnvelope.headerSize))
        let length = plain.readableBytes
        let limit = 1 << 20
        let cases: [(ByteBuffer, CompressedEnvelopeError)] = [
            (ByteBuffer(bytes: [0x43, 0x5A, 1, 1, 0]), .truncatedHeader(length: 5)),
            (Self.frame(version: 2, declared: length, body: stream), .unsupportedVersion(2)),
            (Self.frame(method: 8, declared: length, body: stream), .unknownMethod(8)),
            (Self.frame(reserved: 0x0100, declared: length, body: stream), .reservedBits(0x0100)),
            (Self.frame(declared: limit + 1, body: stream), .oversized(declared: limit + 1, limit: limit)),
            (Self.frame(declared: length + 1, body: stream), .lengthMismatch(declared: length + 1, actual: length)),
            (Self.frame(declared: length - 1, body: stream), .inflatesBeyondDeclaredLength(declared: length - 1)),
            (Self.frame(declared: length, body: stream + [1, 2, 3]), .trailingBytes(3)),
            // The envelope inside is on shard 5.
            (Self.frame(shard: 4, declared: length, body: stream), .shardMismatch(frame: 4, envelope: 5)),
        ]
        for (frame, expected) in cases {
            #expect(throws: expected) { try CompressedEnvelope.decompress(frame, maximumSize: limit) }
        }
        for body in [Array("not zlib at all".utf8), Array(stream.dropLast(7)), [], stream.map { $0 ^ 0x5A }] {
            let error = #expect(throws: CompressedEnvelopeError.self) {
                try CompressedEnvelope.decompress(Self.frame(declared: length, body: body), maximumSize: limit)
            }
            #expect(error?.reason == "corrupt", "\(String(describing: error))")
        }
    }

    @Test("a decompression bomb is stopped at the declared length, never past the maximum envelope size")
    func decompressionBomb() throws {
        // 32 MiB of zeros deflate to about 32 KiB.
        let zeros = ByteBuffer(repeating: 0, count: 32 << 20)
        var bomb = try #require(CompressedEnvelope.compress(zeros, level: 9))
        #expect(bomb.readableBytes < 64 << 10)
        let limit = Envelope.defaultMaximumSize
        #expect(throws: CompressedEnvelopeError.oversized(declared: 32 << 20, limit: limit)) {
            try CompressedEnvelope.decompress(bomb, maximumSize: limit)
        }
        // Lying about the length: inflation stops at the declared length, which the limit bounds.
        for declared in [1_000, limit] {
            bomb.setInteger(UInt32(declared), at: 8)
            #expect(throws: CompressedEnvelopeError.inflatesBeyondDeclaredLength(declared: declared)) {
                try CompressedEnvelope.decompress(bomb, maximumSize: limit)
            }
        }
    }

    // MARK: Between nodes

    /// Nodes `a`, `b` (and more) of PubSub `compression` on a prefix of the server's own, with the given levels.
    private func makeNodes(server: RedisServer, levels: [NodeName: Int]) throws -> [NodeName: (PubSub, TestMetrics)] {
        var nodes: [NodeName: (PubSub, TestMetrics)] = [:]
        for (name, level) in levels {
            var redis = testRedis(name, server: server, prefix: "compression-\(server.port)")
            redis.compressionLevel = level
            let metrics = TestMetrics()
            nodes[name] = (try PubSub(configuration: .init(name: "compression"), adapter: redis, metricsFactory: metrics), metrics)
        }
        return nodes
    }

    private func waitConnected(_ nodes: [PubSub]) async throws {
        for node in nodes {
            let adapter = redisAdapter(of: node)
            try await withDeadline(.seconds(10), "\(node.nodeName) to connect") { await adapter.waitUntilConnected() }
        }
    }

    /// A raw subscription to `channel`: every message published on it, as Redis delivers it.
    private func observe(_ channel: String, server: RedisServer) async throws -> (RedisConnection, AsyncStream<ByteBuffer>) {
        let (stream, continuation) = AsyncStream<ByteBuffer>.makeStream()
        let connection = try await RedisConnection.connect(
            host: "127.0.0.1",
            port: server.port,
            group: MultiThreadedEventLoopGroup.singleton,
            connectTimeout: .seconds(2),
            pingInterval: .seconds(60),
            pingTimeout: .seconds(60),
            replyTimeout: .seconds(60),
            metrics: RedisMetrics(pubSubName: "observer", factory: TestMetrics()),
            accounting: .standalone(metrics: RedisMetrics(pubSubName: "observer", factory: TestMetrics()), logger: .init(label: "observer")),
            logger: .init(label: "observer"),
            onMessages: { messages in for message in messages { continuation.yield(message) } }
        )
        let reply = try await connection.subscribe([channel])
        guard case .array = reply else {
            connection.close()
            throw UnexpectedReply(reply: "\(reply)")
        }
        return (connection, stream)
    }

    @Test("nodes with levels 0, 1 and 9 exchange broadcasts and direct messages; each reads the others' form")
    func mixedLevels() async throws {
        try await withRedisServer { server in
            let nodes = try makeNodes(server: server, levels: ["plain": 0, "fast": 1, "small": 9])
            let pubsubs = nodes.values.map(\.0)
            try await withRunning(pubsubs) {
                try await waitConnected(pubsubs)
                let channel = redisAdapter(of: pubsubs[0]).broadcastChannel
                let (observer, published) = try await observe(channel, server: server)
                defer { observer.close() }
                let text = String(repeating: "compress me, ", count: 50)
                for (sender, level) in [("plain", 0), ("fast", 1), ("small", 9)] as [(NodeName, Int)] {
                    let (pubsub, metrics) = try #require(nodes[sender])
                    let receivers = nodes.filter { $0.key != sender }.map(\.value.0)
                    let probes = try receivers.map { receiver in
                        let probe = SubscriberProbe(receiver.makeSubscriber())
                        try receiver.subscribe(probe.subscriber, to: "mixed")
                        return probe
                    }
                    defer { for probe in probes { probe.stop() } }
                    let note = Note(text: text, count: level)
                    try await pubsub.broadcast(note, to: "mixed")
                    for probe in probes {
                        #expect(try await probe.next(within: .seconds(10)).decode(Note.self) == note)
                    }
                    // What Redis carried: plain at level 0, compressed otherwise.
                    let carried = try await withDeadline(.seconds(10), "the observer") { () -> ByteBuffer? in
                        var iterator = published.makeAsyncIterator()
                        return await iterator.next()
                    }
                    #expect(CompressedEnvelope.isCompressed(try #require(carried)) == (level > 0), "\(sender)")
                    #expect(metrics.counterTotal(label: "combo_redis_compressed_total") == (level > 0 ? 1 : 0))

                    let target = receivers[0]
                    try await pubsub.directBroadcast(note, to: "mixed", on: target.nodeName)
                    let probe = probes[receivers.firstIndex { $0 === target }!]
                    #expect(try await probe.next(within: .seconds(10)).decode(Note.self) == note)
                }
                for (_, metrics) in nodes.values {
                    #expect(metrics.counterTotal(label: "combo_redis_decompression_failures_total") == 0)
                    #expect(metrics.counterTotal(label: "combo_decode_failures_total") == 0)
                }
            }
        }
    }

    @Test("garbage and oversized compressed frames are rejected and counted by reason; the node keeps serving")
    func badFramesThroughRedis() async throws {
        try await withRedisServer { server in
            let nodes = try makeNodes(server: server, levels: ["a": 6, "b": 0])
            let (a, _) = try #require(nodes["a"])
            let (b, metricsB) = try #require(nodes["b"])
            try await withRunning([a, b]) {
                try await waitConnected([a, b])
                let adapterB = redisAdapter(of: b)
                let plain = try Self.envelope(payload: Self.repetitive, shard: 0)
                let stream = Array(try #require(CompressedEnvelope.compress(plain, level: 6)).readableBytesView.dropFirst(12))
                let bomb = try #require(CompressedEnvelope.compress(ByteBuffer(repeating: 0, count: 32 << 20), level: 9))
                var lyingBomb = bomb
                lyingBomb.setInteger(UInt32(4_096), at: 8)
                let frames: [(ByteBuffer, String)] = [
                    (ByteBuffer(bytes: [0x43, 0x5A, 1]), "truncated_header"),
                    (Self.frame(declared: 100, body: Array("garbage".utf8)), "corrupt"),
                    (Self.frame(declared: plain.readableBytes, body: Array(stream.prefix(20))), "corrupt"),
                    (Self.frame(version: 9, declared: 1, body: []), "unsupported_version"),
                    (bomb, "oversized"),
                    (lyingBomb, "inflates_beyond_length"),
                ]
                try await b.subscribe(to: "after-bad-frames") { subscriber in
                    let probe = SubscriberProbe(subscriber)
                    defer { probe.stop() }
                    try await server.withConnection { connection in
                        for (frame, _) in frames {
                            let reply = try await connection.command([
                                ByteBuffer(string: "PUBLISH"), ByteBuffer(string: adapterB.directChannel(of: "b")), frame,
                            ])
                            #expect(reply == .integer(1))
                        }
                    }
                    // Redis has queued the frames to `b` before this direct broadcast; with
                    // one lane, `b` handles them in that order.
                    let note = Note(text: String(repeating: "still working ", count: 40), count: 1)
                    try await a.directBroadcast(note, to: "after-bad-frames", on: "b")
                    #expect(try await probe.next(within: .seconds(10)).decode(Note.self) == note)
                }
                for reason in Set(frames.map(\.1)) {
                    let expected = Int64(frames.filter { $0.1 == reason }.count)
                    #expect(
                        metricsB.counterTotal(
                            label: "combo_redis_decompression_failures_total",
                            dimensions: [("pubsub", "compression"), ("reason", reason)]
                        ) == expected,
                        "\(reason)"
                    )
                }
                #expect(metricsB.counterTotal(label: "combo_decode_failures_total") == 0)
            }
        }
    }

    @Test("a compressed envelope built by a Python script per docs/WIRE.md reaches a Swift subscriber")
    func pythonPublisher() async throws {
        try await withRedisServer { server in
            let nodes = try makeNodes(server: server, levels: ["b": 0])
            let (b, metricsB) = try #require(nodes["b"])
            try await withRunning([b]) {
                try await waitConnected([b])
                try await b.subscribe(to: "py:topic") { subscriber in
                    let probe = SubscriberProbe(subscriber)
                    defer { probe.stop() }
                    let file = FileManager.default.temporaryDirectory
                        .appendingPathComponent("combo-compressed-envelope-\(server.port).bin")
                    defer { try? FileManager.default.removeItem(at: file) }
                    try await runProcess("/usr/bin/env", ["python3", "-c", Self.pythonScript, file.path])
                    let written = try Data(contentsOf: file)
                    #expect(written.prefix(2) == Data("CZ".utf8))
                    let output = try await runProcess(
                        "/usr/bin/redis-cli",
                        ["-p", "\(server.port)", "-x", "PUBLISH", redisAdapter(of: b).broadcastChannel],
                        stdin: file
                    )
                    #expect(output.trimmingCharacters(in: .whitespacesAndNewlines) == "1")
                    let message = try await probe.next(within: .seconds(10))
                    #expect(message.origin.name == "py-publisher")
                    #expect(try message.decode(Note.self) == Note(text: String(repeating: "from python ", count: 20), count: 42))
                }
                #expect(metricsB.counterTotal(label: "combo_redis_decompression_failures_total") == 0)
            }
        }
    }

    /// Builds a JSON broadcast envelope and its compressed frame with the
    /// standard library only, as docs/WIRE.md describes.
    static let pythonScript = #"""
    import json, struct, sys, zlib

    def text(fmt, value):
        data = value.encode("utf-8")
        return struct.pack(fmt, len(data)) + data

    def shard(topic, pool):
        h = 0x811C9DC5
        for b in topic.encode("utf-8"):
            h = ((h ^ b) * 0x01000193) % 2**32
        return h % pool

    topic = "py:topic"
    payload = json.dumps({"text": "from python " * 20, "count": 42}).encode()
    envelope = (b"CB" + struct.pack(">BBBBH", 1, 1, 0, 1, shard(topic, 1))
                + text(">B", "py-publisher") + struct.pack(">Q", 0x0102030405060708)
                + struct.pack(">B", 0) + text(">H", topic) + struct.pack(">B", 0)
                + struct.pack(">I", len(payload)) + payload)

    def compress_envelope(envelope, level=6):
        shard = struct.unpack_from(">H", envelope, 6)[0]
        return (b"CZ" + struct.pack(">BBHHI", 1, 1, 0, shard, len(envelope))
                + zlib.compress(envelope, level))

    with open(sys.argv[1], "wb") as f:
        f.write(compress_envelope(envelope))
    """#
}

@testable import AdapterRedis
import NIOCore
import Testing

/// The reply reader: ``RESPFastPath`` for messages and integers, hiredis for
/// the rest, and the hand-over between them wherever a read ends.
@Suite("Redis reply reader")
struct RedisReplyReaderTests {
    /// A stream of every kind of reply a connection meets, in one buffer.
    static let stream: String = [
        "*3\r\n$9\r\nsubscribe\r\n$2\r\nch\r\n:1\r\n",
        "*3\r\n$7\r\nmessage\r\n$2\r\nch\r\n$5\r\nhello\r\n",
        "*3\r\n$7\r\nmessage\r\n$2\r\nch\r\n$0\r\n\r\n",
        ":2\r\n", ":-13\r\n", ":1234567890123456789\r\n",
        "+PONG\r\n",
        "*3\r\n$7\r\nmessage\r\n$2\r\nch\r\n$13\r\nbinary\0\r\n\u{1}xyz\r\n",
        "-ERR wrong\r\n",
        "*3\r\n$7\r\nmessage\r\n$2\r\nch\r\n$-1\r\n",
        "*4\r\n$8\r\npmessage\r\n$1\r\n*\r\n$2\r\nch\r\n$1\r\nx\r\n",
        "*3\r\n$7\r\nmessage\r\n$2\r\nch\r\n$3\r\nend\r\n",
    ].joined()

    /// The replies of ``stream``, as the handler sees them.
    static func expected(_ allocator: ByteBufferAllocator) -> [RedisReplyReader.Reply] {
        func bulk(_ text: String) -> RESPValue { .bulkString(allocator.buffer(string: text)) }
        return [
            .value(.array([bulk("subscribe"), bulk("ch"), .integer(1)])),
            .message(allocator.buffer(string: "hello")),
            .message(allocator.buffer(string: "")),
            .value(.integer(2)), .value(.integer(-13)), .value(.integer(1_234_567_890_123_456_789)),
            .value(.simpleString("PONG")),
            .message(allocator.buffer(string: "binary\0\r\n\u{1}xyz")),
            .value(.error("ERR wrong")),
            .value(.array([bulk("message"), bulk("ch"), .null])),
            .value(.array([bulk("pmessage"), bulk("*"), bulk("ch"), bulk("x")])),
            .message(allocator.buffer(string: "end")),
        ]
    }

    /// Feeds `chunks` in order, reading every complete reply after each.
    private static func read(_ chunks: [ByteBuffer], allocator: ByteBufferAllocator) throws -> [RedisReplyReader.Reply] {
        let reader = try #require(RedisReplyReader())
        var replies: [RedisReplyReader.Reply] = []
        for chunk in chunks {
            try reader.feed(chunk)
            while let reply = try reader.next(allocator: allocator) { replies.append(reply) }
        }
        return replies
    }

    @Test("the same replies whether read at once, byte by byte, or split at any point")
    func splitAnywhere() throws {
        let allocator = ByteBufferAllocator()
        let bytes = allocator.buffer(string: Self.stream)
        let expected = Self.expected(allocator)
        #expect(try Self.read([bytes], allocator: allocator) == expected)
        let single = (0..<bytes.readableBytes).map { bytes.getSlice(at: $0, length: 1)! }
        #expect(try Self.read(single, allocator: allocator) == expected)
        for split in 1..<bytes.readableBytes {
            let chunks = [bytes.getSlice(at: 0, length: split)!, bytes.getSlice(at: split, length: bytes.readableBytes - split)!]
            #expect(try Self.read(chunks, allocator: allocator) == expected, "split at \(split)")
        }
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<200 {
            var chunks: [ByteBuffer] = []
            var offset = 0
            while offset < bytes.readableBytes {
                let length = min(Int.random(in: 1...40, using: &generator), bytes.readableBytes - offset)
                chunks.append(bytes.getSlice(at: offset, length: length)!)
                offset += length
            }
            #expect(try Self.read(chunks, allocator: allocator) == expected)
        }
    }

    @Test("a message payload is a slice of the bytes read, not a copy")
    func payloadIsSlice() throws {
        let reader = try #require(RedisReplyReader())
        let allocator = ByteBufferAllocator()
        let read = allocator.buffer(string: "*3\r\n$7\r\nmessage\r\n$2\r\nch\r\n$5\r\nhello\r\n")
        try reader.feed(read)
        guard case .message(let payload) = try reader.next(allocator: allocator) else {
            Issue.record("not a message")
            return
        }
        let sameMemory = read.withUnsafeReadableBytes { whole in
            payload.withUnsafeReadableBytes { part in whole.baseAddress! + 29 == part.baseAddress! }
        }
        #expect(sameMemory)
    }

    @Test("the fast path leaves anything unusual to hiredis", arguments: [
        "$5\r\nhello\r\n", "*3\r\n$7\r\nmessagX\r\n", "*3\r\n$7\r\nmessage\r\n$x\r\n", ":\r\n",
        "*3\r\n$7\r\nmessage\r\n$2\r\nch\r\n$3\r\nabcd\r\n", ":12345678901234567890\r\n", "\0",
        "*3\r\n$7\r\nmessage\r\n$2\r\nch\r\n$99999999999\r\n",
    ])
    func unusualGoesToHiredis(_ text: String) {
        let bytes = Array(text.utf8)
        let scan = bytes.withUnsafeBytes { RESPFastPath.scan($0) }
        #expect(scan == .other)
    }

    @Test("the fast path waits for the rest of a message or integer", arguments: [
        "", "*", "*3\r\n$7\r\nmess", "*3\r\n$7\r\nmessage\r\n", "*3\r\n$7\r\nmessage\r\n$2\r", "*3\r\n$7\r\nmessage\r\n$2\r\nch\r\n$5\r\nhel",
        "*3\r\n$7\r\nmessage\r\n$2\r\nch\r\n$5\r\nhello\r", ":", ":-", ":12", ":12\r",
    ])
    func incomplete(_ text: String) {
        let bytes = Array(text.utf8)
        #expect(bytes.withUnsafeBytes { RESPFastPath.scan($0) } == .needMore)
    }

    @Test("bytes that are not RESP still fail through hiredis, wherever they start")
    func garbage() throws {
        let allocator = ByteBufferAllocator()
        let reader = try #require(RedisReplyReader())
        try reader.feed(allocator.buffer(string: ":1\r\n*3\r\n$7\r\nmessage\r\n$2\r\nch\r\n$1\r\nx\r\n?oops\r\n"))
        #expect(try reader.next(allocator: allocator) == .value(.integer(1)))
        #expect(try reader.next(allocator: allocator) == .message(allocator.buffer(string: "x")))
        #expect(throws: RedisError.self) { try reader.next(allocator: allocator) }
    }
}

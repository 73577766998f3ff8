@testable import AdapterZMQ
import Combo
import Testing

private func parseHeader(_ bytes: [UInt8], at offset: Int) throws -> ZMQFrameHeader.Parsed {
    try bytes.withUnsafeBytes { raw in
        let header = try ZMQFrameHeader.parse(raw, at: offset)
        return ZMQFrameHeader.Parsed(
            kind: header.kind, sender: header.sender, sequence: header.sequence, body: Array(raw[header.bodyOffset...])
        )
    }
}

private func parseHello(_ bytes: [UInt8]) throws -> ZMQPeerAnnouncement {
    try bytes.withUnsafeBytes { try ZMQPeerAnnouncement.parseHello($0) }
}

private func parseWelcome(_ bytes: [UInt8]) throws -> ZMQWelcome {
    try bytes.withUnsafeBytes { try ZMQWelcome.parse($0) }
}

extension ZMQFrameHeader {
    /// A parsed header with copies of its parts, for comparing.
    struct Parsed: Equatable {
        let kind: ZMQFrameKind
        let sender: NodeIdentity?
        let sequence: UInt64
        let body: [UInt8]
    }
}

@Suite("ZeroMQ adapter: topics, headers, hellos and welcomes")
struct ZMQWireFormatTests {
    let topics = ZMQTopics(channelPrefix: "combo", pubSubName: "chat")

    @Test("topics: the documented bytes, and direct before broadcast before hello in byte order")
    func topicBytes() {
        #expect(topics.broadcast == Array("combo:chat".utf8) + [0, UInt8(ascii: "b")])
        #expect(topics.direct(to: "n1") == Array("combo:chat".utf8) + [0, UInt8(ascii: "a")] + Array("n1".utf8) + [0])
        #expect(topics.direct(to: "n1").lexicographicallyPrecedes(topics.broadcast))
        #expect(topics.broadcast.lexicographicallyPrecedes(topics.hello))
        // A hello extends the broadcast prefix: it widens no node's filter.
        #expect(topics.hello.starts(with: topics.broadcast))
        // n1's direct topic is no prefix of n10's.
        #expect(!topics.direct(to: "n10").starts(with: topics.direct(to: "n1")))
        #expect(topics.direct(to: "n1").withUnsafeBytes { topics.directTarget(of: $0) } == "n1")
        #expect(topics.broadcast.withUnsafeBytes { topics.directTarget(of: $0) } == nil)
    }

    @Test("header: what a node writes parses back")
    func headerRoundTrip() throws {
        let sender = NodeIdentity(name: "n1", incarnation: Incarnation(rawValue: 0x0102_0304_0506_0708))
        let bytes = frame(topic: topics.broadcast, sender: sender, sequence: 42, envelope: [9, 9])
        let header = try parseHeader(bytes, at: topics.broadcast.count)
        #expect(header == ZMQFrameHeader.Parsed(kind: .envelope, sender: sender, sequence: 42, body: [9, 9]))
    }

    @Test("header: every truncation is refused with a typed error, never a trap")
    func headerTruncations() {
        let sender = NodeIdentity(name: "n1", incarnation: Incarnation(rawValue: 1))
        let bytes = ZMQFrameHeader.prefix(kind: .envelope, sender: sender) + [UInt8](repeating: 0, count: 8)
        for length in 0..<bytes.count {
            #expect(throws: ZMQFrameError.self) { try parseHeader(Array(bytes.prefix(length)), at: 0) }
        }
    }

    @Test("header: a sender name that is no valid node name is refused, whatever the kind")
    func headerSenderNames() throws {
        func header(name: [UInt8], kind: ZMQFrameKind = .envelope) -> [UInt8] {
            [ZMQFrameHeader.version, kind.rawValue, UInt8(name.count)] + name + [UInt8](repeating: 0, count: 15) + [1, 7]
        }
        for name in [Array("n\u{1}1".utf8), Array("n1\n".utf8), [0x6E, 0x7F], Array("n\u{85}".utf8), [0x6E, 0xFF, 0xFE]] {
            #expect(throws: ZMQFrameError.invalidSender, "\(name)") { try parseHeader(header(name: name), at: 0) }
            #expect(throws: ZMQFrameError.invalidSender, "\(name)") { try parseHeader(header(name: name, kind: .welcome), at: 0) }
        }
        // Printable ASCII and non-ASCII letters are valid names.
        for name in ["n1", "node 1", "nœud-ü"] {
            let parsed = try parseHeader(header(name: Array(name.utf8)), at: 0)
            #expect(parsed.sender?.name.rawValue == name)
            #expect(parsed.body == [7])
        }
    }

    @Test("hello and welcome: round trips, and malformed ones refused")
    func announcements() throws {
        let hello = ZMQPeerAnnouncement(node: NodeIdentity(name: "n2", incarnation: Incarnation(rawValue: 9)), endpoint: "tcp://127.0.0.1:5560")
        #expect(try parseHello(hello.encoded) == hello)
        #expect(throws: ZMQFrameError.malformedHello) { try parseHello(hello.encoded + [0]) }
        let welcome = ZMQWelcome(endpoint: "tcp://127.0.0.1:5561", peers: [hello])
        #expect(try parseWelcome(welcome.encoded) == welcome)
        for length in 0..<welcome.encoded.count {
            #expect(throws: ZMQFrameError.malformedWelcome) { try parseWelcome(Array(welcome.encoded.prefix(length))) }
        }
    }

    @Test("sequence tracker: gaps counted, duplicates dropped, restarts and new incarnations start over")
    func sequences() {
        var tracker = ZMQSequenceTracker()
        let name = Array("n1".utf8)
        func observe(_ sequence: UInt64, incarnation: UInt64 = 1, broadcast: Bool = true) -> ZMQSequenceTracker.Observation {
            name.withUnsafeBytes { tracker.observe(name: $0, incarnation: incarnation, sequence: sequence, broadcast: broadcast) }
        }
        #expect(observe(5) == .deliver(lost: 0))
        #expect(observe(6) == .deliver(lost: 0))
        #expect(observe(10) == .deliver(lost: 3))
        #expect(observe(10) == .duplicate)
        #expect(observe(7) == .duplicate)
        #expect(observe(1, broadcast: false) == .deliver(lost: 0))
        #expect(observe(3, broadcast: false) == .deliver(lost: 1))
        #expect(observe(0) == .deliver(lost: 0))
        #expect(observe(1) == .deliver(lost: 0))
        #expect(observe(4, incarnation: 2) == .deliver(lost: 0))
        #expect(observe(5, incarnation: 2) == .deliver(lost: 0))
    }
}

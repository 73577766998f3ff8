import Combo

/// The topic bytes that start every message of one cluster, and that nodes
/// subscribe to. With the channel key *K* = `prefix:pubsub` in UTF-8:
///
/// - direct envelopes for node *N*: *K* `00` `a` *N* `00`
/// - broadcasts: *K* `00` `b`
/// - hellos (peer topology, subscriptions only): *K* `00` `b` `00` …
///
/// The NUL after *K* ends the key (it may not contain one), and the NUL after
/// *N* keeps node `n1`'s prefix from matching `n10`'s topic. A hello extends
/// the broadcast prefix, so it adds nothing to what a node receives (its filter
/// is its direct and broadcast prefixes, nothing else), and no message matches
/// it (a message's header starts with version 1, never 0). The topics sort
/// direct before broadcast before hello, which is the order in which libzmq
/// sends a subscriber's prefixes to a new connection (its subscription trie
/// is walked in byte order): so when a node's broadcast or hello
/// subscription has arrived, its direct one has too.
struct ZMQTopics: Sendable {
    /// *K* `00`.
    let stem: [UInt8]
    /// *K* `00` `b`.
    let broadcast: [UInt8]
    /// *K* `00` `b` `00`.
    let hello: [UInt8]

    init(channelPrefix: String, pubSubName: String) {
        stem = Array("\(channelPrefix):\(pubSubName)".utf8) + [0]
        broadcast = stem + [UInt8(ascii: "b")]
        hello = broadcast + [0]
    }

    /// *K* `00` `a` *N* `00`.
    func direct(to node: NodeName) -> [UInt8] {
        stem + [UInt8(ascii: "a")] + Array(node.rawValue.utf8) + [0]
    }

    /// The node whose direct topic `topic` is, if it is one.
    func directTarget(of topic: UnsafeRawBufferPointer) -> NodeName? {
        guard topic.count > stem.count + 2, topic.starts(with: stem), topic[stem.count] == UInt8(ascii: "a"),
            topic[topic.count - 1] == 0
        else { return nil }
        let name = UnsafeRawBufferPointer(rebasing: topic[(stem.count + 1)..<(topic.count - 1)])
        guard let text = String(validating: name, as: UTF8.self) else { return nil }
        return try? NodeName(text)
    }
}

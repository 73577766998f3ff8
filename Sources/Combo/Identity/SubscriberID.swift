/// The stable identity of one ``Subscriber``, meaningful on every node.
///
/// The counterpart of a pid: the node and boot that created the subscriber plus
/// a counter unique within that boot. Unlike an `ObjectIdentifier` it is never
/// reused and it survives the trip to another node, which is how
/// `broadcast(_:to:from:)` excludes the sender everywhere.
public struct SubscriberID: Hashable, Sendable, Codable, CustomStringConvertible {
    /// The node boot that created the subscriber.
    public let node: NodeIdentity
    /// A number unique among the subscribers of that boot.
    public let sequence: UInt64

    /// Creates an identifier; ``PubSub`` makes them for its subscribers.
    public init(node: NodeIdentity, sequence: UInt64) {
        self.node = node
        self.sequence = sequence
    }

    public var description: String { "<\(node).\(sequence)>" }
}

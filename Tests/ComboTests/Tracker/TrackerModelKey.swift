/// What a node's owner has tracked: the model the state's own rows must match.
struct TrackerModelKey: Hashable {
    /// The owner's sequence on its node.
    var owner: Int
    /// The topic.
    var topic: String
    /// The key.
    var key: String
}

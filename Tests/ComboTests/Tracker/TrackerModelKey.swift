/// What a node's owner has tracked: the model the state's own rows must match.
struct TrackerModelKey: Hashable {
    var owner: Int
    var topic: String
    var key: String
}

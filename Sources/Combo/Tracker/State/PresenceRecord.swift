/// One presence as the tracker state reports it: who tracks what, with which
/// metadata, under which tag.
///
/// Joins and leaves in a ``TrackerDiff`` are records; so are the answers of reads.
struct PresenceRecord: Sendable, Hashable, CustomStringConvertible {
    /// The owner that tracked the presence; its node is the replica that made the tag.
    var owner: PresenceOwnerID
    /// The topic.
    var topic: String
    /// The key within the topic (a user ID, typically).
    var key: String
    /// The metadata.
    var meta: PresenceMeta
    /// The dot of this version of the presence.
    var tag: PresenceTag

    /// Makes a record.
    init(owner: PresenceOwnerID, topic: String, key: String, meta: PresenceMeta, tag: PresenceTag) {
        self.owner = owner
        self.topic = topic
        self.key = key
        self.meta = meta
        self.tag = tag
    }

    var description: String { "\(topic)/\(key) by \(owner) at \(tag)" }
}

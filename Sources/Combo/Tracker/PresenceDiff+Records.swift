extension PresenceDiff {
    /// Groups shard records by topic, keeping their order.
    init(joins: some Sequence<PresenceRecord>, leaves: some Sequence<PresenceRecord>) {
        var topics: [String: TopicDiff] = [:]
        for record in joins {
            topics[record.topic, default: TopicDiff()].joins.append(record.presence)
        }
        for record in leaves {
            topics[record.topic, default: TopicDiff()].leaves.append(record.presence)
        }
        self.init(topics: topics)
    }

    /// The part of the diff about `topics`.
    func restricted(to topics: Set<String>) -> PresenceDiff {
        PresenceDiff(topics: self.topics.filter { topics.contains($0.key) })
    }
}

extension PresenceRecord {
    /// The record as the public API shows it.
    var presence: Presence { Presence(key: key, owner: owner, meta: meta) }
}

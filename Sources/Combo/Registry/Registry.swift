import Synchronization

/// The local subscriptions of one ``PubSub``: topic → subscribers, split in partitions.
///
/// Lock order: an inbox's lock may be held while taking a partition's lock
/// (subscribe, unsubscribe), never the reverse; dispatch copies a topic's
/// entries out of the partition and delivers after releasing its lock, so a
/// slow dispatcher never blocks subscribers of other topics.
final class Registry: Sendable {
    final class Partition: Sendable {
        let table = Mutex<[String: TopicEntries]>([:])
    }

    let partitions: [Partition]
    let partitioning: RegistryPartitioning

    init(size: Int, partitioning: RegistryPartitioning) {
        self.partitions = (0..<max(1, size)).map { _ in Partition() }
        self.partitioning = partitioning
    }

    private func partition(for inbox: Inbox, topic: String) -> Partition {
        if partitions.count == 1 { return partitions[0] }
        switch partitioning {
        case .bySubscriber:
            return partitions[Int(inbox.id.sequence % UInt64(partitions.count))]
        case .byTopic:
            return partitions[Int(stableTopicHash(topic) % UInt32(partitions.count))]
        }
    }

    /// Adds a subscription; false when the inbox is already closed.
    func subscribe(_ inbox: Inbox, to topic: String, metadata: (any Hashable & Sendable)?) -> Bool {
        let entry = RegistryEntry(inbox: inbox, metadata: metadata.map(MetadataBox.init))
        let partition = partition(for: inbox, topic: topic)
        return inbox.state.withLock { state in
            guard !state.closed else { return false }
            state.topics[topic, default: 0] += 1
            partition.table.withLock { table in
                switch table[topic] {
                case nil: table[topic] = .one(entry)
                case .one(let first): table[topic] = .many(EntryList(first, entry))
                case .many(let list): list.append(entry)
                }
            }
            return true
        }
    }

    /// Removes the inbox's subscriptions to `topic`, those whose metadata equals
    /// `metadata` when it is given; returns how many were removed.
    @discardableResult
    func unsubscribe(_ inbox: Inbox, from topic: String, matching metadata: (any Hashable & Sendable)?) -> Int {
        let partition = partition(for: inbox, topic: topic)
        return inbox.state.withLock { state in
            guard let count = state.topics[topic] else { return 0 }
            let removed = partition.table.withLock { table in
                Self.remove(inbox, entriesOfInbox: count, topic: topic, from: &table) { entry in
                    guard let metadata else { return true }
                    return entry.metadata?.matches(metadata) ?? false
                }
            }
            state.topics[topic] = count - removed > 0 ? count - removed : nil
            return removed
        }
    }

    /// Removes every subscription of an inbox that has been closed.
    func removeAll(_ inbox: Inbox, topics: [String: Int]) {
        for (topic, count) in topics {
            let partition = partition(for: inbox, topic: topic)
            partition.table.withLock { table in
                _ = Self.remove(inbox, entriesOfInbox: count, topic: topic, from: &table) { _ in true }
            }
        }
    }

    private static func remove(
        _ inbox: Inbox,
        entriesOfInbox: Int,
        topic: String,
        from table: inout [String: TopicEntries],
        where shouldRemove: (RegistryEntry) -> Bool
    ) -> Int {
        switch table[topic] {
        case nil:
            return 0
        case .one(let entry):
            guard entry.inbox === inbox && shouldRemove(entry) else { return 0 }
            table[topic] = nil
            return 1
        case .many(let list):
            let removed = list.remove(inbox: inbox, entriesOfInbox: entriesOfInbox, where: shouldRemove)
            if list.count == 1 {
                table[topic] = .one(list.entries[0])
            } else if list.count == 0 {
                table[topic] = nil
            }
            return removed
        }
    }

    /// Calls `body` with a snapshot of the topic's entries in each partition
    /// that has some, outside the partition's lock.
    @inline(__always)
    func forEachEntries(of topic: String, _ body: (TopicSnapshot) -> Void) {
        if partitions.count == 1 || partitioning == .byTopic {
            let partition = partitions.count == 1 ? partitions[0] : partitions[Int(stableTopicHash(topic) % UInt32(partitions.count))]
            if let entries = partition.table.withLock({ $0[topic]?.snapshot }) { body(entries) }
            return
        }
        for partition in partitions {
            if let entries = partition.table.withLock({ $0[topic]?.snapshot }) { body(entries) }
        }
    }

    /// Every subscription to `topic`, in no particular order (for introspection and tests).
    func subscriptions(of topic: String) -> [RegistryEntry] {
        var result: [RegistryEntry] = []
        forEachEntries(of: topic) { entries in
            switch entries {
            case .one(let entry): result.append(entry)
            case .many(let entries): result.append(contentsOf: entries)
            }
        }
        return result
    }

    /// How many topics have at least one subscriber on this node.
    var topicCount: Int {
        if partitioning == .byTopic || partitions.count == 1 {
            return partitions.reduce(0) { $0 + $1.table.withLock { $0.count } }
        }
        var topics = Set<String>()
        for partition in partitions {
            partition.table.withLock { topics.formUnion($0.keys) }
        }
        return topics.count
    }
}

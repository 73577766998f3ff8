import Synchronization

/// The presences of one shard as readers see them: what ``Tracker/list(_:)``
/// and ``Tracker/presences(of:key:)`` read, and what ``PresenceEvents``
/// listeners are registered with.
///
/// It is separate from the shard's CRDT on purpose (upstream's reads wait in
/// the shard's mailbox behind merges and time out during large ones): the shard
/// computes a merge under its own lock and only then applies the resulting
/// joins and leaves here, in chunks, so a reader waits at most for one chunk.
/// Listeners receive each chunk under the same lock that applies it, so a
/// snapshot plus the diffs after it always adds up to the index.
final class PresenceReadIndex: Sendable {
    /// A registered ``PresenceEvents`` reader.
    private struct Listener {
        let channel: PresenceEventChannel
        let topics: Set<String>?
    }

    /// The node names of the replicas whose presences are in the index, by
    /// incarnation, with how many presences refer to each, so that a name is
    /// dropped with its replica's last presence.
    private struct ReplicaName {
        let name: NodeName
        var presences: Int
    }

    private struct Storage {
        var topics: [String: TopicPresences] = [:]
        var names: [UInt64: ReplicaName] = [:]
        var total = 0
        var listeners: [UInt64: Listener] = [:]
        var nextListener: UInt64 = 0
        var isClosed = false

        func presences(_ topic: TopicPresences, where include: (TopicPresences.Entry) -> Bool = { _ in true }) -> [Presence] {
            topic.entries.compactMap { entry in
                guard include(entry), let name = names[entry.incarnation]?.name else { return nil }
                let owner = PresenceOwnerID(
                    node: NodeIdentity(name: name, incarnation: Incarnation(rawValue: entry.incarnation)),
                    sequence: entry.sequence)
                return Presence(key: entry.key, owner: owner, meta: entry.meta)
            }
        }

        mutating func remove(_ record: PresenceRecord) {
            let incarnation = record.owner.node.incarnation.rawValue
            guard
                topics[record.topic]?.remove(
                    incarnation: incarnation, sequence: record.owner.sequence, key: record.key,
                    ref: record.meta.ref.rawValue) == true
            else { return }
            total -= 1
            if topics[record.topic]?.isEmpty == true { topics[record.topic] = nil }
            names[incarnation]?.presences -= 1
            if names[incarnation]?.presences == 0 { names[incarnation] = nil }
        }

        mutating func insert(_ record: PresenceRecord) {
            let incarnation = record.owner.node.incarnation.rawValue
            let before = topics[record.topic]?.count ?? 0
            topics[record.topic, default: TopicPresences()].upsert(
                incarnation: incarnation, sequence: record.owner.sequence, key: record.key, meta: record.meta)
            guard topics[record.topic]!.count > before else { return }
            total += 1
            names[incarnation, default: ReplicaName(name: record.owner.node.name, presences: 0)].presences += 1
        }
    }

    /// How many joins and leaves are applied per lock acquisition.
    static let chunkSize = 4096

    private let storage = Mutex(Storage())

    /// The presences of `topic`, in no particular order.
    func list(_ topic: String) -> [Presence] {
        storage.withLock { storage in
            guard let presences = storage.topics[topic] else { return [] }
            return storage.presences(presences)
        }
    }

    /// The presences of `topic` under `key`, one per owner.
    func presences(of topic: String, key: String) -> [Presence] {
        storage.withLock { storage in
            guard let presences = storage.topics[topic] else { return [] }
            return storage.presences(presences) { $0.key == key }
        }
    }

    /// How many presences in all.
    var count: Int {
        storage.withLock { $0.total }
    }

    /// Applies the joins and leaves of one shard step, chunk by chunk, and
    /// tells the listeners.
    ///
    /// A leave removes a presence only if it still holds the leaving
    /// presence's reference, so the leave and join of one update may come in
    /// either order.
    func apply(_ diff: TrackerDiff) {
        var leaves = diff.leaves[...]
        var joins = diff.joins[...]
        while !leaves.isEmpty || !joins.isEmpty {
            let leaveChunk = leaves.prefix(Self.chunkSize)
            leaves = leaves.dropFirst(leaveChunk.count)
            let joinChunk = joins.prefix(Self.chunkSize - leaveChunk.count)
            joins = joins.dropFirst(joinChunk.count)
            storage.withLock { storage in
                for record in leaveChunk { storage.remove(record) }
                for record in joinChunk { storage.insert(record) }
                guard !storage.listeners.isEmpty else { return }
                let chunkDiff = PresenceDiff(joins: joinChunk, leaves: leaveChunk)
                for listener in storage.listeners.values {
                    let visible = listener.topics.map { chunkDiff.restricted(to: $0) } ?? chunkDiff
                    if !visible.isEmpty { listener.channel.push(.diff(visible)) }
                }
            }
        }
    }

    /// Registers `channel` for the diffs of `topics` (all when `nil`) and returns
    /// the current presences of those topics, atomically; `nil` once closed.
    func listen(
        _ channel: PresenceEventChannel, topics: Set<String>?
    ) -> (id: UInt64, snapshot: [String: [Presence]])? {
        storage.withLock { storage in
            guard !storage.isClosed else { return nil }
            storage.nextListener += 1
            storage.listeners[storage.nextListener] = Listener(channel: channel, topics: topics)
            var snapshot: [String: [Presence]] = [:]
            if let topics {
                for topic in topics {
                    if let presences = storage.topics[topic] { snapshot[topic] = storage.presences(presences) }
                }
            } else {
                for (topic, presences) in storage.topics { snapshot[topic] = storage.presences(presences) }
            }
            return (storage.nextListener, snapshot)
        }
    }

    /// Stops sending to a listener.
    func stopListening(_ id: UInt64) {
        _ = storage.withLock { $0.listeners.removeValue(forKey: id) }
    }

    /// Ends every listener's sequence; later listeners get none.
    func close() {
        let listeners = storage.withLock { storage in
            storage.isClosed = true
            defer { storage.listeners.removeAll() }
            return Array(storage.listeners.values)
        }
        for listener in listeners { listener.channel.finish() }
    }
}

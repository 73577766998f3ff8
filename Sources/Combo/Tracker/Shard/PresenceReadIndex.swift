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

    private struct Storage {
        var topics: [String: [PresenceSlot: PresenceMeta]] = [:]
        var listeners: [UInt64: Listener] = [:]
        var nextListener: UInt64 = 0
        var isClosed = false
    }

    /// How many joins and leaves are applied per lock acquisition.
    static let chunkSize = 4096

    private let storage = Mutex(Storage())

    /// The presences of `topic`, in no particular order.
    func list(_ topic: String) -> [Presence] {
        storage.withLock { storage in
            guard let slots = storage.topics[topic] else { return [] }
            return slots.map { Presence(key: $0.key.key, owner: $0.key.owner, meta: $0.value) }
        }
    }

    /// The presences of `topic` under `key`, one per owner.
    func presences(of topic: String, key: String) -> [Presence] {
        storage.withLock { storage in
            guard let slots = storage.topics[topic] else { return [] }
            return slots.compactMap { $0.key.key == key ? Presence(key: key, owner: $0.key.owner, meta: $0.value) : nil }
        }
    }

    /// How many presences in all.
    var count: Int {
        storage.withLock { $0.topics.values.reduce(0) { $0 + $1.count } }
    }

    /// Applies the joins and leaves of one shard step, chunk by chunk, and
    /// tells the listeners.
    ///
    /// A leave removes a slot only if it still holds the leaving presence's
    /// reference, so the leave and join of one update may come in either order.
    func apply(_ diff: TrackerDiff) {
        var leaves = diff.leaves[...]
        var joins = diff.joins[...]
        while !leaves.isEmpty || !joins.isEmpty {
            let leaveChunk = leaves.prefix(Self.chunkSize)
            leaves = leaves.dropFirst(leaveChunk.count)
            let joinChunk = joins.prefix(Self.chunkSize - leaveChunk.count)
            joins = joins.dropFirst(joinChunk.count)
            storage.withLock { storage in
                for record in leaveChunk {
                    let slot = PresenceSlot(owner: record.owner, key: record.key)
                    guard storage.topics[record.topic]?[slot]?.ref == record.meta.ref else { continue }
                    storage.topics[record.topic]?[slot] = nil
                    if storage.topics[record.topic]?.isEmpty == true { storage.topics[record.topic] = nil }
                }
                for record in joinChunk {
                    storage.topics[record.topic, default: [:]][PresenceSlot(owner: record.owner, key: record.key)] = record.meta
                }
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
            func add(_ topic: String, _ slots: [PresenceSlot: PresenceMeta]) {
                snapshot[topic] = slots.map { Presence(key: $0.key.key, owner: $0.key.owner, meta: $0.value) }
            }
            if let topics {
                for topic in topics { if let slots = storage.topics[topic] { add(topic, slots) } }
            } else {
                for (topic, slots) in storage.topics { add(topic, slots) }
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

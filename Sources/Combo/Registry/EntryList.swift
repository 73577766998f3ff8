/// The entries of a topic with two or more subscriptions: a dense array for
/// fast dispatch, plus, once the topic is large, the position of one entry of
/// each subscriber, so that one subscriber leaving a topic of a hundred
/// thousand costs O(1) rather than a scan.
///
/// A class so that it is mutated in place under its partition's lock; readers
/// take a copy of ``entries`` (one retain) under the same lock, so a mutation
/// copies the array only while a dispatch is reading that very topic.
/// `@unchecked Sendable` because every access happens under the lock of the
/// partition that owns it.
final class EntryList: @unchecked Sendable {
    /// Topics smaller than this are scanned; the index would cost more than it saves.
    static let indexThreshold = 32

    // Both opt out of dynamic exclusivity checks (a `swift_beginAccess`, a
    // thread-local look-up, per access, on every dispatch to the topic): the
    // partition's lock already makes each access exclusive.
    @exclusivity(unchecked) private(set) var entries: ContiguousArray<RegistryEntry>
    /// Subscriber → the position of one of its entries (any one). Empty below the threshold.
    @exclusivity(unchecked) private var positions: [ObjectIdentifier: Int] = [:]

    init(_ first: RegistryEntry, _ second: RegistryEntry) {
        entries = [first, second]
    }

    var count: Int { entries.count }

    func append(_ entry: RegistryEntry) {
        entries.append(entry)
        if !positions.isEmpty {
            let key = ObjectIdentifier(entry.inbox)
            if positions[key] == nil { positions[key] = entries.count - 1 }
        } else if entries.count >= Self.indexThreshold {
            rebuildIndex()
        }
    }

    /// Removes the entries of `inbox` that `shouldRemove` selects and returns how many.
    ///
    /// - Parameter entriesOfInbox: how many entries `inbox` has in this topic,
    ///   which lets a single entry be found through the index.
    func remove(inbox: Inbox, entriesOfInbox: Int, where shouldRemove: (RegistryEntry) -> Bool) -> Int {
        let key = ObjectIdentifier(inbox)
        if entriesOfInbox == 1, let position = positions[key] {
            guard shouldRemove(entries[position]) else { return 0 }
            positions[key] = nil
            let lastIndex = entries.count - 1
            let last = entries.removeLast()
            if position < lastIndex {
                // Order across subscribers carries no meaning, so fill the hole with the last entry.
                entries[position] = last
                let lastKey = ObjectIdentifier(last.inbox)
                if positions[lastKey] == lastIndex { positions[lastKey] = position }
            }
            if entries.count < Self.indexThreshold / 2 { positions.removeAll() }
            return 1
        }
        let before = entries.count
        entries.removeAll { $0.inbox === inbox && shouldRemove($0) }
        let removed = before - entries.count
        if removed > 0 && !positions.isEmpty {
            if entries.count < Self.indexThreshold / 2 {
                positions.removeAll()
            } else {
                rebuildIndex()
            }
        }
        return removed
    }

    private func rebuildIndex() {
        positions.removeAll(keepingCapacity: true)
        positions.reserveCapacity(entries.count)
        for (position, entry) in entries.enumerated() {
            let key = ObjectIdentifier(entry.inbox)
            if positions[key] == nil { positions[key] = position }
        }
    }
}

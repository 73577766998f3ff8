/// The subscriptions of one topic in one registry partition.
///
/// Most topics have a single subscriber (a user's own channel), so that case is
/// stored inline without an array allocation.
enum TopicEntries: Sendable {
    case one(RegistryEntry)
    case many(ContiguousArray<RegistryEntry>)

    var count: Int {
        switch self {
        case .one: 1
        case .many(let entries): entries.count
        }
    }

    mutating func append(_ entry: RegistryEntry) {
        switch self {
        case .one(let first):
            self = .many([first, entry])
        case .many(var entries):
            self = .one(entry)  // release the array so the append below does not copy it
            entries.append(entry)
            self = .many(entries)
        }
    }

    /// Removes the entries of `inbox` that `shouldRemove` selects; returns
    /// what is left (nil when nothing is) and how many were removed.
    func removing(inbox: Inbox, where shouldRemove: (RegistryEntry) -> Bool) -> (TopicEntries?, Int) {
        switch self {
        case .one(let entry):
            if entry.inbox === inbox && shouldRemove(entry) { return (nil, 1) }
            return (self, 0)
        case .many(var entries):
            let before = entries.count
            entries.removeAll { $0.inbox === inbox && shouldRemove($0) }
            let removed = before - entries.count
            switch entries.count {
            case 0: return (nil, removed)
            case 1: return (.one(entries[0]), removed)
            default: return (.many(entries), removed)
            }
        }
    }
}

/// The subscriptions of one topic in one registry partition.
///
/// Most topics have a single subscriber (a user's own channel), so that case is
/// stored inline without an array allocation. Large topics keep an index from
/// subscriber to position so that one subscriber leaving a topic of a hundred
/// thousand costs O(1), not a scan (nor a copy) of the whole topic.
enum TopicEntries: Sendable {
    case one(RegistryEntry)
    case many(EntryList)

    var count: Int {
        switch self {
        case .one: 1
        case .many(let list): list.entries.count
        }
    }

    /// Adds an entry; consumes `self` so the list is mutated in place.
    consuming func appending(_ entry: RegistryEntry) -> TopicEntries {
        switch consume self {
        case .one(let first):
            var list = EntryList()
            list.append(first)
            list.append(entry)
            return .many(list)
        case .many(var list):
            list.append(entry)
            return .many(list)
        }
    }

    /// Removes the entries of `inbox` that `shouldRemove` selects; returns what
    /// is left (nil when nothing is) and how many were removed.
    ///
    /// - Parameter entriesOfInbox: how many entries `inbox` has in this topic,
    ///   which lets a single entry be found through the index.
    consuming func removing(
        inbox: Inbox,
        entriesOfInbox: Int,
        where shouldRemove: (RegistryEntry) -> Bool
    ) -> (TopicEntries?, Int) {
        switch consume self {
        case .one(let entry):
            if entry.inbox === inbox && shouldRemove(entry) { return (nil, 1) }
            return (.one(entry), 0)
        case .many(var list):
            let removed = list.remove(inbox: inbox, entriesOfInbox: entriesOfInbox, where: shouldRemove)
            switch list.entries.count {
            case 0: return (nil, removed)
            case 1: return (.one(list.entries[0]), removed)
            default: return (.many(list), removed)
            }
        }
    }
}

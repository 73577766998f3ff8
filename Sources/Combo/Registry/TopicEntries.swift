/// The subscriptions of one topic in one registry partition.
///
/// Most topics have a single subscriber (a user's own channel), so that case is
/// stored inline without any allocation beyond the table's own.
enum TopicEntries: Sendable {
    case one(RegistryEntry)
    case many(EntryList)

    /// The entries as they are now, to read outside the partition's lock.
    var snapshot: TopicSnapshot {
        switch self {
        case .one(let entry): .one(entry)
        case .many(let list): .many(list.entries)
        }
    }
}

/// An immutable view of a topic's entries, taken under the partition's lock
/// and read after releasing it.
enum TopicSnapshot: Sendable {
    case one(RegistryEntry)
    case many(ContiguousArray<RegistryEntry>)
}

/// The topics a ``TrackerState`` holds rows for, interned to small IDs so that a
/// row stores four bytes for its topic and a topic shared by many rows is stored once.
struct TopicTable: Sendable {
    /// The entries, by ID.
    private var entries: [TopicEntry] = []
    /// The ID of each topic with rows.
    private var lookup: [String: UInt32] = [:]
    /// IDs of topics without rows, reused first.
    private var freeIDs: [UInt32] = []

    /// An empty table.
    init() {}

    /// The ID of `name`, if the table holds it.
    func id(of name: String) -> UInt32? {
        lookup[name]
    }

    /// The ID of `name`, adding it if needed.
    mutating func intern(_ name: String) -> UInt32 {
        if let id = lookup[name] { return id }
        let id: UInt32
        if let reused = freeIDs.popLast() {
            id = reused
            entries[Int(id)] = TopicEntry(name: name)
        } else {
            id = UInt32(entries.count)
            precondition(id < StoredRow.hasPreviousRefFlag, "more than 2^31 topics in one tracker shard")
            entries.append(TopicEntry(name: name))
        }
        lookup[name] = id
        return id
    }

    /// The entry of topic `id`.
    subscript(id: UInt32) -> TopicEntry {
        get { entries[Int(id)] }
        _modify { yield &entries[Int(id)] }
    }

    /// Forgets topic `id` once it has no rows left.
    mutating func releaseIfEmpty(_ id: UInt32) {
        guard entries[Int(id)].count == 0 else { return }
        lookup[entries[Int(id)].name] = nil
        entries[Int(id)] = TopicEntry(name: "")
        freeIDs.append(id)
    }

    /// How many topics have rows.
    var count: Int { lookup.count }
}

/// One interned topic of a ``TrackerState``: its name and the ends of its list of rows.
struct TopicEntry: Sendable {
    /// The topic.
    var name: String
    /// The first row of the topic, or ``StoredRow/none``.
    var head: UInt32
    /// The last row of the topic, or ``StoredRow/none``; rows are kept in arrival order.
    var tail: UInt32
    /// How many rows the topic has; the entry is freed when it reaches 0.
    var count: Int

    /// A topic without rows.
    init(name: String) {
        self.name = name
        head = StoredRow.none
        tail = StoredRow.none
        count = 0
    }
}

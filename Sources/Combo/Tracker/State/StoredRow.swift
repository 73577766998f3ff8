/// One presence as ``TrackerState`` stores it: 80 bytes, no allocation of its own.
///
/// The replica and the topic are small integers into the state's tables; the owner
/// is the replica plus ``ownerSequence`` (presences are made by their owner's
/// node). The links thread rows into per-topic and per-owner lists so that neither
/// needs a collection per topic or per owner.
struct StoredRow: Sendable {
    /// The link value meaning "no row".
    static let none = UInt32.max
    /// The ``replica`` of a free slot.
    static let freeReplica = UInt32.max
    /// The bit of ``topicAndFlags`` that says ``previousRef`` is set; topic IDs stay below it.
    static let hasPreviousRefFlag: UInt32 = 1 << 31

    /// The clock of the presence's tag.
    var clock: UInt64
    /// The owner's sequence number on the replica.
    var ownerSequence: UInt64
    /// ``PresenceMeta/ref``.
    var ref: UInt64
    /// ``PresenceMeta/previousRef`` when ``topicAndFlags`` says it is set.
    var previousRef: UInt64
    /// The key within the topic.
    var key: String
    /// The application's metadata values, shared with equal rows where possible.
    var values: [String: PresenceValue]
    /// The replica's slot in the state's replica table, ``freeReplica`` for a free slot.
    var replica: UInt32
    /// The topic's ID in the state's topic table, plus ``hasPreviousRefFlag``.
    var topicAndFlags: UInt32
    /// The previous row of the same topic, or ``none``.
    var topicPrevious: UInt32
    /// The next row of the same topic, or ``none``.
    var topicNext: UInt32
    /// The previous row of the same local owner, or ``none`` (remote rows are in no owner list).
    var ownerPrevious: UInt32
    /// The next row of the same local owner, or ``none``.
    var ownerNext: UInt32

    /// A row for a new presence, not yet linked.
    init(replica: UInt32, clock: UInt64, ownerSequence: UInt64, topic: UInt32, key: String, meta: PresenceMeta) {
        self.clock = clock
        self.ownerSequence = ownerSequence
        self.key = key
        self.replica = replica
        self.topicAndFlags = topic
        self.topicPrevious = Self.none
        self.topicNext = Self.none
        self.ownerPrevious = Self.none
        self.ownerNext = Self.none
        self.ref = 0
        self.previousRef = 0
        self.values = [:]
        setMeta(meta)
    }

    /// The topic's ID.
    var topic: UInt32 { topicAndFlags & ~Self.hasPreviousRefFlag }

    /// Whether the slot holds no presence.
    var isFree: Bool { replica == Self.freeReplica }

    /// The metadata (references and values).
    var meta: PresenceMeta {
        PresenceMeta(
            ref: PresenceRef(rawValue: ref),
            previousRef: topicAndFlags & Self.hasPreviousRefFlag != 0 ? PresenceRef(rawValue: previousRef) : nil,
            values: values
        )
    }

    /// Replaces the metadata.
    mutating func setMeta(_ meta: PresenceMeta) {
        ref = meta.ref.rawValue
        values = meta.values
        if let previous = meta.previousRef {
            previousRef = previous.rawValue
            topicAndFlags |= Self.hasPreviousRefFlag
        } else {
            previousRef = 0
            topicAndFlags &= ~Self.hasPreviousRefFlag
        }
    }

    /// An unused slot; it holds no string or dictionary storage.
    static var free: StoredRow {
        StoredRow(
            replica: freeReplica, clock: 0, ownerSequence: 0, topic: 0, key: "",
            meta: PresenceMeta(ref: PresenceRef(rawValue: 0))
        )
    }
}

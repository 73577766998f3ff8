import NIOCore

/// Version vectors, deltas, full-state transfers and tracker payloads on the
/// wire (`docs/WIRE.md`, "Tracker state payloads").
///
/// A delta or transfer lists each replica once in a table at its start, and each
/// distinct topic once in a second table; everything after refers to them by
/// index, so a payload of many presences spends a byte or two on each reference.
/// Writers emit replicas, topics and groups in a fixed order, so equal values
/// always encode to equal bytes.
extension ByteBuffer {
    // MARK: - Version vectors

    /// Writes a version vector: a count, then each replica's identity and clock.
    mutating func writeVersionVector(_ vector: VersionVector) {
        writeTrackerVarint(UInt64(vector.count))
        for replica in Self.sortedReplicas(vector.replicas) {
            writeTrackerNodeIdentity(replica)
            writeTrackerVarint(vector[replica] ?? 0)
        }
    }

    /// Reads a version vector; a replica listed twice is an error.
    mutating func readVersionVector() throws(TrackerWireError) -> VersionVector {
        // A replica takes at least 11 bytes: a 1-byte name and its length, the incarnation, a clock.
        let count = try readTrackerCount(field: "version vector", minimumSize: 11)
        var clocks: [NodeIdentity: UInt64] = [:]
        clocks.reserveCapacity(count)
        for _ in 0..<count {
            let replica = try readTrackerNodeIdentity(field: "version vector replica")
            let clock = try readTrackerVarint(field: "version vector clock")
            guard clocks.updateValue(clock, forKey: replica) == nil else {
                throw .duplicate(field: "version vector replica")
            }
        }
        return VersionVector(clocks)
    }

    // MARK: - Payloads

    /// Writes a payload: the format version, the kind, then the delta or transfer.
    mutating func writeTrackerPayload(_ payload: TrackerPayload) {
        // Most presences take 30 to 60 bytes; reserving spares the buffer most of its regrowth.
        switch payload {
        case .delta(let delta): reserveCapacity(minimumWritableBytes: 64 + delta.valueCount * 40)
        case .full(let transfer): reserveCapacity(minimumWritableBytes: 64 + transfer.count * 40)
        }
        writeInteger(TrackerWire.version)
        switch payload {
        case .delta(let delta):
            writeInteger(TrackerWire.deltaKind)
            writeTrackerDelta(delta)
        case .full(let transfer):
            writeInteger(TrackerWire.fullKind)
            writeTrackerTransfer(transfer)
        }
    }

    /// Reads a payload; bytes after it are left unread.
    mutating func readTrackerPayload() throws(TrackerWireError) -> TrackerPayload {
        guard let version = readInteger(as: UInt8.self) else { throw .truncated(field: "payload version") }
        guard version == TrackerWire.version else { throw .unsupportedVersion(version) }
        guard let kind = readInteger(as: UInt8.self) else { throw .truncated(field: "payload kind") }
        switch kind {
        case TrackerWire.deltaKind: return .delta(try readTrackerDelta())
        case TrackerWire.fullKind: return .full(try readTrackerTransfer())
        default: throw .invalidKind(kind)
        }
    }

    // MARK: - Deltas

    /// Writes a delta: replica and topic tables, the origin, the ranges, the
    /// dots outside them, and the values.
    mutating func writeTrackerDelta(_ delta: TrackerDelta) {
        var replicas = Set(delta.start.replicas)
        replicas.formUnion(delta.dots.keys)
        replicas.formUnion(delta.values.keys)
        let table = writeTrackerHeader(origin: delta.origin, replicas: replicas, values: delta.values)
        writeTrackerVarint(UInt64(delta.start.count))
        for (index, replica) in table.replicas.enumerated() {
            guard let first = delta.start[replica] else { continue }
            writeTrackerVarint(UInt64(index))
            writeTrackerVarint(first)
            writeTrackerVarint(delta.end[replica] ?? first)
        }
        writeTrackerDotGroups(delta.dots, table: table)
        writeTrackerValueGroups(delta.values, table: table)
    }

    /// Reads a delta; every value's dot must lie in the delta's clouds.
    mutating func readTrackerDelta() throws(TrackerWireError) -> TrackerDelta {
        let (replicas, origin, topics) = try readTrackerHeader()
        let rangeCount = try readTrackerCount(field: "ranges", minimumSize: 3, limit: replicas.count)
        var start: [NodeIdentity: UInt64] = [:]
        var end: [NodeIdentity: UInt64] = [:]
        for _ in 0..<rangeCount {
            let replica = replicas[try readTrackerIndex(field: "range replica", count: replicas.count)]
            let first = try readTrackerVarint(field: "range start")
            let last = try readTrackerVarint(field: "range end")
            guard last >= first else { throw .invalidClock(field: "range end") }
            guard start.updateValue(first, forKey: replica) == nil else { throw .duplicate(field: "range replica") }
            end[replica] = last
        }
        let dots = try readTrackerDotGroups(replicas: replicas)
        let values = try readTrackerValueGroups(replicas: replicas, topics: topics)
        for (replica, entries) in values {
            let first = start[replica]
            let last = end[replica]
            for entry in entries {
                if let first, let last, entry.clock > first, entry.clock <= last { continue }
                guard dots[replica]?.contains(entry.clock) == true else { throw .valueOutsideClouds }
            }
        }
        return TrackerDelta(
            origin: origin, start: VersionVector(start), end: VersionVector(end), dots: dots, values: values
        )
    }

    // MARK: - Transfers

    /// Writes a full-state transfer: replica and topic tables, the origin, the
    /// context, the clouds, and the values.
    mutating func writeTrackerTransfer(_ transfer: TrackerTransfer) {
        var replicas = Set(transfer.context.replicas)
        replicas.formUnion(transfer.clouds.keys)
        replicas.formUnion(transfer.values.keys)
        let table = writeTrackerHeader(origin: transfer.origin, replicas: replicas, values: transfer.values)
        writeTrackerVarint(UInt64(transfer.context.count))
        for (index, replica) in table.replicas.enumerated() {
            guard let clock = transfer.context[replica] else { continue }
            writeTrackerVarint(UInt64(index))
            writeTrackerVarint(clock)
        }
        writeTrackerDotGroups(transfer.clouds, table: table)
        writeTrackerValueGroups(transfer.values, table: table)
    }

    /// Reads a full-state transfer; every value's dot must lie in its context or clouds.
    mutating func readTrackerTransfer() throws(TrackerWireError) -> TrackerTransfer {
        let (replicas, origin, topics) = try readTrackerHeader()
        let contextCount = try readTrackerCount(field: "context", minimumSize: 2, limit: replicas.count)
        var context: [NodeIdentity: UInt64] = [:]
        for _ in 0..<contextCount {
            let replica = replicas[try readTrackerIndex(field: "context replica", count: replicas.count)]
            let clock = try readTrackerVarint(field: "context clock")
            guard context.updateValue(clock, forKey: replica) == nil else { throw .duplicate(field: "context replica") }
        }
        let clouds = try readTrackerDotGroups(replicas: replicas)
        let values = try readTrackerValueGroups(replicas: replicas, topics: topics)
        for (replica, entries) in values {
            let known = context[replica] ?? 0
            for entry in entries where entry.clock > known {
                guard clouds[replica]?.contains(entry.clock) == true else { throw .valueOutsideClouds }
            }
        }
        return TrackerTransfer(origin: origin, context: VersionVector(context), clouds: clouds, values: values)
    }

    // MARK: - Shared parts

    /// Writes the replica table (origin first, then the others in a fixed order),
    /// the origin's index, and the topic table (in order of first use), and returns them.
    private mutating func writeTrackerHeader(
        origin: NodeIdentity, replicas: Set<NodeIdentity>, values: [NodeIdentity: [PresenceEntry]]
    ) -> (replicas: [NodeIdentity], topicIndex: [String: Int]) {
        var ordered = [origin]
        ordered.append(contentsOf: Self.sortedReplicas(replicas.subtracting([origin])))
        writeTrackerVarint(UInt64(ordered.count))
        for replica in ordered { writeTrackerNodeIdentity(replica) }
        writeTrackerVarint(0)

        var topics: [String] = []
        var topicIndex: [String: Int] = [:]
        for replica in ordered {
            for entry in values[replica] ?? [] where topicIndex[entry.topic] == nil {
                topicIndex[entry.topic] = topics.count
                topics.append(entry.topic)
            }
        }
        writeTrackerVarint(UInt64(topics.count))
        for topic in topics { writeTrackerString(topic) }
        return (ordered, topicIndex)
    }

    /// Reads the replica table, the origin and the topic table.
    private mutating func readTrackerHeader() throws(TrackerWireError) -> (
        replicas: [NodeIdentity], origin: NodeIdentity, topics: [String]
    ) {
        // An identity takes at least 10 bytes.
        let replicaCount = try readTrackerCount(
            field: "replicas", minimumSize: 10, limit: TrackerWire.maximumReplicas
        )
        var replicas: [NodeIdentity] = []
        replicas.reserveCapacity(replicaCount)
        var seen = Set<NodeIdentity>()
        for _ in 0..<replicaCount {
            let replica = try readTrackerNodeIdentity(field: "replica")
            guard seen.insert(replica).inserted else { throw .duplicate(field: "replica") }
            replicas.append(replica)
        }
        let origin = replicas[try readTrackerIndex(field: "origin", count: replicas.count)]
        let topicCount = try readTrackerCount(field: "topics")
        var topics: [String] = []
        topics.reserveCapacity(topicCount)
        for _ in 0..<topicCount { topics.append(try readTrackerString(field: "topic")) }
        return (replicas, origin, topics)
    }

    /// Writes dot sets by replica: a group count, then for each replica its index,
    /// an interval count and each interval's first and last clock.
    private mutating func writeTrackerDotGroups(_ groups: [NodeIdentity: DotSet], table: (replicas: [NodeIdentity], topicIndex: [String: Int])) {
        let present = table.replicas.enumerated().filter { groups[$0.element]?.isEmpty == false }
        writeTrackerVarint(UInt64(present.count))
        for (index, replica) in present {
            let intervals = groups[replica]?.intervals ?? []
            writeTrackerVarint(UInt64(index))
            writeTrackerVarint(UInt64(intervals.count))
            for interval in intervals {
                writeTrackerVarint(interval.lowerBound)
                writeTrackerVarint(interval.upperBound)
            }
        }
    }

    /// Reads dot sets by replica; intervals must ascend without overlapping and start at clock 1 or later.
    private mutating func readTrackerDotGroups(replicas: [NodeIdentity]) throws(TrackerWireError)
        -> [NodeIdentity: DotSet]
    {
        let groupCount = try readTrackerCount(field: "dot groups", minimumSize: 3, limit: replicas.count)
        var groups: [NodeIdentity: DotSet] = [:]
        for _ in 0..<groupCount {
            let replica = replicas[try readTrackerIndex(field: "dot group replica", count: replicas.count)]
            let intervalCount = try readTrackerCount(field: "dot intervals", minimumSize: 2)
            var intervals: [ClosedRange<UInt64>] = []
            intervals.reserveCapacity(intervalCount)
            var previous: UInt64 = 0
            for _ in 0..<intervalCount {
                let first = try readTrackerVarint(field: "dot interval")
                let last = try readTrackerVarint(field: "dot interval")
                guard first > previous, last >= first else { throw .invalidClock(field: "dot interval") }
                intervals.append(first...last)
                previous = last
            }
            guard groups.updateValue(DotSet(intervals: intervals), forKey: replica) == nil else {
                throw .duplicate(field: "dot group replica")
            }
        }
        return groups
    }

    /// Writes presences by replica: a group count, then for each replica its
    /// index, an entry count and the entries, each clock written as the step from
    /// the previous one.
    private mutating func writeTrackerValueGroups(_ groups: [NodeIdentity: [PresenceEntry]], table: (replicas: [NodeIdentity], topicIndex: [String: Int])) {
        let present = table.replicas.enumerated().filter { groups[$0.element]?.isEmpty == false }
        writeTrackerVarint(UInt64(present.count))
        for (index, replica) in present {
            let entries = groups[replica] ?? []
            writeTrackerVarint(UInt64(index))
            writeTrackerVarint(UInt64(entries.count))
            var previous: UInt64 = 0
            var lastTopic: (name: String, index: Int)?
            var lastValues: (values: [String: PresenceValue], bytes: [UInt8])?
            for entry in entries {
                writeTrackerVarint(entry.clock - previous)
                previous = entry.clock
                writeTrackerVarint(entry.ownerSequence)
                // Runs of one topic are common; comparing spares hashing the name.
                let topic: Int
                if let last = lastTopic, last.name == entry.topic {
                    topic = last.index
                } else {
                    topic = table.topicIndex[entry.topic] ?? 0
                    lastTopic = (entry.topic, topic)
                }
                writeTrackerVarint(UInt64(topic))
                writeTrackerString(entry.key)
                writePresenceMeta(entry.meta, reusing: &lastValues)
            }
        }
    }

    /// Reads presences by replica; clocks must ascend strictly from 1 or more.
    private mutating func readTrackerValueGroups(replicas: [NodeIdentity], topics: [String])
        throws(TrackerWireError) -> [NodeIdentity: [PresenceEntry]]
    {
        let groupCount = try readTrackerCount(field: "value groups", minimumSize: 3, limit: replicas.count)
        var groups: [NodeIdentity: [PresenceEntry]] = [:]
        var interner = PresenceValuesInterner()
        var lastValues: (bytes: ByteBuffer, values: [String: PresenceValue])?
        for _ in 0..<groupCount {
            let replica = replicas[try readTrackerIndex(field: "value group replica", count: replicas.count)]
            // An entry takes at least 14 bytes: clock, owner, topic, key length, ref and flags.
            let entryCount = try readTrackerCount(field: "values", minimumSize: 14)
            guard groups[replica] == nil else { throw .duplicate(field: "value group replica") }
            var entries: [PresenceEntry] = []
            entries.reserveCapacity(entryCount)
            var clock: UInt64 = 0
            for _ in 0..<entryCount {
                let step = try readTrackerVarint(field: "value clock")
                let (next, overflow) = clock.addingReportingOverflow(step)
                guard step > 0, !overflow else { throw .invalidClock(field: "value clock") }
                clock = next
                let owner = try readTrackerVarint(field: "value owner")
                let topic = topics[try readTrackerIndex(field: "value topic", count: topics.count)]
                let key = try readTrackerString(field: "value key")
                var meta = try readPresenceMeta(reusing: &lastValues)
                meta.values = interner.intern(meta.values)
                entries.append(PresenceEntry(clock: clock, ownerSequence: owner, topic: topic, key: key, meta: meta))
            }
            groups[replica] = entries
        }
        return groups
    }

    /// Replicas in a fixed order: by name, then incarnation.
    private static func sortedReplicas(_ replicas: some Sequence<NodeIdentity>) -> [NodeIdentity] {
        replicas.sorted { ($0.name.rawValue, $0.incarnation.rawValue) < ($1.name.rawValue, $1.incarnation.rawValue) }
    }
}

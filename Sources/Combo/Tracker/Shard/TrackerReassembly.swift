import NIOCore

/// Puts chunked tracker messages back together, one unfinished message per
/// sender node at a time (see ``TrackerChunk``).
///
/// Chunks of one message travel in order on one topic, so a message is
/// assembled by appending: a chunk that is not the next one expected drops
/// what was gathered (a chunk was lost), and so does the first chunk of
/// another message from the same node. Memory is bounded by one message of at
/// most ``maximumSize`` bytes per sending node.
struct TrackerReassembly {
    /// The largest message put back together (1 GiB, some twenty million
    /// presences); a longer one is dropped.
    static let maximumSize = 1 << 30

    /// What a chunk did.
    struct Outcome: Equatable {
        /// The encoded message the chunk completed, if it did.
        var message: ByteBuffer?
        /// Whether an unfinished message, or this chunk, was dropped.
        var dropped = false
    }

    private struct Partial {
        var sender: NodeIdentity
        var id: UInt64
        var count: Int
        var next: Int
        var bytes: ByteBuffer
    }

    /// Unfinished messages by sender node name: a restarted node's leftovers
    /// are replaced by its first chunk.
    private var partials: [NodeName: Partial] = [:]

    /// How many messages are being gathered.
    var pendingCount: Int { partials.count }

    /// Adds a chunk.
    mutating func add(_ chunk: TrackerChunk) -> Outcome {
        var outcome = Outcome()
        let name = chunk.sender.name
        if var partial = partials.removeValue(forKey: name) {
            let continues = partial.sender == chunk.sender && partial.id == chunk.id && partial.count == chunk.count
                && chunk.index == partial.next
            if continues, partial.bytes.readableBytes + chunk.bytes.readableBytes <= Self.maximumSize {
                var bytes = chunk.bytes
                partial.bytes.writeBuffer(&bytes)
                partial.next += 1
                if partial.next == partial.count {
                    outcome.message = partial.bytes
                } else {
                    partials[name] = partial
                }
                return outcome
            }
            outcome.dropped = true
        }
        guard chunk.index == 0 else {
            outcome.dropped = true
            return outcome
        }
        if chunk.count == 1 {
            outcome.message = chunk.bytes
            return outcome
        }
        var bytes = ByteBuffer()
        // Room for the whole message when it is modest; a large one grows as it comes.
        bytes.reserveCapacity(min(chunk.bytes.readableBytes * chunk.count, 64 << 20))
        var first = chunk.bytes
        bytes.writeBuffer(&first)
        partials[name] = Partial(sender: chunk.sender, id: chunk.id, count: chunk.count, next: 1, bytes: bytes)
        return outcome
    }
}

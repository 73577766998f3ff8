/// The rows of a ``TrackerState``, addressed by slot number.
///
/// Rows live in fixed-size chunks rather than one array, so growing never copies
/// every row and never leaves up to half an array's capacity unused: the slack is
/// at most one chunk. Freed slots are reused; ``highWater`` bounds the slots ever used.
struct RowSlab: Sendable {
    /// Rows per chunk: 1,024 rows, 80 KiB, below the allocator's default threshold for mapping pages.
    private static let chunkShift = 10
    /// The number of rows in a chunk.
    private static let chunkSize = 1 << chunkShift
    /// The bits of a slot that index within its chunk.
    private static let chunkMask = chunkSize - 1

    /// The rows, in chunks that never grow past their reserved size.
    private var chunks: [[StoredRow]] = []
    /// Released slots, reused first.
    private var freeSlots: [UInt32] = []

    /// How many slots hold a row.
    private(set) var count = 0
    /// One past the highest slot ever used: scans visit `0..<highWater`.
    private(set) var highWater: UInt32 = 0

    /// An empty slab.
    init() {}

    /// The row in `slot`.
    subscript(slot: UInt32) -> StoredRow {
        _read {
            let index = Int(slot)
            yield chunks[index >> Self.chunkShift][index & Self.chunkMask]
        }
        _modify {
            let index = Int(slot)
            yield &chunks[index >> Self.chunkShift][index & Self.chunkMask]
        }
    }

    /// Stores `row` in a free slot and returns the slot.
    mutating func allocate(_ row: StoredRow) -> UInt32 {
        count += 1
        if let slot = freeSlots.popLast() {
            self[slot] = row
            return slot
        }
        let slot = highWater
        highWater += 1
        if Int(slot) & Self.chunkMask == 0 {
            var chunk: [StoredRow] = []
            chunk.reserveCapacity(Self.chunkSize)
            chunks.append(chunk)
        }
        chunks[chunks.count - 1].append(row)
        return slot
    }

    /// Empties `slot`, releasing its strings; the slot is reused only after ``recycle(_:)``.
    mutating func release(_ slot: UInt32) {
        count -= 1
        self[slot] = .free
    }

    /// Makes a released slot available again.
    mutating func recycle(_ slot: UInt32) {
        freeSlots.append(slot)
    }

    /// Bytes reserved for rows, for memory accounting in tests.
    var reservedBytes: Int {
        chunks.count * Self.chunkSize * MemoryLayout<StoredRow>.stride + freeSlots.capacity * 4
    }
}

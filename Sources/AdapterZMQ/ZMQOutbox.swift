import Atomics
import Combo
import NIOCore

/// The queue from the tasks that broadcast to the thread that owns the
/// publishing socket: lock-free, many producers, one consumer.
///
/// A bounded ring in the style of Dmitry Vyukov's queue: each slot carries a
/// sequence number that says whose turn it is. A producer claims a position
/// with one compare-and-swap and publishes the slot with one store; the
/// consumer takes slots in position order, so envelopes leave in the order
/// their `enqueue` calls returned. No lock is taken per message, and no memory
/// is allocated per message (the slots are allocated once).
///
/// An envelope of up to ``inlineBytes`` is copied into its slot, and the
/// producer releases its buffer itself: a buffer allocated by one thread and
/// freed by another costs glibc an arena lock on both sides, more than the
/// copy. The slots' inline bytes are allocated once, with the ring, up to
/// ``inlineBudget`` in all; a ring with more slots than that allows keeps
/// every envelope as a shared buffer.
///
/// Waking: the consumer announces that it is about to sleep, then looks once
/// more; a producer that sees the announcement wakes it through ``wakeup``.
/// Both sides use sequentially consistent operations for this, so either the
/// consumer sees the new slot or the producer sees the announcement, and a
/// busy consumer costs producers no system call.
///
/// `@unchecked Sendable`: a slot's item is written only by the producer whose
/// compare-and-swap claimed its position and read only by the consumer after
/// the slot's sequence number, stored with release (or stronger) ordering,
/// says it is published; `dequeuePosition` belongs to the one consumer thread.
final class ZMQOutbox: @unchecked Sendable {
    /// The number of slots (a power of two).
    let capacity: Int
    private let mask: Int
    private let sequences: UnsafeMutablePointer<UnsafeAtomic<Int>.Storage>
    private let items: UnsafeMutablePointer<Slot>
    /// ``inlineBytes`` per slot; `nil` when the ring exceeds ``inlineBudget``.
    private let inline: UnsafeMutableRawPointer?
    private let enqueuePosition = ManagedAtomic<Int>(0)
    private let consumerSleeping = ManagedAtomic<Bool>(false)
    /// The consumer's alone; it opts out of dynamic exclusivity checks (a
    /// `swift_beginAccess` per envelope), as no two accesses overlap.
    @exclusivity(unchecked) private var dequeuePosition = 0
    /// What a producer signals when the consumer sleeps.
    let wakeup: ZMQWakeup

    /// The largest envelope a slot holds by copy.
    static let inlineBytes = 256
    /// The most memory the slots' inline bytes take (16,384 slots' worth).
    static let inlineBudget = 4 << 20

    /// What a slot holds: an envelope's bytes in the slot's inline memory
    /// (`envelope` is `nil`) or a shared buffer.
    private struct Slot {
        var envelope: ByteBuffer?
        var inlineLength: Int
        var target: NodeName?
    }

    /// A queue of at least `capacity` slots (rounded up to a power of two).
    init(capacity: Int) throws(ZMQError) {
        var size = 2
        while size < capacity { size <<= 1 }
        self.capacity = size
        mask = size - 1
        sequences = .allocate(capacity: size)
        for index in 0..<size {
            (sequences + index).initialize(to: UnsafeAtomic<Int>.Storage(index))
        }
        items = .allocate(capacity: size)
        inline = size * Self.inlineBytes <= Self.inlineBudget
            ? .allocate(byteCount: size * Self.inlineBytes, alignment: 16) : nil
        wakeup = try ZMQWakeup()
    }

    deinit {
        discardAll()
        sequences.deinitialize(count: capacity)
        sequences.deallocate()
        items.deallocate()
        inline?.deallocate()
    }

    private func sequence(_ slot: Int) -> UnsafeAtomic<Int> {
        UnsafeAtomic<Int>(at: sequences + slot)
    }

    /// Appends an item; returns false, changing nothing, when every slot is taken.
    func enqueue(_ item: ZMQOutgoing) -> Bool {
        let length = item.envelope.readableBytes
        var position = enqueuePosition.load(ordering: .relaxed)
        while true {
            let slot = position & mask
            let difference = sequence(slot).load(ordering: .acquiring) &- position
            if difference == 0 {
                let (claimed, current) = enqueuePosition.weakCompareExchange(
                    expected: position, desired: position &+ 1, ordering: .relaxed
                )
                if claimed {
                    if let inline, length <= Self.inlineBytes {
                        item.envelope.withUnsafeReadableBytes { bytes in
                            if length > 0 {
                                (inline + slot * Self.inlineBytes).copyMemory(from: bytes.baseAddress!, byteCount: length)
                            }
                        }
                        (items + slot).initialize(to: Slot(envelope: nil, inlineLength: length, target: item.target))
                    } else {
                        (items + slot).initialize(to: Slot(envelope: item.envelope, inlineLength: 0, target: item.target))
                    }
                    sequence(slot).store(position &+ 1, ordering: .sequentiallyConsistent)
                    if consumerSleeping.load(ordering: .sequentiallyConsistent),
                        consumerSleeping.exchange(false, ordering: .sequentiallyConsistent)
                    {
                        wakeup.signal()
                    }
                    return true
                }
                position = current
            } else if difference < 0 {
                // The slot still holds the item of one lap ago: full.
                return false
            } else {
                position = enqueuePosition.load(ordering: .relaxed)
            }
        }
    }

    /// Wakes the consumer whether or not it announced sleep (a producer that found the queue full).
    func nudge() {
        wakeup.signal()
    }

    // MARK: The consumer's side (one thread)

    /// Takes the oldest item, if one is published, and hands `body` its
    /// envelope's bytes (valid during the call only) and target.
    func dequeue<Result>(_ body: (UnsafeRawBufferPointer, NodeName?) -> Result) -> Result? {
        let slot = dequeuePosition & mask
        guard sequence(slot).load(ordering: .acquiring) == dequeuePosition &+ 1 else { return nil }
        let item = (items + slot).move()
        let result: Result
        if let envelope = item.envelope {
            result = envelope.withUnsafeReadableBytes { body($0, item.target) }
        } else {
            result = body(UnsafeRawBufferPointer(start: inline! + slot * Self.inlineBytes, count: item.inlineLength), item.target)
        }
        // Only now may a producer reuse the slot's inline bytes.
        sequence(slot).store(dequeuePosition &+ capacity, ordering: .releasing)
        dequeuePosition &+= 1
        return result
    }

    /// Announces that the consumer is about to sleep; returns false (and
    /// withdraws the announcement) when an item arrived meanwhile.
    func prepareToSleep() -> Bool {
        consumerSleeping.store(true, ordering: .sequentiallyConsistent)
        let slot = dequeuePosition & mask
        if sequence(slot).load(ordering: .sequentiallyConsistent) == dequeuePosition &+ 1 {
            consumerSleeping.store(false, ordering: .relaxed)
            return false
        }
        return true
    }

    /// Called by the consumer once awake, whatever woke it.
    func didWake() {
        consumerSleeping.store(false, ordering: .relaxed)
        wakeup.clear()
    }

    /// Drops every published item (items of a stopped run are never sent).
    @discardableResult
    func discardAll() -> Int {
        var count = 0
        while dequeue({ _, _ in }) != nil { count += 1 }
        return count
    }
}

/// A set of clocks of one replica, kept as sorted, disjoint, non-adjacent closed
/// intervals.
///
/// Clouds (dots seen beyond the contiguous context) are usually a handful of
/// clocks, but a delta that removes thousands of consecutive presences, or a gap
/// left by a lost delta, would make a set of single clocks large; as intervals
/// both stay a few entries, and a whole clock range is added in one step.
struct DotSet: Hashable, Sendable, CustomStringConvertible {
    /// The intervals, ascending; consecutive intervals leave at least one clock out.
    private(set) var intervals: [ClosedRange<UInt64>]

    /// An empty set.
    init() {
        intervals = []
    }

    /// The set of `clocks`.
    init(_ clocks: some Sequence<UInt64>) {
        intervals = []
        for clock in clocks { insert(clock) }
    }

    /// The union of `intervals`, which may come in any order and overlap.
    init(intervals: some Sequence<ClosedRange<UInt64>>) {
        self.intervals = []
        for interval in intervals { insert(interval) }
    }

    /// Whether the set holds no clock.
    var isEmpty: Bool { intervals.isEmpty }

    /// How many clocks the set holds, saturating at `Int.max`.
    var count: Int {
        var total = 0
        for interval in intervals {
            let (width, overflow) = (interval.upperBound - interval.lowerBound).addingReportingOverflow(1)
            guard !overflow, width <= UInt64(Int.max) else { return Int.max }
            let (sum, sumOverflow) = total.addingReportingOverflow(Int(width))
            if sumOverflow { return Int.max }
            total = sum
        }
        return total
    }

    /// The clocks one by one, ascending; for tests and small sets only.
    var clocks: [UInt64] {
        var result: [UInt64] = []
        for interval in intervals {
            var clock = interval.lowerBound
            while true {
                result.append(clock)
                if clock == interval.upperBound { break }
                clock += 1
            }
        }
        return result
    }

    /// Whether `clock` is in the set.
    func contains(_ clock: UInt64) -> Bool {
        let index = firstIndex(endingAtOrAfter: clock)
        return index < intervals.count && intervals[index].lowerBound <= clock
    }

    /// Adds one clock.
    mutating func insert(_ clock: UInt64) {
        insert(clock...clock)
    }

    /// Adds every clock of `range`.
    mutating func insert(_ range: ClosedRange<UInt64>) {
        // The first interval that overlaps or touches `range`, and the first that lies wholly after it.
        let low = range.lowerBound == 0 ? 0 : firstIndex(endingAtOrAfter: range.lowerBound - 1)
        var high = low
        while high < intervals.count,
            range.upperBound == .max || intervals[high].lowerBound <= range.upperBound + 1
        {
            high += 1
        }
        if low == high {
            intervals.insert(range, at: low)
        } else {
            let merged =
                min(range.lowerBound, intervals[low].lowerBound)...max(range.upperBound, intervals[high - 1].upperBound)
            intervals.replaceSubrange(low..<high, with: CollectionOfOne(merged))
        }
    }

    /// Adds every clock of `other`, in one pass over both sets (inserting
    /// intervals one by one would be quadratic in a peer's many-interval cloud).
    mutating func formUnion(_ other: DotSet) {
        if other.intervals.isEmpty { return }
        if intervals.isEmpty {
            intervals = other.intervals
            return
        }
        if other.intervals.count == 1 {
            insert(other.intervals[0])
            return
        }
        var merged: [ClosedRange<UInt64>] = []
        merged.reserveCapacity(intervals.count + other.intervals.count)
        var mine = 0
        var theirs = 0
        while mine < intervals.count || theirs < other.intervals.count {
            let next: ClosedRange<UInt64>
            if theirs == other.intervals.count
                || (mine < intervals.count && intervals[mine].lowerBound <= other.intervals[theirs].lowerBound)
            {
                next = intervals[mine]
                mine += 1
            } else {
                next = other.intervals[theirs]
                theirs += 1
            }
            if let last = merged.last, last.upperBound == .max || next.lowerBound <= last.upperBound + 1 {
                merged[merged.count - 1] = last.lowerBound...max(last.upperBound, next.upperBound)
            } else {
                merged.append(next)
            }
        }
        intervals = merged
    }

    /// Removes every clock of `range`.
    mutating func subtract(_ range: ClosedRange<UInt64>) {
        let low = firstIndex(endingAtOrAfter: range.lowerBound)
        var high = low
        while high < intervals.count, intervals[high].lowerBound <= range.upperBound { high += 1 }
        guard low < high else { return }
        var pieces: [ClosedRange<UInt64>] = []
        let first = intervals[low]
        let last = intervals[high - 1]
        if first.lowerBound < range.lowerBound { pieces.append(first.lowerBound...(range.lowerBound - 1)) }
        if last.upperBound > range.upperBound { pieces.append((range.upperBound + 1)...last.upperBound) }
        intervals.replaceSubrange(low..<high, with: pieces)
    }

    /// The clocks of the set that are not in `other`, in one pass over both sets.
    func subtracting(_ other: DotSet) -> DotSet {
        if intervals.isEmpty || other.intervals.isEmpty { return self }
        var result: [ClosedRange<UInt64>] = []
        result.reserveCapacity(intervals.count)
        var theirs = 0
        for interval in intervals {
            var low = interval.lowerBound
            let high = interval.upperBound
            var exhausted = false
            // Skip removed intervals wholly below what is left of this one.
            while theirs < other.intervals.count, other.intervals[theirs].upperBound < low { theirs += 1 }
            var probe = theirs
            while probe < other.intervals.count, other.intervals[probe].lowerBound <= high {
                let removed = other.intervals[probe]
                if removed.lowerBound > low { result.append(low...(removed.lowerBound - 1)) }
                if removed.upperBound >= high {
                    exhausted = true
                    break
                }
                low = removed.upperBound + 1
                probe += 1
            }
            if !exhausted { result.append(low...high) }
        }
        var difference = DotSet()
        difference.intervals = result
        return difference
    }

    /// Removes every clock up to and including `clock`.
    mutating func removeAll(through clock: UInt64) {
        subtract(0...clock)
    }

    /// Folds the clocks that continue `context` into it and drops those it
    /// already covers: upstream `compact/1` for one replica.
    mutating func compact(into context: inout UInt64) {
        var consumed = 0
        for interval in intervals {
            guard context == .max || interval.lowerBound <= context + 1 else { break }
            context = max(context, interval.upperBound)
            consumed += 1
        }
        if consumed > 0 { intervals.removeFirst(consumed) }
    }

    /// The index of the first interval whose upper bound is at least `clock`
    /// (`intervals.count` when there is none).
    private func firstIndex(endingAtOrAfter clock: UInt64) -> Int {
        var low = 0
        var high = intervals.count
        while low < high {
            let middle = (low + high) / 2
            if intervals[middle].upperBound < clock {
                low = middle + 1
            } else {
                high = middle
            }
        }
        return low
    }

    var description: String {
        "{" + intervals.map { $0.lowerBound == $0.upperBound ? "\($0.lowerBound)" : "\($0.lowerBound)-\($0.upperBound)" }
            .joined(separator: ", ") + "}"
    }
}

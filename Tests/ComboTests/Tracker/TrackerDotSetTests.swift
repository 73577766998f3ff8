@testable import Combo
import Testing

@Suite("Tracker dot sets")
struct TrackerDotSetTests {
    @Test("insertions merge touching and overlapping intervals")
    func insertions() {
        var set = DotSet()
        set.insert(5)
        set.insert(7)
        #expect(set.intervals == [5...5, 7...7])
        set.insert(6)
        #expect(set.intervals == [5...7])
        set.insert(1...2)
        set.insert(10...12)
        #expect(set.intervals == [1...2, 5...7, 10...12])
        set.insert(3...9)
        #expect(set.intervals == [1...12])
        set.insert(UInt64.max)
        set.insert((UInt64.max - 1)...UInt64.max)
        #expect(set.intervals == [1...12, (UInt64.max - 1)...UInt64.max])
        #expect(set.count == 14)
        #expect(set.contains(12) && !set.contains(13) && set.contains(.max) && !set.contains(0))
        set.insert(0)
        #expect(set.intervals.first == 0...12)
    }

    @Test("subtracting and removing up to a clock")
    func subtracting() {
        var set = DotSet(intervals: [1...10, 20...30])
        set.subtract(5...22)
        #expect(set.intervals == [1...4, 23...30])
        set.subtract(0...0)
        #expect(set.intervals == [1...4, 23...30])
        set.removeAll(through: 23)
        #expect(set.intervals == [24...30])
        set.subtract(0...UInt64.max)
        #expect(set.isEmpty)
    }

    @Test("set difference agrees with clock-by-clock difference")
    func setDifference() {
        let cases: [([ClosedRange<UInt64>], [ClosedRange<UInt64>])] = [
            ([1...10, 20...30], [5...22]),
            ([1...10, 20...30], [0...0, 3...3, 9...21, 25...25, 30...40]),
            ([1...10], []),
            ([], [1...10]),
            ([1...3, 5...7, 9...11], [2...2, 6...6, 10...10]),
            ([1...3, 5...7, 9...11], [0...100]),
            ([0...0, (UInt64.max - 2)...UInt64.max], [UInt64.max...UInt64.max]),
        ]
        for (left, right) in cases {
            let a = DotSet(intervals: left)
            let b = DotSet(intervals: right)
            let expected = a.intervals.last?.upperBound ?? 0 > 1000
                ? DotSet(intervals: [0...0, (UInt64.max - 2)...(UInt64.max - 1)])
                : DotSet(a.clocks.filter { !b.contains($0) })
            #expect(a.subtracting(b) == expected, "\(a) - \(b)")
        }
    }

    @Test("compaction folds continuing clocks into the context")
    func compaction() {
        var set = DotSet([3, 4, 6])
        var context: UInt64 = 1
        set.compact(into: &context)
        #expect(context == 1 && set.clocks == [3, 4, 6])
        context = 2
        set.compact(into: &context)
        #expect(context == 4 && set.clocks == [6])
        var covered = DotSet([1, 2])
        var ahead: UInt64 = 9
        covered.compact(into: &ahead)
        #expect(ahead == 9 && covered.isEmpty)
        var top = DotSet([UInt64.max])
        var maxed = UInt64.max
        top.compact(into: &maxed)
        #expect(maxed == .max && top.isEmpty)
    }

    @Test("a huge interval counts without overflow")
    func saturatingCount() {
        let set = DotSet(intervals: [1...UInt64.max])
        #expect(set.count == Int.max)
        #expect(set.contains(1 << 40))
    }

    @Test("union merges interleaved, touching and overlapping intervals in one pass")
    func union() {
        var set = DotSet(intervals: [1...2, 10...12, 20...20, 30...40])
        set.formUnion(DotSet(intervals: [3...4, 13...19, 25...31, 50...50]))
        #expect(set.intervals == [1...4, 10...20, 25...40, 50...50])
        set.formUnion(DotSet())
        #expect(set.intervals == [1...4, 10...20, 25...40, 50...50])
        var empty = DotSet()
        empty.formUnion(set)
        #expect(empty == set)
        set.formUnion(DotSet(intervals: [0...UInt64.max]))
        #expect(set.intervals == [0...UInt64.max])
        var many = DotSet([2])
        many.formUnion(DotSet((0..<50_000).map { UInt64($0) * 3 + 1 }))
        #expect(many.intervals.count == 50_000)
        #expect(many.contains(2) && many.contains(1) && !many.contains(3))
    }
}

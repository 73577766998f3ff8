@testable import Combo
import Testing

@Suite("Tracker version vectors and clock sets")
struct TrackerVersionVectorTests {
    /// Replicas of the examples.
    static let a = TrackerFixture.node("a")
    static let b = TrackerFixture.node("b")
    static let c = TrackerFixture.node("c")
    static let d = TrackerFixture.node("d")

    @Test("dominates compares the other's replicas and needs at least as many")
    func dominates() {
        let clock1: VersionVector = [Self.a: 1, Self.b: 2, Self.c: 3]
        let clock2: VersionVector = [Self.b: 2, Self.c: 3, Self.d: 1]
        let clock3: VersionVector = [Self.a: 1, Self.b: 2]
        #expect(clock1.dominates(clock3))
        #expect(!clock3.dominates(clock1))
        #expect(!clock1.dominates(clock2))
        #expect(clock1.dominates(clock1))
        #expect(VersionVector().dominates(VersionVector()))
        #expect(clock3.dominates(VersionVector()))
        // Fewer replicas never dominate, even with larger clocks.
        #expect(!([Self.a: 9] as VersionVector).dominates([Self.a: 1, Self.b: 0]))
    }

    @Test("dominatesOrEqual compares its own replicas, with upstream's empty cases")
    func dominatesOrEqual() {
        #expect(VersionVector().dominatesOrEqual(VersionVector()))
        #expect(!VersionVector().dominatesOrEqual([Self.a: 0]))
        #expect(([Self.a: 0] as VersionVector).dominatesOrEqual(VersionVector()))
        #expect(([Self.a: 2] as VersionVector).dominatesOrEqual([Self.a: 2, Self.b: 7]))
        #expect(!([Self.a: 1] as VersionVector).dominatesOrEqual([Self.a: 2]))
        // A replica missing from the other counts as 0.
        #expect(([Self.a: 1, Self.c: 0] as VersionVector).dominatesOrEqual([Self.a: 1]))
    }

    @Test("upper and lower bounds")
    func bounds() {
        let left: VersionVector = [Self.a: 1, Self.b: 2, Self.c: 2]
        let right: VersionVector = [Self.a: 3, Self.b: 1, Self.d: 2]
        #expect(left.upperBound(right) == [Self.a: 3, Self.b: 2, Self.c: 2, Self.d: 2])
        #expect(VersionVector().upperBound(right) == right)
        #expect(right.upperBound(VersionVector()) == right)
        #expect(left.lowerBound(right) == [Self.a: 1, Self.b: 1, Self.c: 2, Self.d: 2])
        #expect(VersionVector().lowerBound(right) == right)
        #expect(right.lowerBound(VersionVector()) == right)
    }

    @Test("filtering and replicas")
    func filtering() {
        let clock: VersionVector = [Self.a: 1, Self.b: 2, Self.c: 3]
        #expect(clock.filtered(to: [Self.a, Self.b]) == [Self.a: 1, Self.b: 2])
        #expect(clock.filtered(to: [Self.a, Self.c]) == [Self.a: 1, Self.c: 3])
        #expect(clock.filtered(to: [Self.a, Self.d]) == [Self.a: 1])
        #expect(clock.filtered(to: [Self.d]) == VersionVector())
        #expect(clock.filtered(toReplicasOf: [Self.b: 0, Self.d: 5]) == [Self.b: 2])
        #expect(VersionVector().replicas.isEmpty)
        #expect(Set(clock.replicas) == [Self.a, Self.b, Self.c])
        #expect(clock[Self.d] == nil)
        #expect(clock[Self.b] == 2)
    }

    @Test("a clock set keeps only dominant clocks")
    func clockSetTrims() {
        let clock1 = (replica: Self.a, clock: [Self.a: 1, Self.b: 2, Self.c: 3] as VersionVector)
        let clock2 = (replica: Self.b, clock: [Self.b: 2, Self.c: 3, Self.d: 1] as VersionVector)
        let clock3 = (replica: Self.c, clock: [Self.a: 1, Self.b: 2] as VersionVector)
        func appending(_ clocks: [(replica: NodeIdentity, clock: VersionVector)], _ added: (replica: NodeIdentity, clock: VersionVector)) -> [String] {
            var set = ClockSet(clocks)
            set.append(added.replica, added.clock)
            return set.replicas.map(\.name.rawValue).sorted()
        }
        #expect(appending([clock2, clock3], clock1) == ["b", "c"])
        #expect(appending([clock1, clock2], clock3) == ["a", "b"])
        #expect(appending([clock1, clock2], clock1) == ["a", "b"])
        #expect(appending([clock1, clock2], clock2) == ["a", "b"])
        #expect(appending([clock1, clock3], clock2) == ["a", "b", "c"])
        // A clock dominating everything replaces the set; an empty clock changes nothing.
        #expect(appending([clock1, clock2], (Self.d, [Self.a: 5, Self.b: 5, Self.c: 5, Self.d: 5])) == ["d"])
        #expect(appending([clock1], (Self.d, VersionVector())) == ["a"])
        #expect(appending([], clock3) == ["c"])
        // A clock that dominates one member but not the union replaces that member.
        #expect(appending([clock3, clock2], (Self.a, [Self.a: 2, Self.b: 2, Self.c: 0])) == ["a", "b"])
    }
}

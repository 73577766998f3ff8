/// A version vector: for each replica, the highest clock known from it.
///
/// The Swift form of Phoenix.Tracker's context maps and its `Clock` module. A
/// replica that is absent differs from one at clock 0: ``dominates(_:)`` compares
/// the number of replicas first, as upstream does, and ``dominatesOrEqual(_:)``
/// treats an empty vector specially. Both keep upstream's exact semantics because
/// the heartbeat protocol (clock sampling, delta generations) depends on them.
struct VersionVector: Hashable, Sendable, CustomStringConvertible {
    /// The clocks, by replica.
    private(set) var clocks: [NodeIdentity: UInt64]

    /// An empty vector.
    init() {
        clocks = [:]
    }

    /// A vector holding `clocks`.
    init(_ clocks: [NodeIdentity: UInt64]) {
        self.clocks = clocks
    }

    /// The clock of `replica`, or `nil` when the vector does not know it.
    subscript(replica: NodeIdentity) -> UInt64? {
        get { clocks[replica] }
        set { clocks[replica] = newValue }
    }

    /// The replicas the vector knows, in no particular order.
    var replicas: Dictionary<NodeIdentity, UInt64>.Keys { clocks.keys }

    /// How many replicas the vector knows.
    var count: Int { clocks.count }

    /// Whether the vector knows no replica.
    var isEmpty: Bool { clocks.isEmpty }

    /// Whether `self` is at least `other` for every replica of `other`
    /// (upstream `Clock.dominates?/2`).
    ///
    /// A vector with fewer replicas never dominates; a replica missing from
    /// `self` counts as clock 0.
    func dominates(_ other: VersionVector) -> Bool {
        guard clocks.count >= other.clocks.count else { return false }
        return other.clocks.allSatisfy { replica, clock in (clocks[replica] ?? 0) >= clock }
    }

    /// Whether `self` is at least `other` for every replica of `self`
    /// (upstream `Clock.dominates_or_equal?/2`).
    ///
    /// Two empty vectors dominate each other; an empty vector dominates no
    /// non-empty one. Replicas only `other` knows are not compared.
    func dominatesOrEqual(_ other: VersionVector) -> Bool {
        if clocks.isEmpty { return other.clocks.isEmpty }
        return clocks.allSatisfy { replica, clock in clock >= (other.clocks[replica] ?? 0) }
    }

    /// For each replica of either vector, the larger clock.
    func upperBound(_ other: VersionVector) -> VersionVector {
        VersionVector(clocks.merging(other.clocks, uniquingKeysWith: max))
    }

    /// For each replica of either vector, the smaller clock (a replica only one
    /// vector knows keeps its clock there).
    func lowerBound(_ other: VersionVector) -> VersionVector {
        VersionVector(clocks.merging(other.clocks, uniquingKeysWith: min))
    }

    /// The vector restricted to `replicas`.
    func filtered(to replicas: some Sequence<NodeIdentity>) -> VersionVector {
        var result: [NodeIdentity: UInt64] = [:]
        for replica in replicas {
            if let clock = clocks[replica] { result[replica] = clock }
        }
        return VersionVector(result)
    }

    /// The vector restricted to the replicas `other` knows.
    func filtered(toReplicasOf other: VersionVector) -> VersionVector {
        clocks.count <= other.clocks.count
            ? VersionVector(clocks.filter { other.clocks[$0.key] != nil })
            : filtered(to: other.clocks.keys)
    }

    var description: String {
        let entries = clocks.map { "\($0.key): \($0.value)" }.sorted()
        return "[" + entries.joined(separator: ", ") + "]"
    }
}

extension VersionVector: ExpressibleByDictionaryLiteral {
    /// A vector written as a literal, for tests and examples; a repeated replica keeps its last clock.
    init(dictionaryLiteral elements: (NodeIdentity, UInt64)...) {
        self.init(Dictionary(elements, uniquingKeysWith: { _, last in last }))
    }
}

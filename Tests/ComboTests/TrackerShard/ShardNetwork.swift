@testable import Combo

/// Several ``ShardCore`` replicas joined by a hand-driven network: messages wait
/// in an outbox until a test delivers (or drops) them, and time is a number the
/// test advances, so every interleaving is deterministic.
struct ShardNetwork {
    struct Envelope {
        let from: NodeIdentity
        let to: NodeName?
        let message: TrackerMessage
    }

    let configuration: Tracker.Configuration
    let start = ContinuousClock.now
    var elapsed: Duration = .zero
    var cores: [NodeName: ShardCore] = [:]
    var outbox: [Envelope] = []
    var diffs: [NodeName: [TrackerDiff]] = [:]
    var events: [NodeName: [ReplicaEvent]] = [:]

    init(configuration: Tracker.Configuration = .init(
        name: "test", broadcastPeriod: .milliseconds(100), maxSilentPeriods: 3, downPeriod: .seconds(1),
        permdownPeriod: .seconds(10), clockSamplePeriods: 2)
    ) {
        self.configuration = configuration
    }

    var now: ContinuousClock.Instant { start + elapsed }

    static func identity(_ name: String, _ incarnation: UInt64 = 1) -> NodeIdentity {
        NodeIdentity(name: try! NodeName(name), incarnation: Incarnation(rawValue: incarnation))
    }

    static func owner(_ node: NodeIdentity, _ sequence: UInt64 = 1) -> PresenceOwnerID {
        PresenceOwnerID(node: node, sequence: sequence)
    }

    @discardableResult
    mutating func add(_ identity: NodeIdentity, health: LocalHealth? = nil) -> NodeIdentity {
        cores[identity.name] = ShardCore(replica: identity, configuration: configuration, health: health)
        return identity
    }

    mutating func remove(_ name: String) {
        cores[try! NodeName(name)] = nil
        outbox.removeAll { $0.from.name.rawValue == name }
    }

    mutating func record(_ name: NodeName, _ effects: ShardEffects) {
        if !effects.diff.joins.isEmpty || !effects.diff.leaves.isEmpty { diffs[name, default: []].append(effects.diff) }
        events[name, default: []].append(contentsOf: effects.replicaEvents)
        for outbound in effects.outbound {
            switch outbound {
            case .broadcast(let message): outbox.append(Envelope(from: cores[name]!.replica, to: nil, message: message))
            case .direct(let message, let node): outbox.append(Envelope(from: cores[name]!.replica, to: node, message: message))
            }
        }
    }

    mutating func track(_ name: String, _ owner: PresenceOwnerID, _ topic: String, _ key: String) throws {
        let node = try! NodeName(name)
        let (_, diff) = try cores[node]!.track(owner: owner, topic: topic, key: key, values: [:])
        var effects = ShardEffects()
        effects.append(diff)
        record(node, effects)
    }

    mutating func tick(_ name: String) {
        let node = try! NodeName(name)
        let effects = cores[node]!.tick(now: now)
        record(node, effects)
    }

    mutating func tickAll() {
        for name in cores.keys.sorted() { tick(name.rawValue) }
    }

    mutating func advance(_ duration: Duration) { elapsed += duration }

    /// Delivers every queued message (and those they cause) to its recipients.
    mutating func deliverAll(dropping shouldDrop: (Envelope) -> Bool = { _ in false }) {
        while !outbox.isEmpty {
            let envelope = outbox.removeFirst()
            if shouldDrop(envelope) { continue }
            let recipients = cores.keys.filter { name in
                name != envelope.from.name && (envelope.to == nil || envelope.to == name)
            }
            for name in recipients.sorted() {
                let effects = cores[name]!.receive(envelope.message, now: now)
                record(name, effects)
            }
        }
    }

    /// The queued messages, without delivering them.
    var pending: [TrackerMessage] { outbox.map(\.message) }

    func keys(_ name: String, _ topic: String) -> [String] {
        cores[try! NodeName(name)]!.state.list(topic: topic).map(\.key).sorted()
    }
}

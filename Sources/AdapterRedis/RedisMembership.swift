import Combo
import Metrics
import Synchronization

/// The other nodes of the cluster that this node knows to be up, learnt from
/// their hellos (``RedisHello``), and from them the number of receivers a
/// broadcast should reach: what a `PUBLISH`'s reply is compared with.
///
/// A node is known from its first hello until it says bye, or until
/// ``timeout`` of silence while this node could hear it: time spent with
/// this node's subscriber connection down does not count, and when the
/// subscriber comes back every node known before gets a full ``timeout``
/// again. So a Redis restart, which silences everyone, does not make a node
/// forget the others and then count the broadcasts they miss as delivered.
/// A node restarted under the same name replaces its earlier incarnation.
///
/// The number of known nodes is at most the number of distinct names heard
/// within ``timeout``: bounded by the cluster, not by the traffic.
final class RedisMembership: Sendable {
    /// How long a known node may stay silent, while this node listens, before it is forgotten.
    static let timeout: Duration = .seconds(5)

    private struct State {
        var members: [NodeName: (incarnation: Incarnation, lastHeard: ContinuousClock.Instant)] = [:]
        /// This node's subscriber connection is up: silence counts.
        var listening = false
    }

    private let own: NodeIdentity
    private let state = Mutex(State())
    /// This node's own subscriber plus the known nodes; read for every `PUBLISH` reply.
    private let expected = Atomic<Int>(1)
    private let gauge: Gauge

    init(node: NodeIdentity, gauge: Gauge) {
        self.own = node
        self.gauge = gauge
        gauge.record(0)
    }

    /// The receivers a broadcast should reach: this node's own subscriber
    /// connection and one per known node.
    var expectedBroadcastReceivers: Int { expected.load(ordering: .relaxed) }

    /// The other nodes known to be up.
    var knownNodes: Set<NodeName> { state.withLock { Set($0.members.keys) } }

    /// Takes in a hello or bye; this node's own are ignored.
    func heard(_ hello: RedisHello, now: ContinuousClock.Instant = .now) {
        guard hello.node.name != own.name else { return }
        update { state in
            let name = hello.node.name
            if let known = state.members[name], known.incarnation > hello.node.incarnation {
                return  // a late message from an earlier boot
            }
            switch hello.kind {
            case .hello: state.members[name] = (hello.node.incarnation, now)
            case .bye: state.members[name] = nil
            }
        }
    }

    /// This node's subscriber connection came up (`true`) or went down.
    func setListening(_ listening: Bool, now: ContinuousClock.Instant = .now) {
        update { state in
            if listening, !state.listening {
                for name in state.members.keys { state.members[name]!.lastHeard = now }
            }
            state.listening = listening
        }
    }

    /// Forgets the nodes silent for longer than ``timeout`` while this node listened.
    func expire(now: ContinuousClock.Instant = .now) {
        update { state in
            guard state.listening else { return }
            state.members = state.members.filter { now - $0.value.lastHeard <= Self.timeout }
        }
    }

    /// Forgets every node (the adapter stopped).
    func reset() {
        update { state in
            state.members = [:]
            state.listening = false
        }
    }

    private func update(_ change: (inout State) -> Void) {
        state.withLock { state in
            change(&state)
            expected.store(1 + state.members.count, ordering: .relaxed)
            // Under the lock, so that the gauge's last value is the last count.
            gauge.record(state.members.count)
        }
    }
}

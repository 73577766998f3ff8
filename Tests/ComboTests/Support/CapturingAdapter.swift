import Combo
import NIOCore
import Synchronization

/// An adapter that records what it is asked to send, and can be told to fail.
final class CapturingAdapter: Adapter, Sendable {
    struct Sent: Sendable {
        let envelope: ByteBuffer
        let shard: Int
        let target: NodeName?
        /// The actor the call ran on (`nil`: none, the global executor).
        var isolation: ObjectIdentifier? = nil
    }

    struct Failure: Error, Sendable {}

    let node: NodeIdentity
    let receiver: InboundReceiver
    let sent = Mutex<[Sent]>([])
    let failing = Atomic<Bool>(false)

    init(context: AdapterContext) {
        node = context.node
        receiver = context.receiver
    }

    nonisolated(nonsending) func broadcast(_ envelope: ByteBuffer, shard: Int) async throws {
        if failing.load(ordering: .relaxed) { throw Failure() }
        let isolation = (#isolation).map { ObjectIdentifier($0) }
        sent.withLock { $0.append(Sent(envelope: envelope, shard: shard, target: nil, isolation: isolation)) }
    }

    nonisolated(nonsending) func directBroadcast(_ envelope: ByteBuffer, to node: NodeName, shard: Int) async throws {
        if failing.load(ordering: .relaxed) { throw Failure() }
        let isolation = (#isolation).map { ObjectIdentifier($0) }
        sent.withLock { $0.append(Sent(envelope: envelope, shard: shard, target: node, isolation: isolation)) }
    }

    func run() async throws {}

    var sentEnvelopes: [Sent] { sent.withLock { $0 } }
}

/// Makes a ``CapturingAdapter`` and keeps it for the test to inspect.
struct CapturingAdapterFactory: AdapterFactory {
    final class Box: Sendable {
        let adapter = Mutex<CapturingAdapter?>(nil)
    }

    let nodeName: NodeName
    let box = Box()

    init(nodeName: NodeName = "capture") {
        self.nodeName = nodeName
    }

    func makeAdapter(context: AdapterContext) throws -> any Adapter {
        let adapter = CapturingAdapter(context: context)
        box.adapter.withLock { $0 = adapter }
        return adapter
    }

    var adapter: CapturingAdapter { box.adapter.withLock { $0! } }
}

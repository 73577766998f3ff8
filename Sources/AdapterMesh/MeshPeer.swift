import Combo
import NIOCore
import Synchronization

/// Another node as the sending side sees it: its newest known boot and
/// address, and the lanes of the session to it while one is up.
///
/// Envelopes sent before the first session to a boot is up wait here
/// (bounded by the outbound queue limit) and go out, in order, when it comes
/// up, so that a node joining loses nothing sent after it was learned. Once a
/// session to that boot is lost, envelopes are dropped until a session is up
/// again (at most once: a later boot never gets what was meant for an older one).
final class MeshPeer: Sendable {
    private struct State {
        var incarnation: Incarnation?
        var address: MeshAddress
        var session: (member: MeshMember, writers: [MeshLaneWriter])?
        var pending: [(shard: Int, envelope: ByteBuffer)] = []
        var pendingBytes = 0
        /// A session to the known boot was up and ended: drop rather than queue.
        var lost = false
        var stopped = false
    }

    let name: NodeName
    private let limit: Int
    private let metrics: MeshMetrics
    private let state: Mutex<State>
    private let wakeStream: AsyncStream<Void>
    private let wakeContinuation: AsyncStream<Void>.Continuation

    init(member: MeshMember, limit: Int, metrics: MeshMetrics) {
        self.name = member.node.name
        self.limit = limit
        self.metrics = metrics
        self.state = Mutex(State(incarnation: member.node.incarnation, address: member.address))
        (wakeStream, wakeContinuation) = AsyncStream.makeStream(bufferingPolicy: .bufferingNewest(1))
    }

    /// Where to dial now.
    var address: MeshAddress { state.withLock { $0.address } }

    /// The member while a session is up.
    var member: MeshMember? { state.withLock { $0.session?.member } }

    /// The newest known incarnation.
    var incarnation: Incarnation? { state.withLock { $0.incarnation } }

    /// Takes in news about this node (from a hello or gossip). A newer boot
    /// replaces the older one: the session to the older is closed and the
    /// session loop wakes to dial the new address.
    func observe(_ member: MeshMember) {
        let stale: [MeshLaneWriter] = state.withLock { state in
            if let known = state.incarnation {
                if member.node.incarnation < known { return [] }
                if member.node.incarnation == known {
                    if state.address != member.address, state.session == nil {
                        state.address = member.address
                        wakeContinuation.yield()
                    }
                    return []
                }
            }
            state.incarnation = member.node.incarnation
            state.address = member.address
            state.lost = false
            wakeContinuation.yield()
            guard let session = state.session, session.member.node != member.node else { return [] }
            return session.writers
        }
        for writer in stale { writer.close() }
    }

    /// Queues an envelope on the lane of `shard`, or in the pending queue while
    /// no session is up; `false` when it was dropped.
    func send(_ envelope: ByteBuffer, shard: Int) -> Bool {
        enum Route { case lane(MeshLaneWriter), queued, dropped }
        let route: Route = state.withLock { state in
            // Reaches into the session without copying it (its member and
            // lane array would be retained and released on every send).
            if let count = state.session?.writers.count {
                return .lane(state.session!.writers[shard % count])
            }
            guard !state.stopped, !state.lost, state.pendingBytes + envelope.readableBytes <= limit else {
                return .dropped
            }
            state.pending.append((shard, envelope))
            state.pendingBytes += envelope.readableBytes
            return .queued
        }
        switch route {
        case .lane(let writer): return writer.enqueue(.envelope, body: envelope)
        case .queued: return true
        case .dropped: return false
        }
    }

    /// Queues a control frame (gossip) on lane 0 if a session is up.
    func sendControl(_ type: MeshFrameType, body: ByteBuffer) {
        state.withLock { $0.session?.writers.first }?.enqueue(type, body: body)
    }

    /// Records a session whose every lane is connected, and sends what was
    /// waiting; `false` when the node it reached is older than a known boot.
    func sessionUp(_ member: MeshMember, writers: [MeshLaneWriter]) -> Bool {
        state.withLock { state in
            if let known = state.incarnation, member.node.incarnation < known { return false }
            guard !state.stopped else { return false }
            state.incarnation = member.node.incarnation
            state.address = member.address
            // Under the lock, so that every later send goes after these.
            for (shard, envelope) in state.pending where !writers[shard % writers.count].enqueue(.envelope, body: envelope) {
                metrics.droppedEnvelopes.increment()
            }
            state.pending = []
            state.pendingBytes = 0
            state.lost = false
            state.session = (member, writers)
            return true
        }
    }

    /// Ends the session; returns its member if one was up.
    func sessionDown() -> MeshMember? {
        state.withLock { state in
            defer {
                if state.session != nil { state.lost = true }
                state.session = nil
                state.pending = []
                state.pendingBytes = 0
            }
            return state.session?.member
        }
    }

    /// Writes what the session's lanes hold; each future succeeds once its
    /// lane's bytes are on the socket or the lane is gone.
    func flush() -> [EventLoopFuture<Void>] {
        state.withLock { $0.session?.writers ?? [] }.map { $0.flush() }
    }

    /// Stops queueing and closes the session's connections. Envelopes still
    /// waiting for a first session are dropped and counted.
    func stop() {
        let (writers, unsent) = state.withLock { state in
            state.stopped = true
            defer {
                state.pending = []
                state.pendingBytes = 0
            }
            return (state.session?.writers ?? [], state.pending.count)
        }
        if unsent > 0 { metrics.droppedEnvelopes.increment(by: unsent) }
        for writer in writers { writer.close() }
        wakeContinuation.finish()
    }

    /// Waits `delay`, or less if news about the node arrives meanwhile.
    func pause(_ delay: Duration) async {
        await withTaskGroup(of: Void.self) { group in
            group.addTask { try? await Task.sleep(for: delay) }
            group.addTask { [wakeStream] in
                for await _ in wakeStream { return }
            }
            await group.next()
            group.cancelAll()
        }
    }
}

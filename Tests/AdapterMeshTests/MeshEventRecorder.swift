import AdapterMesh
import Synchronization

/// Reads a membership sequence in the background and keeps every event, so
/// tests can wait for one with a deadline.
final class MeshEventRecorder: Sendable {
    private let sink: MeshEventSink
    private let task: Task<Void, Never>

    init(_ events: AsyncStream<MeshMembershipEvent>) {
        let sink = MeshEventSink()
        self.sink = sink
        self.task = Task {
            for await event in events {
                sink.events.withLock { $0.append(event) }
            }
        }
    }

    var events: [MeshMembershipEvent] { sink.events.withLock { $0 } }

    /// The members reported up, in order.
    var ups: [MeshMember] {
        events.compactMap { if case .up(let member) = $0 { member } else { nil } }
    }

    /// The members reported down, in order.
    var downs: [MeshMember] {
        events.compactMap { if case .down(let member) = $0 { member } else { nil } }
    }

    func stop() {
        task.cancel()
    }
}

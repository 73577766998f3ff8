import AdapterMesh
import Synchronization

/// The events a ``MeshEventRecorder`` read.
final class MeshEventSink: Sendable {
    let events = Mutex<[MeshMembershipEvent]>([])
}

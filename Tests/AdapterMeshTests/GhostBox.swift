import Synchronization

/// Lets the handlers reach the listener made after them.
final class GhostBox: Sendable {
    let ghost = Mutex<GhostListener?>(nil)
}

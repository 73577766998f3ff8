import Synchronization

/// Something that sends through a ``PubSub`` and has last words to say before
/// the PubSub's transport closes: a ``Tracker`` announcing that this node's
/// presences leave.
protocol TransportDependent: AnyObject, Sendable {
    /// Sends what must go out before the transport closes, and returns once it
    /// has been handed to the PubSub, or at `deadline`.
    func transportWillClose(deadline: ContinuousClock.Instant) async
}

/// The dependents of one PubSub, held weakly: a tracker holds its PubSub, so a
/// strong reference back would keep both alive forever.
final class TransportDependents: Sendable {
    private final class WeakBox: Sendable {
        // `weak let` keeps the box immutable; the runtime zeroes it atomically.
        weak let dependent: (any TransportDependent)?
        init(_ dependent: any TransportDependent) { self.dependent = dependent }
    }

    private let boxes = Mutex<[WeakBox]>([])

    /// Adds a dependent; entries whose dependent is gone are pruned here, so
    /// the list stays as long as the live dependents.
    func add(_ dependent: any TransportDependent) {
        boxes.withLock { boxes in
            boxes.removeAll { $0.dependent == nil }
            boxes.append(WeakBox(dependent))
        }
    }

    /// Lets every live dependent say its last words, all at once, bounded by `deadline`.
    func notifyTransportClosing(deadline: ContinuousClock.Instant) async {
        let live = boxes.withLock { boxes in boxes.compactMap(\.dependent) }
        await withTaskGroup(of: Void.self) { group in
            for dependent in live {
                group.addTask { await dependent.transportWillClose(deadline: deadline) }
            }
        }
    }
}

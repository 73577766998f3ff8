import Synchronization

/// Commands for the subscriber thread, with the wakeup that interrupts its
/// `poll(2)`. Commands are rare (a peer joins or leaves), so a lock per
/// command is fine here, unlike on the message path.
final class ZMQCommandQueue: Sendable {
    private let commands = Mutex<[ZMQSubscriberCommand]>([])
    let wakeup: ZMQWakeup

    init() throws(ZMQError) {
        wakeup = try ZMQWakeup()
    }

    func send(_ command: ZMQSubscriberCommand) {
        commands.withLock { $0.append(command) }
        wakeup.signal()
    }

    func take() -> [ZMQSubscriberCommand] {
        commands.withLock { commands in
            defer { commands.removeAll() }
            return commands
        }
    }

    var isEmpty: Bool { commands.withLock { $0.isEmpty } }
}

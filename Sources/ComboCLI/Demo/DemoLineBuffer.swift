import Synchronization

/// The lines a demo node printed, shared between its reader thread and the demo.
final class DemoLineBuffer: Sendable {
    let lines = Mutex<[String]>([])
    /// How many lines the demo has already matched or skipped.
    let consumed = Mutex(0)
}

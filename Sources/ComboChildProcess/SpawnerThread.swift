import Foundation
import Synchronization

/// The one thread that starts every child process, and lives as long as the
/// process does.
///
/// Linux sends a child its parent-death signal (`PR_SET_PDEATHSIG`) when the
/// *thread* that started it ends, not the process. Children started from a
/// thread of Swift's pool, which may end when idle, would be killed at a
/// random moment; started from this thread, they are killed exactly when
/// this process ends, crash or not.
final class SpawnerThread: Sendable {
    /// The thread every child starts from.
    static let shared = SpawnerThread()

    private typealias Job = @Sendable () -> Void

    private let jobs = Mutex<[Job]>([])
    private let pending = DispatchSemaphore(value: 0)

    private init() {
        let thread = Thread { [self] in
            while true {
                pending.wait()
                let job = jobs.withLock { $0.removeFirst() }
                job()
            }
        }
        thread.name = "combo-spawner"
        thread.start()
    }

    /// Runs `body` on the spawner thread and returns its result.
    func run<Result: Sendable>(_ body: @escaping @Sendable () -> Result) -> Result {
        let result = Mutex<Result?>(nil)
        let done = DispatchSemaphore(value: 0)
        jobs.withLock {
            $0.append {
                let value = body()
                result.withLock { $0 = value }
                done.signal()
            }
        }
        pending.signal()
        done.wait()
        return result.withLock { $0! }
    }
}

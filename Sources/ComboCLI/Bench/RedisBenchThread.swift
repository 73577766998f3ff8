import Foundation

/// Runs blocking work (hiredis' synchronous API) on a thread of its own, so
/// that it never occupies one of the few threads of Swift's cooperative pool
/// that the Combo side of the benchmark runs on.
enum RedisBenchThread {
    static func run<T: Sendable>(name: String, _ body: @escaping @Sendable () -> T) async -> T {
        await withCheckedContinuation { continuation in
            let thread = Thread { continuation.resume(returning: body()) }
            thread.name = name
            thread.start()
        }
    }
}

#if COMBO_TSAN
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// `Synchronization.Mutex`'s API over a `pthread_mutex_t`, for builds under
/// ThreadSanitizer only (`make tsan` defines `COMBO_TSAN`).
///
/// On Linux, `Synchronization.Mutex` locks with atomics and futexes inside the
/// Swift runtime's library, which is not built for ThreadSanitizer: TSan sees
/// neither the acquire nor the release, and reports every access a lock
/// protects as a race. A correct program with four threads appending to a
/// `Mutex<[Int]>` is reported as racing in every run on Swift 6.3; the same
/// program over a pthread mutex never is (`scripts/tsan-mutex-reproducer.swift`). TSan intercepts
/// `pthread_mutex_lock`, so it sees this lock. Each module that locks says
/// `typealias Mutex = SanitizerMutex` under `COMBO_TSAN`, which shadows the
/// standard library's `Mutex` in that module and nowhere else.
///
/// `@unchecked Sendable`: `value` is read and written only between
/// `pthread_mutex_lock` and `pthread_mutex_unlock` of `lock`.
package final class SanitizerMutex<Value: ~Copyable>: @unchecked Sendable {
    private let lock: UnsafeMutablePointer<pthread_mutex_t>
    private var value: Value

    /// A lock around `initialValue`.
    package init(_ initialValue: consuming Value) {
        lock = .allocate(capacity: 1)
        lock.initialize(to: pthread_mutex_t())
        pthread_mutex_init(lock, nil)
        value = initialValue
    }

    deinit {
        pthread_mutex_destroy(lock)
        lock.deallocate()
    }

    /// Runs `body` with the value while holding the lock.
    package func withLock<Result: ~Copyable, E: Error>(_ body: (inout Value) throws(E) -> Result) throws(E) -> Result {
        pthread_mutex_lock(lock)
        defer { pthread_mutex_unlock(lock) }
        return try body(&value)
    }

    /// Runs `body` with the value if the lock is free now; `nil` without waiting otherwise.
    package func withLockIfAvailable<Result: ~Copyable, E: Error>(
        _ body: (inout Value) throws(E) -> Result
    ) throws(E) -> Result? {
        guard pthread_mutex_trylock(lock) == 0 else { return nil }
        defer { pthread_mutex_unlock(lock) }
        return try body(&value)
    }
}

/// This module's locks are ThreadSanitizer-visible (see ``SanitizerMutex``).
typealias Mutex<Value: ~Copyable> = SanitizerMutex<Value>
#endif

// Why `make tsan` swaps `Synchronization.Mutex` for a pthread mutex.
//
// Four threads append to an array under a `Mutex`. The program is correct,
// yet ThreadSanitizer reports data races on Linux: the standard library's
// `Mutex` locks inside a runtime library that is not instrumented, so TSan
// never sees the lock's acquire and release.
//
//   swiftc -sanitize=thread scripts/tsan-mutex-reproducer.swift -o /tmp/repro && /tmp/repro
//       -> "WARNING: ThreadSanitizer: data race" reports, then 40000
//   swiftc -sanitize=thread -DPTHREAD scripts/tsan-mutex-reproducer.swift -o /tmp/repro && /tmp/repro
//       -> 40000, no report
import Dispatch
import Synchronization
#if PTHREAD
import Glibc

// `@unchecked Sendable`: `value` is read and written only between
// `pthread_mutex_lock` and `pthread_mutex_unlock` of `lock`.
final class Locked<Value>: @unchecked Sendable {
    private var lock = pthread_mutex_t()
    private var value: Value
    init(_ value: Value) {
        self.value = value
        pthread_mutex_init(&lock, nil)
    }
    func withLock<Result>(_ body: (inout Value) -> Result) -> Result {
        pthread_mutex_lock(&lock)
        defer { pthread_mutex_unlock(&lock) }
        return body(&value)
    }
}
final class Numbers: Sendable {
    let list = Locked<[Int]>([])
}
#else
final class Numbers: Sendable {
    let list = Mutex<[Int]>([])
}
#endif

let numbers = Numbers()
DispatchQueue.concurrentPerform(iterations: 4) { worker in
    for index in 0..<10_000 {
        numbers.list.withLock { $0.append(worker * 100_000 + index) }
    }
}
print(numbers.list.withLock { $0.count })

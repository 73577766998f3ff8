#if COMBO_TSAN
import Combo

/// Under ThreadSanitizer this module's locks are ones it understands (see `SanitizerMutex`).
typealias Mutex<Value: ~Copyable> = SanitizerMutex<Value>
#endif

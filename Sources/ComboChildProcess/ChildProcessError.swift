#if canImport(Glibc)
import Glibc
#endif

/// Why a ``ChildProcess`` did not start.
public struct ChildProcessError: Error, Equatable, CustomStringConvertible {
    /// The program that was to run.
    public let path: String
    /// The `errno` value `posix_spawn` reported.
    public let code: Int32

    /// An error for `path` with the `errno` value `code`.
    public init(path: String, code: Int32) {
        self.path = path
        self.code = code
    }

    /// The path and the system's message for the code.
    public var description: String {
        "cannot start \(path): \(String(cString: strerror(code)))"
    }
}

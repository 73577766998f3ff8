import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Loopback ports for the tests' sockets.
enum FreePort {
    /// Ports handed out in this test process: never twice, so a node restarted
    /// on its port cannot meet another test's node there.
    private static let used = Mutex<Set<Int>>([])

    /// Ports are drawn below Linux's ephemeral range (32768 and up), where the
    /// outgoing connections of the many tests running at once take their local
    /// ports: a port drawn there could be taken by one of them before a node binds it.
    /// The clustered CLI tests draw theirs from 26000 up: the two draws share no
    /// record, so a port one of them checked could otherwise be bound by the
    /// other before its node starts.
    static let range = 20_000..<26_000

    /// A port nobody listened on a moment ago (bound, then released).
    static func next() throws -> Int {
        for _ in 0..<1000 {
            let port = Int.random(in: range)
            guard used.withLock({ $0.insert(port).inserted }) else { continue }
            if try canBind(port) { return port }
        }
        throw TestFailure("no free port")
    }

    /// `tcp://127.0.0.1:PORT` with a fresh port.
    static func endpoint() throws -> String {
        "tcp://127.0.0.1:\(try next())"
    }

    private static func canBind(_ port: Int) throws -> Bool {
        #if canImport(Glibc)
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        #else
        let fd = socket(AF_INET, SOCK_STREAM, 0)
        #endif
        guard fd >= 0 else { throw TestFailure("socket() failed") }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = UInt16(port).bigEndian
        let length = socklen_t(MemoryLayout<sockaddr_in>.size)
        return withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) == 0 }
        }
    }
}

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

    /// A port nobody listened on a moment ago (bound to port 0, then released).
    static func next() throws -> Int {
        for _ in 0..<100 {
            let port = try bindEphemeral()
            if used.withLock({ $0.insert(port).inserted }) { return port }
        }
        throw TestFailure("no free port")
    }

    /// `tcp://127.0.0.1:PORT` with a fresh port.
    static func endpoint() throws -> String {
        "tcp://127.0.0.1:\(try next())"
    }

    private static func bindEphemeral() throws -> Int {
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
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { socketAddress in
                bind(fd, socketAddress, length) == 0 && getsockname(fd, socketAddress, &length) == 0
            }
        }
        guard bound else { throw TestFailure("bind() failed") }
        return Int(UInt16(bigEndian: address.sin_port))
    }
}

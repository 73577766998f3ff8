import CZMQ

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Starts the dedicated threads that own ZeroMQ sockets: their loops block in
/// `poll(2)` and libzmq calls, which must never happen on a Swift concurrency thread.
enum ZMQThread {
    private final class Body: Sendable {
        let name: String
        let run: @Sendable () -> Void

        init(name: String, run: @escaping @Sendable () -> Void) {
            self.name = name
            self.run = run
        }
    }

    /// Starts a detached thread running `body`; await its end through whatever `body` signals.
    static func start(name: String, _ body: @escaping @Sendable () -> Void) throws(ZMQError) {
        let box = Unmanaged.passRetained(Body(name: name, run: body)).toOpaque()
        #if canImport(Glibc)
        var thread = pthread_t()
        let status = pthread_create(&thread, nil, { argument in
            let body = Unmanaged<Body>.fromOpaque(argument!).takeRetainedValue()
            // Linux limits thread names to 15 bytes.
            combo_zmq_name_thread(String(body.name.prefix(15)))
            body.run()
            return nil
        }, box)
        #else
        var thread: pthread_t?
        let status = pthread_create(&thread, nil, { argument in
            let body = Unmanaged<Body>.fromOpaque(argument).takeRetainedValue()
            pthread_setname_np(String(body.name.prefix(63)))
            body.run()
            return nil
        }, box)
        #endif
        guard status == 0 else {
            Unmanaged<Body>.fromOpaque(box).release()
            throw .threadStartFailed(status)
        }
        #if canImport(Glibc)
        pthread_detach(thread)
        #else
        if let thread { pthread_detach(thread) }
        #endif
    }

    /// Runs `body` on a thread of its own and returns what it returns, without
    /// blocking the calling task (for calls that block, such as `zmq_ctx_term`).
    static func run<T: Sendable>(name: String, _ body: @escaping @Sendable () -> T) async throws(ZMQError) -> T {
        let result = ZMQOneShot<T>()
        try start(name: name) { result.fulfil(body()) }
        return await result.value()
    }
}

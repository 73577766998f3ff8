@testable import AdapterZMQ
import CZMQ

/// A raw libzmq socket of a test, on a thread of its own (libzmq sockets must
/// stay on one thread, and their blocking calls must not hold a Swift
/// concurrency thread): binds, runs a script, and stays open until released.
final class RawSocketThread: Sendable {
    let endpoint: String
    private let context: ZMQContext
    private let release: SharedFlag
    private let finished: ZMQOneShot<String?>

    private init(endpoint: String, context: ZMQContext, release: SharedFlag, finished: ZMQOneShot<String?>) {
        self.endpoint = endpoint
        self.context = context
        self.release = release
        self.finished = finished
    }

    /// Binds a socket of `type` on a free loopback port and runs `script` with it on a new thread.
    static func start(type: Int32, _ script: @escaping @Sendable (ZMQSocket) throws -> Void) async throws -> RawSocketThread {
        let context = try ZMQContext()
        let bound = ZMQOneShot<Result<String, ZMQError>>()
        let finished = ZMQOneShot<String?>()
        let release = SharedFlag()
        try ZMQThread.start(name: "test-raw") {
            let socket: ZMQSocket
            do throws(ZMQError) {
                socket = try ZMQSocket(context: context, type: type)
                // Blocking receives give up after 100 ms, so the script's loops stay bounded.
                try socket.set(ZMQ_RCVTIMEO, Int32(100))
                try socket.bind("tcp://127.0.0.1:*")
            } catch {
                bound.fulfil(.failure(error))
                finished.fulfil("\(error)")
                return
            }
            bound.fulfil(.success(socket.lastEndpoint))
            var outcome: String?
            do {
                try script(socket)
            } catch {
                outcome = "\(error)"
            }
            // Keep the socket (and what it queued) until the test releases it, at most 30 s.
            let message = ZMQMessage()
            for _ in 0..<300 where !release.isSet { _ = socket.receive(into: message, wait: true) }
            socket.close()
            finished.fulfil(outcome)
        }
        let endpoint = try await bound.value().get()
        return RawSocketThread(endpoint: endpoint, context: context, release: release, finished: finished)
    }

    /// Releases the socket, waits for the thread, and returns what the script threw, if anything.
    func stop() async -> String? {
        release.set()
        let outcome = await finished.value()
        let context = self.context
        _ = try? await ZMQThread.run(name: "test-term") { context.terminate() }
        return outcome
    }
}

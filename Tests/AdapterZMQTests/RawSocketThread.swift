@testable import AdapterZMQ
import CZMQ

/// A raw libzmq socket of a test, on a thread of its own (libzmq sockets must
/// stay on one thread, and their blocking calls must not hold a Swift
/// concurrency thread): binds, runs a script, and stays open until released.
final class RawSocketThread: Sendable {
    /// Whether the test has released the socket, or has let ``RawSocketThread/limit``
    /// pass without doing so: a script's waits last until then, and no longer.
    struct Release: Sendable {
        fileprivate let flag: SharedFlag
        fileprivate let deadline: ContinuousClock.Instant

        var isSet: Bool { flag.isSet || ContinuousClock.now >= deadline }
    }

    /// How long a socket stays open at most, for a test that never releases it
    /// (one that threw before it could): well past every deadline of the tests.
    static let limit: Duration = .seconds(120)

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
    ///
    /// The script's waits must end when its ``Release`` is set, not after a
    /// count of receive timeouts: its thread starts before the test's node
    /// does, and on a busy machine the node may take many seconds to connect.
    static func start(type: Int32, _ script: @escaping @Sendable (ZMQSocket, Release) throws -> Void) async throws -> RawSocketThread {
        let context = try ZMQContext()
        let bound = ZMQOneShot<Result<String, ZMQError>>()
        let finished = ZMQOneShot<String?>()
        let flag = SharedFlag()
        let release = Release(flag: flag, deadline: .now + limit)
        try ZMQThread.start(name: "test-raw") {
            let socket: ZMQSocket
            do throws(ZMQError) {
                socket = try ZMQSocket(context: context, type: type)
                // Blocking receives give up after 100 ms, so the script's loops look at `release` often.
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
                try script(socket, release)
            } catch {
                outcome = "\(error)"
            }
            // Keep the socket (and what it queued: it lingers for nothing once closed) until released.
            let message = ZMQMessage()
            while !release.isSet { _ = socket.receive(into: message, wait: true) }
            socket.close()
            finished.fulfil(outcome)
        }
        let endpoint = try await bound.value().get()
        return RawSocketThread(endpoint: endpoint, context: context, release: flag, finished: finished)
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

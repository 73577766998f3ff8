import CZMQ
import Foundation
import Synchronization

/// Raw libzmq PUB/SUB over loopback TCP, each socket on a thread of its own:
/// the figures `combo bench zmq` prints beside the adapter's, measured in the
/// same run. Single-frame messages of the payload size, no envelope, no topic.
enum RawZMQBaseline {
    private static func text(_ characters: [CChar]) -> String {
        String(decoding: characters.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// A socket handed to the one other thread that uses it.
    ///
    /// `@unchecked Sendable`: libzmq sockets may move between threads with a
    /// memory barrier (starting a thread is one); the benchmark's threads
    /// never use one socket at the same time.
    private struct Handle: @unchecked Sendable {
        let socket: UnsafeMutableRawPointer
    }

    /// Runs `body` on a thread of its own (it blocks in libzmq) and returns its result.
    static func onThread<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            Thread { continuation.resume(with: Result { try body() }) }.start()
        }
    }

    /// A loopback port that was free a moment ago.
    static func freePort() throws -> Int {
        guard let context = zmq_ctx_new() else { throw ZMQBenchFailure("zmq_ctx_new failed") }
        defer { zmq_ctx_term(context) }
        guard let socket = zmq_socket(context, ZMQ_PUB) else { throw ZMQBenchFailure("zmq_socket failed") }
        defer { zmq_close(socket) }
        guard zmq_bind(socket, "tcp://127.0.0.1:*") == 0 else { throw ZMQBenchFailure("zmq_bind failed") }
        var endpoint = [CChar](repeating: 0, count: 256)
        var size = endpoint.count
        zmq_getsockopt(socket, ZMQ_LAST_ENDPOINT, &endpoint, &size)
        guard let port = text(endpoint).split(separator: ":").last.flatMap({ Int($0) }) else {
            throw ZMQBenchFailure("no port in the bound endpoint")
        }
        return port
    }

    /// The monotonic clock in nanoseconds, the same one both sides of a one-way measurement read.
    static func now() -> UInt64 {
        var spec = timespec()
        clock_gettime(CLOCK_MONOTONIC, &spec)
        return UInt64(spec.tv_sec) * 1_000_000_000 + UInt64(spec.tv_nsec)
    }

    /// A PUB and a SUB connected over loopback with subscriptions in place,
    /// for the duration of `body` (which runs on the calling thread).
    private static func withPair<T>(highWaterMark: Int32, _ body: (_ pub: UnsafeMutableRawPointer, _ sub: UnsafeMutableRawPointer) throws -> T) throws -> T {
        guard let context = zmq_ctx_new() else { throw ZMQBenchFailure("zmq_ctx_new failed") }
        defer { zmq_ctx_term(context) }
        guard let pub = zmq_socket(context, ZMQ_PUB), let sub = zmq_socket(context, ZMQ_SUB) else {
            throw ZMQBenchFailure("zmq_socket failed")
        }
        defer {
            zmq_close(pub)
            zmq_close(sub)
        }
        var zero: Int32 = 0
        var hwm = highWaterMark
        for socket in [pub, sub] {
            zmq_setsockopt(socket, ZMQ_LINGER, &zero, 4)
            zmq_setsockopt(socket, ZMQ_SNDHWM, &hwm, 4)
            zmq_setsockopt(socket, ZMQ_RCVHWM, &hwm, 4)
        }
        guard zmq_bind(pub, "tcp://127.0.0.1:*") == 0 else { throw ZMQBenchFailure("zmq_bind failed") }
        var endpoint = [CChar](repeating: 0, count: 256)
        var size = endpoint.count
        zmq_getsockopt(pub, ZMQ_LAST_ENDPOINT, &endpoint, &size)
        zmq_setsockopt(sub, ZMQ_SUBSCRIBE, "", 0)
        guard zmq_connect(sub, text(endpoint)) == 0 else { throw ZMQBenchFailure("zmq_connect failed") }
        // The slow joiner: publish one-byte probes until the subscriber receives one.
        var timeout: Int32 = 10
        zmq_setsockopt(sub, ZMQ_RCVTIMEO, &timeout, 4)
        var probe: UInt8 = 0
        var buffer = [UInt8](repeating: 0, count: 16)
        for attempt in 0... {
            guard attempt < 1000 else { throw ZMQBenchFailure("the raw subscriber never connected") }
            zmq_send(pub, &probe, 1, ZMQ_DONTWAIT)
            if zmq_recv(sub, &buffer, buffer.count, 0) == 1 { break }
        }
        while zmq_recv(sub, &buffer, buffer.count, ZMQ_DONTWAIT) >= 0 {}
        return try body(pub, sub)
    }

    /// Messages per second from one PUB to one SUB: the publisher sends
    /// `messages` as fast as it can; the clock stops at the last message the
    /// subscriber reads (the high-water mark may drop some: the count is returned).
    static func throughput(messages: Int, payloadSize: Int, highWaterMark: Int32) throws -> (delivered: Int, seconds: Double) {
        try withPair(highWaterMark: highWaterMark) { pub, sub in
            let payload = [UInt8](repeating: 0x61, count: payloadSize)
            let receiver = ReceiverThread(socket: sub, size: payloadSize, expected: messages)
            let start = now()
            receiver.start()
            payload.withUnsafeBytes { bytes in
                for _ in 0..<messages { zmq_send(pub, bytes.baseAddress, bytes.count, 0) }
            }
            let (delivered, last) = receiver.wait()
            return (delivered, Double(last - start) / 1e9)
        }
    }

    /// One-way latencies in nanoseconds: one message at a time, each carrying
    /// its send time, the next sent once the previous one was read.
    static func oneWay(count: Int, payloadSize: Int) throws -> [UInt64] {
        try withPair(highWaterMark: 1000) { pub, sub in
            let delays = Mutex<[UInt64]>([])
            let turn = DispatchSemaphore(value: 0)
            let done = DispatchSemaphore(value: 0)
            let handle = Handle(socket: sub)
            let receiver = Thread {
                let sub = handle.socket
                var buffer = [UInt8](repeating: 0, count: max(payloadSize, 8))
                var timeout: Int32 = 2000
                zmq_setsockopt(sub, ZMQ_RCVTIMEO, &timeout, 4)
                for _ in 0..<count {
                    guard zmq_recv(sub, &buffer, buffer.count, 0) >= 8 else { break }
                    let sent = buffer.withUnsafeBytes { $0.loadUnaligned(as: UInt64.self) }
                    let delay = now() - sent
                    delays.withLock { $0.append(delay) }
                    turn.signal()
                }
                done.signal()
            }
            receiver.start()
            var message = [UInt8](repeating: 0x61, count: max(payloadSize, 8))
            for _ in 0..<count {
                message.withUnsafeMutableBytes { $0.storeBytes(of: now(), as: UInt64.self) }
                zmq_send(pub, &message, message.count, 0)
                guard turn.wait(timeout: .now() + 2) == .success else { break }
            }
            done.wait()
            return delays.withLock { $0 }
        }
    }

    /// The raw subscriber's thread: counts messages of the payload size.
    private final class ReceiverThread: @unchecked Sendable {
        // @unchecked: the socket is used by this thread alone between start() and the
        // end of wait(); the results are read only after `done` is signalled.
        private let socket: UnsafeMutableRawPointer
        private let size: Int
        private let expected: Int
        private let done = DispatchSemaphore(value: 0)
        private var delivered = 0
        private var last: UInt64 = 0

        init(socket: UnsafeMutableRawPointer, size: Int, expected: Int) {
            self.socket = socket
            self.size = size
            self.expected = expected
        }

        func start() {
            Thread { [self] in
                var buffer = [UInt8](repeating: 0, count: size + 1)
                // Delivery is at most once: a second of silence ends the count.
                var timeout: Int32 = 1000
                zmq_setsockopt(socket, ZMQ_RCVTIMEO, &timeout, 4)
                while delivered < expected {
                    let received = zmq_recv(socket, &buffer, buffer.count, 0)
                    if received < 0 { break }
                    if received == size {
                        delivered += 1
                        last = RawZMQBaseline.now()
                    }
                }
                done.signal()
            }.start()
        }

        func wait() -> (Int, UInt64) {
            done.wait()
            return (delivered, last)
        }
    }
}

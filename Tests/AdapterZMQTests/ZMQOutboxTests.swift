@testable import AdapterZMQ
import Combo
import NIOCore
import Synchronization
import Testing

@Suite("ZeroMQ adapter: the lock-free send queue")
struct ZMQOutboxTests {
    @Test("four producers and one consumer thread: nothing lost, nothing twice, each producer's order kept, through a small ring")
    func producersAndConsumer() async throws {
        let outbox = try ZMQOutbox(capacity: 64)
        let producers = 4
        let perProducer = 20_000
        let received = ZMQOneShot<[[Int]]>()
        let stop = SharedFlag()
        // The consumer sleeps in poll(2) on the wakeup whenever the ring is empty, as the publisher thread does.
        try ZMQThread.start(name: "test-consumer") {
            var seen = Array(repeating: [Int](), count: producers)
            var total = 0
            while total < producers * perProducer && !stop.isSet {
                while let item = outbox.dequeue() {
                    let producer = Int(item.target!.rawValue)!
                    seen[producer].append(item.envelope.getInteger(at: 0, as: Int.self)!)
                    total += 1
                }
                guard outbox.prepareToSleep() else { continue }
                var descriptor = pollfd(fd: outbox.wakeup.fileDescriptor, events: Int16(POLLIN), revents: 0)
                _ = poll(&descriptor, 1, 1000)
                outbox.didWake()
            }
            received.fulfil(seen)
        }
        await withTaskGroup(of: Void.self) { group in
            for producer in 0..<producers {
                group.addTask {
                    let target = try! NodeName("\(producer)")
                    for index in 0..<perProducer {
                        var buffer = ByteBuffer()
                        buffer.writeInteger(index)
                        // A full ring refuses without side effects: retry, as the adapter does.
                        while !outbox.enqueue(ZMQOutgoing(envelope: buffer, target: target)) { await Task.yield() }
                    }
                }
            }
        }
        let seen = try await withDeadline(.seconds(60), "the consumer to read everything") { await received.value() }
        stop.set()
        for producer in 0..<producers {
            #expect(seen[producer] == Array(0..<perProducer))
        }
    }

    @Test("a full ring refuses, and accepts again once the consumer takes an item")
    func full() throws {
        let outbox = try ZMQOutbox(capacity: 4)
        let item = ZMQOutgoing(envelope: ByteBuffer(), target: nil)
        for _ in 0..<4 { #expect(outbox.enqueue(item)) }
        #expect(!outbox.enqueue(item))
        #expect(outbox.dequeue() != nil)
        #expect(outbox.enqueue(item))
        #expect(outbox.discardAll() == 4)
        #expect(outbox.dequeue() == nil)
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

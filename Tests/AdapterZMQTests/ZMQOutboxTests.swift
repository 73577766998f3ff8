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
                while let (producer, index) = outbox.dequeue({ bytes, target in
                    (Int(target!.rawValue)!, bytes.loadUnaligned(as: Int.self))
                }) {
                    seen[producer].append(index)
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
                        buffer.writeInteger(index, endianness: .host)
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
        #expect(outbox.dequeue({ _, _ in }) != nil)
        #expect(outbox.enqueue(item))
        #expect(outbox.discardAll() == 4)
        #expect(outbox.dequeue({ _, _ in }) == nil)
    }

    @Test("envelopes up to the inline size are copied into their slot, larger ones shared; every byte and target arrives")
    func inlineAndShared() throws {
        let outbox = try ZMQOutbox(capacity: 8)
        let sizes = [0, 1, ZMQOutbox.inlineBytes - 1, ZMQOutbox.inlineBytes, ZMQOutbox.inlineBytes + 1, 70_000]
        // Three laps of the ring, so that inline bytes are reused by later envelopes.
        for lap in 0..<3 {
            for (index, size) in sizes.enumerated() {
                let fill = UInt8(truncatingIfNeeded: lap * 16 + index)
                let envelope = ByteBuffer(repeating: fill, count: size)
                let target: NodeName? = index.isMultiple(of: 2) ? nil : try NodeName("n\(index)")
                #expect(outbox.enqueue(ZMQOutgoing(envelope: envelope, target: target)))
                let read = outbox.dequeue { bytes, target in (Array(bytes), target) }
                #expect(read?.0 == [UInt8](repeating: fill, count: size))
                #expect(read?.1 == target)
            }
        }
    }

    @Test("a ring too large for the inline budget shares every envelope")
    func beyondBudget() throws {
        let outbox = try ZMQOutbox(capacity: ZMQOutbox.inlineBudget / ZMQOutbox.inlineBytes * 2)
        var envelope = ByteBuffer()
        envelope.writeString("shared")
        #expect(outbox.enqueue(ZMQOutgoing(envelope: envelope, target: nil)))
        #expect(outbox.dequeue { bytes, _ in String(decoding: bytes, as: UTF8.self) } == "shared")
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

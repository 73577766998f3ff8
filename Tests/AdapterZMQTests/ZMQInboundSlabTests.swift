@testable import AdapterZMQ
import NIOCore
import Testing

@Suite("ZeroMQ adapter: a burst's envelopes in one buffer")
struct ZMQInboundSlabTests {
    func append(_ text: String, to slab: inout ZMQInboundSlab) {
        Array(text.utf8).withUnsafeBytes { slab.append($0) }
    }

    @Test("each burst's envelopes come back whole and in order, and stay intact while later bursts are written")
    func burstsStayIntact() {
        let allocator = ByteBufferAllocator()
        var slab = ZMQInboundSlab(allocator: allocator)
        #expect(slab.isEmpty)
        for text in ["first", "", "third envelope"] { append(text, to: &slab) }
        #expect(!slab.isEmpty)
        let first = slab.take(allocator: allocator)
        #expect(slab.isEmpty)
        // A later burst larger than the first buffer: the slab grows, the first burst's slices are untouched.
        let large = String(repeating: "y", count: 10_000)
        for text in ["fourth", large] { append(text, to: &slab) }
        let second = slab.take(allocator: allocator)
        #expect(first.map { String(buffer: $0) } == ["first", "", "third envelope"])
        #expect(second.map { String(buffer: $0) } == ["fourth", large])
        #expect(slab.take(allocator: allocator).isEmpty)
    }

    @Test("the envelopes of one burst share one storage")
    func oneStorage() {
        let allocator = ByteBufferAllocator()
        var slab = ZMQInboundSlab(allocator: allocator)
        for text in ["a", "b", "c"] { append(text, to: &slab) }
        let envelopes = slab.take(allocator: allocator)
        let bases = envelopes.map { $0.withUnsafeReadableBytes { UInt(bitPattern: $0.baseAddress) } }
        #expect(bases[1] == bases[0] + 1 && bases[2] == bases[0] + 2)
    }
}
